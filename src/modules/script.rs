//! `script`: runs a script from the controller on the host, as Ansible's script module does.
//! The file is uploaded to a private temp dir on the host (mode 0700), run there with its
//! arguments, and removed whatever happened.
//!
//! ```yaml
//! - script: scripts/setup.sh --fast creates=/etc/app/ready
//! - script:
//!     cmd: scripts/report.py --all
//!     executable: python3
//!     chdir: /srv/app
//! ```
//!
//! `creates`/`removes` are checked on the host before the script runs (and make check mode
//! able to predict); without them check mode skips the task, as Ansible does.

use std::path::PathBuf;
use std::time::Instant;

use serde_json::Value;

use super::run_command::{CommandSpec, Guard, run_spec};
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError, SearchKind, args::RAW_PARAMS};
use crate::connection::quote::quote;
use crate::connection::{PutOptions, PutSource};
use crate::event::TaskResult;

pub static MODULE: ModuleDef = ModuleDef {
    name: "script",
    free_form: true,
    params: &["chdir", "cmd", "creates", "decrypt", "executable", "removes"],
    run: crate::module_entry!(run),
    run_loop: None,
};

/// What the task asks for: the script's name on the controller and how to run it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub script: String,
    pub args: Vec<String>,
    /// The command text as written, for the result's `cmd`.
    pub text: String,
    pub executable: Option<String>,
    pub chdir: Option<String>,
    pub guard: Guard,
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let text = args.str(m, RAW_PARAMS)?.or(args.str(m, "cmd")?).ok_or_else(|| bad("no script given"))?;
        let mut words = shlex::split(&text)
            .ok_or_else(|| bad(&format!("cannot split `{text}` into arguments (unbalanced quotes?)")))?
            .into_iter();
        let script = words.next().ok_or_else(|| bad("no script given"))?;
        Ok(Params {
            script,
            args: words.collect(),
            text,
            executable: args.str(m, "executable")?,
            chdir: args.str(m, "chdir")?,
            guard: Guard::from_args(args, m)?,
        })
    }

    /// The line that runs the uploaded copy at `remote`.
    pub fn line(&self, remote: &str) -> String {
        let mut words = Vec::new();
        if let Some(exe) = &self.executable {
            words.push(quote(exe).into_owned());
        }
        words.push(quote(remote).into_owned());
        words.extend(self.args.iter().map(|a| quote(a).into_owned()));
        words.join(" ")
    }

    /// The command without the upload, for check mode and guard skips.
    fn spec(&self, line: String) -> CommandSpec {
        CommandSpec {
            line,
            shown: Value::String(self.text.clone()),
            chdir: self.chdir.clone(),
            guard: self.guard.clone(),
            stdin: None,
            // Ansible's script returns the output as the script wrote it.
            strip_empty_ends: false,
            always_changed: true,
        }
    }
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    let started = Instant::now();
    let local: PathBuf = match ctx.controller.find(SearchKind::Files, &p.script) {
        Ok(path) => path,
        Err(e) => return Ok(TaskResult::failed(format!("could not find or access `{}`: {e}", p.script))),
    };
    if !local.is_file() {
        return Ok(TaskResult::failed(format!("`{}` is not a file on the controller", local.display())));
    }
    if ctx.check_mode {
        // Nothing is uploaded: the guards (if any) are tested, the script is not run.
        return run_spec(ctx, &p.spec(String::new()), started).await;
    }
    let dir = ctx.exec("mktemp -d \"${TMPDIR:-/tmp}/.baton-script-XXXXXX\"").await?;
    if !dir.success() {
        return Ok(TaskResult::failed(format!(
            "cannot make a temp dir on the host: {}",
            dir.stderr_str().trim()
        )));
    }
    let dir = dir.stdout_str().trim().to_string();
    let name = local.file_name().map_or_else(|| "script".into(), |n| n.to_string_lossy().into_owned());
    let remote = format!("{dir}/{name}");
    let opts = PutOptions { mode: Some(0o700), r#become: ctx.r#become.clone(), ..PutOptions::default() };
    let outcome = match ctx.conn.put(PutSource::File(local.clone()), &remote, &opts).await {
        Ok(()) => run_spec(ctx, &p.spec(p.line(&remote)), started).await,
        Err(e) => Ok(TaskResult::failed(format!("cannot upload `{}`: {e}", local.display()))),
    };
    let _ = ctx.exec(format!("rm -rf {}", quote(&dir))).await;
    outcome
}

fn bad(message: &str) -> ModuleError {
    ModuleError::BadArgs { module: MODULE.name.to_string(), message: message.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(text: &str) -> Result<Params, ModuleError> {
        Params::parse(&ModuleArgs::parse_kv(&MODULE, text)?)
    }

    #[test]
    fn free_form_splits_script_and_arguments() {
        let p = params("scripts/a.sh --x 'a b' creates=/tmp/x").unwrap();
        assert_eq!(p.script, "scripts/a.sh");
        assert_eq!(p.args, vec!["--x", "a b"]);
        assert_eq!(p.guard.creates.as_deref(), Some("/tmp/x"));
        assert_eq!(p.line("/tmp/d/a.sh"), "/tmp/d/a.sh --x 'a b'");
    }

    #[test]
    fn executable_runs_the_script() {
        let p = params("r.py 1 executable=python3").unwrap();
        assert_eq!(p.line("/t/r.py"), "python3 /t/r.py 1");
    }

    #[test]
    fn arguments_are_quoted() {
        let p = params("a.sh '$(id)' ';'").unwrap();
        assert_eq!(p.line("/t/a.sh"), "/t/a.sh '$(id)' ';'");
    }

    #[test]
    fn cmd_is_the_same_as_free_form() {
        let mut args = ModuleArgs::default();
        args.0.insert("cmd".into(), Value::String("b.sh x".into()));
        args.0.insert("chdir".into(), Value::String("/srv".into()));
        let p = Params::parse(&args).unwrap();
        assert_eq!((p.script.as_str(), p.chdir.as_deref()), ("b.sh", Some("/srv")));
    }

    #[test]
    fn missing_script_and_bad_quotes_are_errors() {
        assert!(params("creates=/x").is_err());
        assert!(params("a.sh 'x").is_err());
    }

    #[test]
    fn output_is_kept_as_written() {
        let p = params("a.sh").unwrap();
        let spec = p.spec(p.line("/t/a.sh"));
        assert!(!spec.strip_empty_ends && spec.always_changed);
        assert_eq!(spec.shown, Value::String("a.sh".into()));
    }
}
