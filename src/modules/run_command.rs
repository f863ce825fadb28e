//! What command, shell and script share: `creates`/`removes` guards checked in the same round
//! trip as the command itself, check mode as Ansible's command module defines it, and a result
//! shaped like Ansible's (`cmd`, `rc`, `stdout`, `stderr`, `delta`, `msg`).

use std::time::Instant;

use serde_json::Value;

use super::{ModuleArgs, ModuleCtx, ModuleError};
use crate::connection::Command;
use crate::connection::quote::quote;
use crate::event::{Status, TaskResult};

/// Skip the command when a path exists (`creates`) or is missing (`removes`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Guard {
    pub creates: Option<String>,
    pub removes: Option<String>,
}

impl Guard {
    pub fn from_args(args: &ModuleArgs, module: &str) -> Result<Guard, ModuleError> {
        Ok(Guard { creates: args.str(module, "creates")?, removes: args.str(module, "removes")? })
    }

    fn is_set(&self) -> bool {
        self.creates.is_some() || self.removes.is_some()
    }

    /// A shell test that succeeds when the command must be skipped, with Ansible's message.
    fn skip_test(&self) -> Vec<(String, String)> {
        let mut tests = Vec::new();
        if let Some(p) = &self.creates {
            tests.push((format!("[ -e {} ]", quote(p)), format!("Did not run command since '{p}' exists")));
        }
        if let Some(p) = &self.removes {
            tests.push((
                format!("[ ! -e {} ]", quote(p)),
                format!("Did not run command since '{p}' does not exist"),
            ));
        }
        tests
    }
}

/// A command ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandSpec {
    /// The shell line run on the host.
    pub line: String,
    /// What the result's `cmd` shows (argv list for command, the text for shell).
    pub shown: Value,
    pub chdir: Option<String>,
    pub guard: Guard,
    pub stdin: Option<Vec<u8>>,
    pub strip_empty_ends: bool,
    /// Running it counts as a change (command/shell/raw always do, as in Ansible).
    pub always_changed: bool,
}

/// The exit code a guard uses to say "skipped"; chosen outside what shells use for signals.
const SKIP_RC: i32 = 97;
const SKIP_MARK: &str = "__baton_guard_skip__";

/// Runs the command (or decides to skip it) in one round trip.
pub async fn run_spec(
    ctx: &ModuleCtx<'_>,
    spec: &CommandSpec,
    started: Instant,
) -> Result<TaskResult, ModuleError> {
    let tests = spec.guard.skip_test();
    if ctx.check_mode && !spec.guard.is_set() {
        // Ansible's result keeps empty stdout/stderr, so `result.stdout` stays usable.
        let mut r = TaskResult::new(Status::Skipped);
        r.msg = Some("Command would have run if not in check mode".into());
        r.rc = Some(0);
        r.stdout = Some(String::new());
        r.stderr = Some(String::new());
        return Ok(r);
    }
    let mut line = String::new();
    // As in Ansible, `chdir` comes first, so a relative `creates`/`removes` is relative to it.
    if let Some(dir) = &spec.chdir {
        line.push_str(&format!("cd {} || exit 1; ", quote(dir)));
    }
    for (i, (test, _)) in tests.iter().enumerate() {
        line.push_str(&format!("if {test}; then echo {SKIP_MARK}{i} >&2; exit {SKIP_RC}; fi; "));
    }
    if ctx.check_mode {
        line.push_str("exit 0");
    } else {
        line.push_str(&spec.line);
    }
    let out = ctx.exec_with(Command { cmd: line, stdin: spec.stdin.clone(), ..Command::default() }).await?;
    let stderr = out.stderr_str();
    if out.rc == Some(SKIP_RC)
        && let Some(i) =
            tests.iter().enumerate().position(|(i, _)| stderr.trim_end() == format!("{SKIP_MARK}{i}"))
    {
        let msg = tests[i].1.clone();
        let mut r = TaskResult::new(Status::Ok);
        r.rc = Some(0);
        r.stdout = Some(format!("skipped, since {}", msg.trim_start_matches("Did not run command since ")));
        r.stderr = Some(String::new());
        r.msg = Some(msg);
        r.data.insert("cmd".into(), spec.shown.clone());
        return Ok(r);
    }
    if ctx.check_mode {
        let mut r = TaskResult::new(Status::Changed);
        r.rc = Some(0);
        r.msg = Some("Command would have run if not in check mode".into());
        return Ok(r);
    }
    let mut stdout = out.stdout_str();
    let mut stderr = stderr;
    if spec.strip_empty_ends {
        stdout.truncate(stdout.trim_end_matches(['\n', '\r']).len());
        stderr.truncate(stderr.trim_end_matches(['\n', '\r']).len());
    }
    let failed = !out.success();
    let mut r = TaskResult::new(match (failed, spec.always_changed) {
        (true, _) => Status::Failed,
        (false, true) => Status::Changed,
        (false, false) => Status::Ok,
    });
    r.rc = Some(out.rc.unwrap_or(-1));
    r.stdout = Some(stdout);
    r.stderr = Some(stderr);
    r.msg = Some(match (&out.signal, failed) {
        (Some(sig), _) => format!("command killed by signal {sig}"),
        (None, true) => "non-zero return code".into(),
        (None, false) => String::new(),
    });
    r.data.insert("cmd".into(), spec.shown.clone());
    r.data.insert("delta".into(), Value::String(delta(started)));
    if failed && spec.always_changed {
        // Ansible's command reports `changed` even when the command fails, which counts when
        // the failure is ignored.
        r.data.insert("changed".into(), Value::Bool(true));
    }
    Ok(r)
}

/// Elapsed time as Ansible prints it (`0:00:00.012345`).
pub fn delta(started: Instant) -> String {
    let d = started.elapsed();
    let secs = d.as_secs();
    format!("{}:{:02}:{:02}.{:06}", secs / 3600, (secs / 60) % 60, secs % 60, d.subsec_micros())
}
