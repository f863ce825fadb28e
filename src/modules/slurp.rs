//! `slurp`: reads a file from the host and returns it base64-encoded, as Ansible does.
//!
//! ```yaml
//! - slurp: src=/etc/hostname
//!   register: hn
//! - debug: msg="{{ hn.content | b64decode }}"
//! ```
//!
//! One `cat` through the task's shell (so `become` applies), with Ansible's messages for a
//! missing path, a directory or an unreadable file decided in the same round trip.

use base64::Engine;
use serde_json::Value;

use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::quote;
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "slurp",
    free_form: false,
    params: &["path", "src"],
    run: crate::module_entry!(run),
    run_loop: None,
};

/// Exit codes the read line uses to say why it did not read.
const MISSING: i32 = 71;
const IS_DIR: i32 = 72;
const UNREADABLE: i32 = 73;

/// The shell line that prints the file or says why not.
pub fn read_line(src: &str) -> String {
    let q = quote(src);
    format!(
        "if [ ! -e {q} ]; then exit {MISSING}; elif [ -d {q} ]; then exit {IS_DIR}; \
         elif [ ! -r {q} ]; then exit {UNREADABLE}; fi; cat -- {q}"
    )
}

/// Ansible's message for a read that did not happen.
pub fn failure_message(src: &str, rc: Option<i32>, stderr: &str) -> String {
    match rc {
        Some(MISSING) => format!("file not found: {src}"),
        Some(IS_DIR) => format!("source is a directory and must be a file: {src}"),
        Some(UNREADABLE) => format!("file is not readable: {src}"),
        _ => format!("unable to slurp file: {}", stderr.trim()),
    }
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let m = MODULE.name;
    let src = args
        .str(m, "src")?
        .or(args.str(m, "path")?)
        .ok_or_else(|| ModuleError::MissingParam { module: m.into(), param: "src".into() })?;
    let out = ctx.exec(read_line(&src)).await?;
    if !out.success() {
        let mut r = TaskResult::failed(failure_message(&src, out.rc, &out.stderr_str()));
        r.rc = out.rc;
        return Ok(r);
    }
    let mut r = TaskResult::new(Status::Ok);
    r.data.insert(
        "content".into(),
        Value::String(base64::engine::general_purpose::STANDARD.encode(&out.stdout)),
    );
    r.data.insert("encoding".into(), "base64".into());
    r.data.insert("source".into(), src.into());
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_checks_before_reading() {
        assert_eq!(
            read_line("/a b"),
            "if [ ! -e '/a b' ]; then exit 71; elif [ -d '/a b' ]; then exit 72; \
             elif [ ! -r '/a b' ]; then exit 73; fi; cat -- '/a b'"
        );
    }

    #[test]
    fn messages_as_ansible_words_them() {
        assert_eq!(failure_message("/x", Some(MISSING), ""), "file not found: /x");
        assert_eq!(failure_message("/x", Some(IS_DIR), ""), "source is a directory and must be a file: /x");
        assert_eq!(failure_message("/x", Some(1), "boom\n"), "unable to slurp file: boom");
    }
}
