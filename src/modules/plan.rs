//! The changes a stateful module decided on, separated from carrying them out.
//!
//! A module reads the host's current state (its facts, usually with one command), then a pure
//! function turns (params, state) into a [`Plan`]. An empty plan means `ok`; check mode stops
//! at the plan (reporting `changed` without touching the host); diff mode shows the plan's
//! before/after. Only a non-empty plan outside check mode is applied, step by step.

use serde_json::{Value, json};

use super::{ModuleCtx, ModuleError};
use crate::connection::{Command, PutOptions, PutSource, stdin_put_script};
use crate::event::{Status, TaskResult};

/// One change to make on the host.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Run a shell line; a non-zero exit fails the task with `what` in the message.
    Exec { what: String, cmd: String },
    /// Write a file atomically (temp file + rename), with attributes set before the rename.
    Put { dest: String, content: Vec<u8>, mode: Option<u32>, owner: Option<String>, group: Option<String> },
}

/// Before/after of what the plan changes, as Ansible's `--diff` shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diff {
    pub before_header: Option<String>,
    pub after_header: Option<String>,
    pub before: String,
    pub after: String,
}

impl Diff {
    pub fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("before".into(), self.before.clone().into());
        m.insert("after".into(), self.after.clone().into());
        if let Some(h) = &self.before_header {
            m.insert("before_header".into(), h.clone().into());
        }
        if let Some(h) = &self.after_header {
            m.insert("after_header".into(), h.clone().into());
        }
        Value::Object(m)
    }
}

