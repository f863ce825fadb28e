//! The changes a stateful module decided on, separated from carrying them out.
//!
//! A module reads the host's current state (its facts, usually with one command), then a pure
//! function turns (params, state) into a [`Plan`]. An empty plan means `ok`; check mode stops
//! at the plan (reporting `changed` without touching the host); diff mode shows the plan's
//! before/after. Only a non-empty plan outside check mode is applied, step by step.

use serde_json::{Value, json};

use super::{ModuleCtx, ModuleError};
use crate::connection::{PutOptions, PutSource};
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
    /// when asked for. `data` carries the module's own result keys.
    pub async fn apply(
        self,
        ctx: &ModuleCtx<'_>,
        data: serde_json::Map<String, Value>,
    ) -> Result<TaskResult, ModuleError> {
        let result = self.result(ctx, data);
        if ctx.check_mode {
            return Ok(result);
        }
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

    /// Like [`Plan::apply`], and when every step is a shell line, runs them and then `then` (a
    /// read-back of the new state) in ONE round trip; the second value is `then`'s stdout.
    /// It is `None` when nothing ran, in check mode, or when the plan uploads a file (the
    /// caller reads back itself if it needs to).
    pub async fn apply_then(
        self,
        ctx: &ModuleCtx<'_>,
        data: serde_json::Map<String, Value>,
        then: &str,
    ) -> Result<(TaskResult, Option<Vec<u8>>), ModuleError> {
        let only_exec = self.steps.iter().all(|s| matches!(s, Step::Exec { .. }));
        if ctx.check_mode || self.is_empty() || !only_exec {
            return Ok((self.apply(ctx, data).await?, None));
        }
        let result = self.result(ctx, data);
        let mut line = String::new();
        let mut whats = Vec::new();
        for (i, step) in self.steps.into_iter().enumerate() {
            if let Step::Exec { what, cmd } = step {
                // The steps' own output goes to stderr: stdout is the read-back's.
                line.push_str(&format!("{{ {cmd}\n}} >&2 || {{ echo {STEP_FAILED}{i} >&2; exit 1; }}\n"));
                whats.push(what);
            }
        }
        line.push_str(then);
        let out = ctx.exec(line).await?;
        if !out.success() {
            let stderr = out.stderr_str();
            let failed_step = stderr
                .lines()
                .find_map(|l| l.strip_prefix(STEP_FAILED).and_then(|i| i.trim().parse::<usize>().ok()));
            let Some(i) = failed_step else {
                // The steps went through; only the read-back failed.
                return Ok((result, None));
            };
            let why: Vec<&str> = stderr.lines().filter(|l| !l.starts_with(STEP_FAILED)).collect();
            let what = whats.get(i).map_or("a change", String::as_str);
            let mut failed = TaskResult::failed(format!("{what} failed: {}", why.join("\n").trim()));
            failed.rc = out.rc;
            return Ok((failed, None));
        }
        Ok((result, Some(out.stdout)))
    }
}

/// Marks, on stderr, which step of a combined command failed.
const STEP_FAILED: &str = "__baton_step_failed__";
