//! Custom modules: any executable that speaks Ansible's WANT_JSON protocol. Baton uploads it
//! to a private temp file on the host, writes the task's arguments as a JSON file beside it,
//! runs `MODULE ARGSFILE`, and reads one JSON object from stdout: `changed`, `failed`, `msg`,
//! `rc` and any other keys, which become the task's result. Both files are removed after.
//!
//! Where they are found: [`crate::playbook::library`].

use std::path::Path;

use serde_json::{Map, Value};

use super::{ModuleCtx, ModuleError};
use crate::connection::quote::quote;
use crate::connection::{PutOptions, PutSource};
use crate::event::{Status, TaskResult};

/// Turns a module's JSON answer into a result.
pub fn result_from(stdout: &str, stderr: &str, rc: Option<i32>, name: &str) -> TaskResult {
    let text = stdout.trim();
    // Modules may print noise before their JSON: the answer is the last line that parses.
    let parsed = text.lines().rev().find_map(|l| serde_json::from_str::<Map<String, Value>>(l.trim()).ok());
    let parsed = parsed.or_else(|| serde_json::from_str::<Map<String, Value>>(text).ok());
    let Some(mut data) = parsed else {
        let head: Vec<&str> = text.lines().take(5).collect();
        let mut r = TaskResult::failed(format!(
            "module `{name}` did not answer with JSON (exit {}): {}{}",
            rc.map_or("by signal".into(), |c| c.to_string()),
            head.join(" | "),
            if stderr.trim().is_empty() { String::new() } else { format!(" (stderr: {})", stderr.trim()) }
        ));
        r.rc = rc;
        return r;
    };
    let truthy = |v: Option<Value>| match v {
        Some(Value::Bool(b)) => b,
        Some(Value::String(s)) => super::args::parse_bool(&s).unwrap_or(false),
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0) != 0,
        _ => false,
    };
    let failed = truthy(data.remove("failed")) || rc.is_some_and(|c| c != 0);
    let changed = truthy(data.remove("changed"));
    let skipped = truthy(data.remove("skipped"));
    let mut r = TaskResult::new(if failed {
        Status::Failed
    } else if skipped {
        Status::Skipped
    } else if changed {
        Status::Changed
    } else {
        Status::Ok
    });
    if let Some(Value::String(m)) = data.remove("msg") {
        r.msg = Some(m);
    }
    if failed && r.msg.is_none() {
        r.msg = Some(format!("module `{name}` failed"));
    }
    if let Some(Value::Number(n)) = data.remove("rc") {
        r.rc = n.as_i64().map(|n| n as i32);
    }
    for key in ["stdout", "stderr"] {
        if let Some(Value::String(s)) = data.remove(key) {
            if key == "stdout" {
                r.stdout = Some(s);
            } else {
                r.stderr = Some(s);
            }
        }
    }
    r.data = data;
    r
}

/// Runs the executable at `path` (on the controller) on the host with `args`.
pub async fn run(
    ctx: &ModuleCtx<'_>,
    path: &Path,
    args: Map<String, Value>,
) -> Result<TaskResult, ModuleError> {
    let name = path.file_name().map_or_else(|| "module".into(), |n| n.to_string_lossy().into_owned());
    let dir = ctx.exec("mktemp -d \"${TMPDIR:-/tmp}/.baton-module-XXXXXX\"").await?;
    if !dir.success() {
        return Ok(TaskResult::failed(format!(
            "cannot make a temp dir on the host: {}",
            dir.stderr_str().trim()
        )));
    }
    let dir = dir.stdout_str().trim().to_string();
    let remote = format!("{dir}/{name}");
    let args_file = format!("{dir}/args");
    let opts = PutOptions { mode: Some(0o700), r#become: ctx.r#become.clone(), ..PutOptions::default() };
    let mut args = args;
    args.insert("_ansible_check_mode".into(), Value::Bool(ctx.check_mode));
    args.insert("_ansible_diff".into(), Value::Bool(ctx.diff));
    let uploaded = async {
        ctx.conn.put(PutSource::File(path.to_path_buf()), &remote, &opts).await?;
        let json = Value::Object(args).to_string().into_bytes();
        ctx.conn
            .put(PutSource::Bytes(json), &args_file, &PutOptions { mode: Some(0o600), ..opts.clone() })
            .await
    }
    .await;
    let outcome = match uploaded {
        Ok(()) => Some(ctx.exec(format!("{} {}", quote(&remote), quote(&args_file))).await),
        Err(e) => {
            let _ = ctx.exec(format!("rm -rf {}", quote(&dir))).await;
            return Ok(TaskResult::failed(format!("cannot upload module `{name}`: {e}")));
        }
    };
    let _ = ctx.exec(format!("rm -rf {}", quote(&dir))).await;
    let out = match outcome {
        Some(Ok(out)) => out,
        Some(Err(e)) => return Err(e.into()),
        None => return Ok(TaskResult::failed("module did not run")),
    };
    Ok(result_from(&out.stdout_str(), &out.stderr_str(), out.rc, &name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_become_results() {
        let r = result_from("{\"changed\": true, \"msg\": \"done\", \"path\": \"/x\"}\n", "", Some(0), "m");
        assert_eq!(r.status, Status::Changed);
        assert_eq!(r.msg.as_deref(), Some("done"));
        assert_eq!(r.data["path"], "/x");
        let r = result_from("noise\n{\"failed\": true, \"msg\": \"no\"}", "", Some(0), "m");
        assert_eq!((r.status, r.msg.as_deref()), (Status::Failed, Some("no")));
        let r = result_from("{}", "", Some(0), "m");
        assert_eq!(r.status, Status::Ok);
    }

    #[test]
    fn a_non_json_answer_is_a_clear_failure() {
        let r = result_from("Traceback\nline 2", "boom", Some(1), "mymod");
        assert_eq!(r.status, Status::Failed);
        let msg = r.msg.unwrap();
        assert!(
            msg.contains("module `mymod` did not answer with JSON (exit 1): Traceback | line 2"),
            "{msg}"
        );
        assert!(msg.contains("boom"));
    }
}