/// What a module decided to do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub diffs: Vec<Diff>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn exec(&mut self, what: impl Into<String>, cmd: impl Into<String>) {
        self.steps.push(Step::Exec { what: what.into(), cmd: cmd.into() });
    }

    /// Applies the plan (unless in check mode) and returns the task's result, with the diff
    /// when asked for. `data` carries the module's own result keys. The whole plan is one
    /// command on the host (see [`Plan::apply_then`]).
    pub async fn apply(
        self,
        ctx: &ModuleCtx<'_>,
        data: serde_json::Map<String, Value>,
    ) -> Result<TaskResult, ModuleError> {
        Ok(self.apply_then(ctx, data, "").await?.0)
    }

    /// The task's result before anything runs: `changed` when there are steps, the diff when
    /// asked for, and the module's own keys.
    fn result(&self, ctx: &ModuleCtx<'_>, data: serde_json::Map<String, Value>) -> TaskResult {
        let mut result = TaskResult::new(if self.is_empty() { Status::Ok } else { Status::Changed });
        result.data = data;
        if ctx.diff && !self.diffs.is_empty() {
            let diffs: Vec<Value> = self.diffs.iter().map(Diff::to_json).collect();
            result.data.insert("diff".into(), if diffs.len() == 1 { diffs[0].clone() } else { json!(diffs) });
        }
        result
    }

    /// Applies the plan (unless in check mode) and then runs `then` (a read-back of the new
    /// state, or nothing) in ONE round trip: each command the host runs is a new channel, a
    /// new process tree and, with become, a new sudo, so a plan of several steps costs what
    /// one does. The second value is `then`'s stdout; `None` when nothing ran or in check mode.
    ///
    /// Each step runs in a subshell of its own (its `exit`, `set -e` or `cd` stays its own) with
    /// its output on stderr, so stdout is the read-back's. One file upload rides along on the
    /// command's stdin ([`stdin_put_script`]); a plan with more than one goes step by step.
    pub async fn apply_then(
        self,
        ctx: &ModuleCtx<'_>,
        data: serde_json::Map<String, Value>,
        then: &str,
    ) -> Result<(TaskResult, Option<Vec<u8>>), ModuleError> {
        let result = self.result(ctx, data);
        if ctx.check_mode || self.is_empty() {
            return Ok((result, None));
        }
        if self.uploads() > 1 {
            return Ok((self.apply_step_by_step(ctx, result).await?, None));
        }
        let script = self.script(then);
        let out =
            ctx.exec_with(Command { cmd: script.line, stdin: script.stdin, ..Command::default() }).await?;
        let stderr = out.stderr_str();
        Ok(outcome(result, out.success(), out.stdout, &stderr, &script.whats))
    }

    fn uploads(&self) -> usize {
        self.steps.iter().filter(|s| matches!(s, Step::Put { .. })).count()
    }

    /// The plan as one shell script, followed by `then`.
    fn script(self, then: &str) -> Script {
        let mut line = String::new();
        let mut whats = Vec::new();
        let mut stdin = None;
        for (i, step) in self.steps.into_iter().enumerate() {
            let (what, cmd, input) = match step {
                Step::Exec { what, cmd } => (what, cmd, "</dev/null"),
                Step::Put { dest, content, mode, owner, group } => {
                    let opts = PutOptions { mode, owner, group, r#become: None };
                    stdin = Some(content);
                    (format!("writing {dest}"), stdin_put_script(&dest, &opts), "")
                }
            };
            line.push_str(&format!(
                "echo {STEP_BEGIN}{i} >&2\n( {cmd}\n) {input} >&2 || {{ echo {STEP_FAILED}{i}:$? >&2; exit 1; }}\n"
            ));
            whats.push(what);
        }
        line.push_str(then);
        Script { line, stdin, whats }
    }

    /// One command per step, for plans a single command cannot carry (several uploads).
    async fn apply_step_by_step(
        self,
        ctx: &ModuleCtx<'_>,
        result: TaskResult,
    ) -> Result<TaskResult, ModuleError> {
        for step in self.steps {
            match step {
                Step::Exec { what, cmd } => {
                    let out = ctx.exec(cmd).await?;
                    if !out.success() {
                        let mut failed =
                            TaskResult::failed(format!("{what} failed: {}", out.stderr_str().trim()));
                        failed.rc = out.rc;
                        return Ok(failed);
                    }
                }
                Step::Put { dest, content, mode, owner, group } => {
                    let opts = PutOptions { mode, owner, group, r#become: ctx.r#become.clone() };
                    ctx.conn.put(PutSource::Bytes(content), &dest, &opts).await?;
                }
            }
        }
        Ok(result)
    }
}

/// A plan as one shell script: the line, the upload it carries on stdin, and what each step
/// does (for the failure message).
struct Script {
    line: String,
    stdin: Option<Vec<u8>>,
    whats: Vec<String>,
}

/// The task's result from what a plan's script left: the failed step's message, or success
/// with the read-back's output (`None` when the read-back itself failed).
fn outcome(
    result: TaskResult,
    success: bool,
    stdout: Vec<u8>,
    stderr: &str,
    whats: &[String],
) -> (TaskResult, Option<Vec<u8>>) {
    if success {
        return (result, Some(stdout));
    }
    let Some((i, rc, why)) = failed_step(stderr) else {
        // The steps went through; only the read-back failed.
        return (result, None);
    };
    let what = whats.get(i).map_or("a change", String::as_str);
    let mut failed = TaskResult::failed(format!("{what} failed: {why}"));
    failed.rc = rc;
    (failed, None)
}

/// One item of [`apply_all`]: its plan, its result keys and its read-back script.
pub struct Item {
    pub plan: Plan,
    pub data: serde_json::Map<String, Value>,
    pub then: String,
}

/// Applies the plans of a whole loop (one per item) in ONE command, each item in a subshell of
/// its own so that a failing item stops only itself, as separate tasks would; returns each
/// item's result and read-back, in order. With more than one upload among them, each plan is
/// applied on its own.
///
/// When the items go out together, `shared.prelude` runs first: work the items share done in
/// one process (one `mkdir` for every directory) that each item's own steps then find done;
/// its output and failure are ignored (an item whose part failed fails in its own steps).
/// `shared.then`, when given, replaces every item's own read-back: it runs once after all
/// items, and each item that went through gets its whole output. [`Applied::shared`] says
/// which kind of read-back the items got.
pub async fn apply_all(
    ctx: &ModuleCtx<'_>,
    items: Vec<Item>,
    shared: &Shared,
) -> Result<Applied, ModuleError> {
    let busy = items.iter().filter(|it| !it.plan.is_empty()).count();
    let uploads: usize = items.iter().map(|it| it.plan.uploads()).sum();
    if ctx.check_mode || busy < 2 || uploads > 1 {
        let mut out = Vec::with_capacity(items.len());
        for it in items {
            out.push(it.plan.apply_then(ctx, it.data, &it.then).await?);
        }
        return Ok(Applied { items: out, shared: false });
    }
    let prelude = &shared.prelude;
    let mut line = String::new();
    if !prelude.is_empty() {
        line.push_str(&format!("{{ {prelude}\n}} </dev/null >/dev/null 2>&1 || :\n"));
    }
    let mut stdin = None;
    let mut pending = Vec::with_capacity(items.len());
    for (k, it) in items.into_iter().enumerate() {
        let result = it.plan.result(ctx, it.data);
        if it.plan.is_empty() {
            pending.push((result, None));
            continue;
        }
        let script = it.plan.script(if shared.then.is_empty() { &it.then } else { "" });
        if script.stdin.is_some() {
            stdin = script.stdin;
        }
        line.push_str(&format!(
            "echo {ITEM_BEGIN}{k}; echo {ITEM_BEGIN}{k} >&2\n(\n{}\n); echo \"{ITEM_END}{k}:$?\"\n",
            script.line
        ));
        pending.push((result, Some(script.whats)));
    }
    if !shared.then.is_empty() {
        line.push_str(&format!("echo {SHARED_THEN}\n{}\n", shared.then));
    }
    let out = ctx.exec_with(Command { cmd: line, stdin, ..Command::default() }).await?;
    let stderr = out.stderr_str();
    let mark = format!("{SHARED_THEN}\n");
    let shared_out = (!shared.then.is_empty())
        .then(|| out.stdout.windows(mark.len()).rposition(|w| w == mark.as_bytes()))
        .flatten()
        .map(|at| out.stdout[at + mark.len()..].to_vec());
    let mut results = Vec::with_capacity(pending.len());
    for (k, (result, whats)) in pending.into_iter().enumerate() {
        let Some(whats) = whats else {
            results.push((result, None));
            continue;
        };
        let (rc, stdout) = item_stdout(&out.stdout, k);
        let err = item_stderr(&stderr, k);
        let (result, after) = outcome(result, rc == Some(0), stdout, &err, &whats);
        let after = if shared.then.is_empty() { after } else { after.and(shared_out.clone()) };
        results.push((result, after));
    }
    Ok(Applied { items: results, shared: !shared.then.is_empty() })
}

/// What a loop's items share when [`apply_all`] sends them together.
#[derive(Debug, Default)]
pub struct Shared {
    pub prelude: String,
    pub then: String,
}

/// [`apply_all`]'s answer: each item's result and read-back, in order; `shared` when the
/// read-backs are [`Shared::then`]'s output rather than each item's own `then`.
pub struct Applied {
    pub items: Vec<(TaskResult, Option<Vec<u8>>)>,
    pub shared: bool,
}

/// Marks where [`Shared::then`]'s output starts.
const SHARED_THEN: &str = "__baton_shared_then__";

/// Item `k`'s stdout in [`apply_all`]'s output, and its subshell's exit status (`None` when
/// the command ended before it).
fn item_stdout(out: &[u8], k: usize) -> (Option<i32>, Vec<u8>) {
    let begin = format!("{ITEM_BEGIN}{k}\n");
    let end = format!("{ITEM_END}{k}:");
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let Some(b) = find(out, begin.as_bytes()) else {
        return (None, Vec::new());
    };
    let body = &out[b + begin.len()..];
    let Some(e) = find(body, end.as_bytes()) else {
        return (None, body.to_vec());
    };
    let tail = &body[e + end.len()..];
    let rc_text: Vec<u8> = tail.iter().copied().take_while(u8::is_ascii_digit).collect();
    let rc = String::from_utf8_lossy(&rc_text).parse().ok();
    (rc, body[..e].to_vec())
}

/// Item `k`'s stderr lines in [`apply_all`]'s output.
fn item_stderr(err: &str, k: usize) -> String {
    let begin = format!("{ITEM_BEGIN}{k}");
    let lines: Vec<&str> =
        err.lines().skip_while(|l| *l != begin).skip(1).take_while(|l| !l.starts_with(ITEM_BEGIN)).collect();
    lines.join("\n")
}

/// Mark where each item of [`apply_all`] starts (on both streams) and ends (with its status).
const ITEM_BEGIN: &str = "__baton_item__";
const ITEM_END: &str = "__baton_item_end__";

/// Which step of a combined command failed, its exit status, and what it printed on stderr.
fn failed_step(stderr: &str) -> Option<(usize, Option<i32>, String)> {
    let (i, rc) = stderr.lines().find_map(|l| {
        let rest = l.strip_prefix(STEP_FAILED)?;
        let (i, rc) = rest.split_once(':')?;
        Some((i.trim().parse::<usize>().ok()?, rc.trim().parse::<i32>().ok()))
    })?;
    let begin = format!("{STEP_BEGIN}{i}");
    let why: Vec<&str> = stderr
        .lines()
        .skip_while(|l| l.trim() != begin)
        .skip(1)
        .take_while(|l| !l.starts_with(STEP_FAILED))
        .collect();
    Some((i, rc, why.join("\n").trim().to_string()))
}

/// Marks, on stderr, where each step of a combined command starts.
const STEP_BEGIN: &str = "__baton_step__";
/// Marks, on stderr, which step of a combined command failed.
const STEP_FAILED: &str = "__baton_step_failed__";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failed_step_is_found_with_its_status_and_its_own_stderr() {
        let stderr = "__baton_step__0\nwarning from step 0\n__baton_step__1\nmv: cannot move\n\
                      __baton_step_failed__1:2\n";
        assert_eq!(failed_step(stderr), Some((1, Some(2), "mv: cannot move".to_string())));
        assert_eq!(failed_step("__baton_step__0\nall fine\n"), None);
    }

    #[test]
    fn each_item_gets_its_own_output_and_status() {
        let out =
            b"__baton_item__0\nread\0back\0__baton_item_end__0:0\n__baton_item__2\n__baton_item_end__2:1\n";
        assert_eq!(item_stdout(out, 0), (Some(0), b"read\0back\0".to_vec()));
        assert_eq!(item_stdout(out, 2), (Some(1), Vec::new()));
        assert_eq!(item_stdout(out, 1), (None, Vec::new()));
        let err = "__baton_item__0\n__baton_step__0\n__baton_item__2\n__baton_step__0\nno\n__baton_step_failed__0:1\n";
        assert_eq!(item_stderr(err, 2), "__baton_step__0\nno\n__baton_step_failed__0:1");
        assert_eq!(failed_step(&item_stderr(err, 2)), Some((0, Some(1), "no".to_string())));
    }
}
