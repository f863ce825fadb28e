//! `tempfile`: creates a uniquely named file or directory on the host and returns its path,
//! as Ansible's tempfile does (always `changed`; check mode is not supported, as in Ansible).
//!
//! ```yaml
//! - tempfile: state=directory suffix=.build
//!   register: build_dir
//! - tempfile: path=/var/tmp prefix=upload.
//! ```
//!
//! `mktemp` creates it and the same line reports its attributes (one round trip). Without
//! `path`, `mktemp` uses the host's `$TMPDIR` or `/tmp`.

use super::fileinfo::{self, FileInfo};
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::quote;
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "tempfile",
    free_form: false,
    params: &["path", "prefix", "state", "suffix"],
    run: crate::module_entry!(run),
    run_loop: None,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub directory: bool,
    pub path: Option<String>,
    pub prefix: String,
    pub suffix: String,
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let directory = match args.str(m, "state")?.as_deref() {
            None | Some("file") => false,
            Some("directory") => true,
            Some(other) => {
                return Err(ModuleError::BadArgs {
                    module: m.into(),
                    message: format!("`state` must be `file` or `directory`, got `{other}`"),
                });
            }
        };
        let prefix = args.str(m, "prefix")?.unwrap_or_else(|| "ansible.".into());
        if prefix.contains('/') {
            return Err(ModuleError::BadArgs {
                module: m.into(),
                message: "`prefix` cannot contain `/`".into(),
            });
        }
        Ok(Params {
            directory,
            path: args.str(m, "path")?,
            prefix,
            suffix: args.str(m, "suffix")?.unwrap_or_default(),
        })
    }
}

/// The `mktemp` call that creates the path.
pub fn mktemp(p: &Params) -> String {
    let mut line = String::from("mktemp");
    if p.directory {
        line.push_str(" -d");
    }
    match &p.path {
        Some(dir) => line.push_str(&format!(" --tmpdir={}", quote(dir))),
        None => line.push_str(" --tmpdir"),
    }
    if !p.suffix.is_empty() {
        line.push_str(&format!(" --suffix={}", quote(&p.suffix)));
    }
    line.push_str(&format!(" -- {}", quote(&format!("{}XXXXXXXX", p.prefix))));
    line
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    if ctx.check_mode {
        let mut r = TaskResult::new(Status::Skipped);
        r.msg = Some("remote module (tempfile) does not support check mode".into());
        return Ok(r);
    }
    let line = format!("p=$({}) || exit 1; {}", mktemp(&p), fileinfo::script_for_word("\"$p\"", None));
    let out = ctx.exec(line).await?;
    if !out.success() {
        let mut r =
            TaskResult::failed(format!("cannot create the temporary path: {}", out.stderr_str().trim()));
        r.rc = out.rc;
        return Ok(r);
    }
    let created: Option<FileInfo> = match fileinfo::parse(&out.stdout) {
        Ok(facts) => facts.entries.into_iter().next(),
        Err(msg) => return Ok(TaskResult::failed(msg)),
    };
    let Some(info) = created else {
        return Ok(TaskResult::failed("mktemp printed no path"));
    };
    let mut r = TaskResult::new(Status::Changed);
    r.data.insert("path".into(), info.path.clone().into());
    r.data.extend(fileinfo::result_keys(&info));
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn params(v: Value) -> Params {
        Params::parse(&ModuleArgs(v.as_object().unwrap().clone())).unwrap()
    }

    #[test]
    fn mktemp_lines() {
        let cases = [
            (json!({}), "mktemp --tmpdir -- ansible.XXXXXXXX"),
            (
                json!({"state": "directory", "suffix": ".build"}),
                "mktemp -d --tmpdir --suffix=.build -- ansible.XXXXXXXX",
            ),
            (json!({"path": "/var/my tmp", "prefix": "up."}), "mktemp --tmpdir='/var/my tmp' -- up.XXXXXXXX"),
        ];
        for (args, want) in cases {
            assert_eq!(mktemp(&params(args)), want);
        }
    }

    #[test]
    fn bad_state_and_prefix() {
        for args in [json!({"state": "link"}), json!({"prefix": "a/b"})] {
            assert!(Params::parse(&ModuleArgs(args.as_object().unwrap().clone())).is_err());
        }
    }
}
