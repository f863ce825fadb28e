//! `shell`: runs a command line through a shell on the host, so pipes, redirections, globs and
//! variables work.
//!
//! ```yaml
//! - shell: cat /etc/passwd | wc -l > /tmp/count chdir=/tmp
//! - shell:
//!     cmd: echo $0
//!     executable: /bin/bash
//! ```

use std::time::Instant;

use serde_json::Value;

use super::run_command::{CommandSpec, Guard, run_spec};
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError, args::RAW_PARAMS, command};
use crate::connection::quote::quote;
use crate::event::TaskResult;

pub static MODULE: ModuleDef = ModuleDef {
    name: "shell",
    free_form: true,
    params: &[
        "chdir",
        "cmd",
        "creates",
        "executable",
        "removes",
        "stdin",
        "stdin_add_newline",
        "strip_empty_ends",
    ],
    run: crate::module_entry!(run),
    run_loop: None,
};

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let spec = spec(&args)?;
    run_spec(ctx, &spec, Instant::now()).await
}

pub fn spec(args: &ModuleArgs) -> Result<CommandSpec, ModuleError> {
    let m = MODULE.name;
    let text = args
        .str(m, RAW_PARAMS)?
        .or(args.str(m, "cmd")?)
        .ok_or_else(|| ModuleError::BadArgs { module: m.to_string(), message: "no command given".into() })?;
    // The connection already runs the line with /bin/sh; another shell is asked for by name.
    let line = match args.str(m, "executable")? {
        Some(shell) => format!("{} -c {}", quote(&shell), quote(&text)),
        None => text.clone(),
    };
    Ok(CommandSpec {
        line,
        shown: Value::String(text),
        chdir: args.str(m, "chdir")?,
        guard: Guard::from_args(args, m)?,
        stdin: command::stdin(args, m)?,
        strip_empty_ends: args.bool(m, "strip_empty_ends")?.unwrap_or(true),
        always_changed: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_goes_to_the_shell_as_written() {
        let s = spec(&ModuleArgs::parse_kv(&MODULE, "cat /etc/passwd | wc -l chdir=/tmp").unwrap()).unwrap();
        assert_eq!(s.line, "cat /etc/passwd | wc -l");
        assert_eq!(s.chdir.as_deref(), Some("/tmp"));
    }

    #[test]
    fn another_executable_gets_the_line_quoted() {
        let s = spec(&ModuleArgs::parse_kv(&MODULE, "echo $0 executable=/bin/bash").unwrap()).unwrap();
        assert_eq!(s.line, "/bin/bash -c 'echo $0'");
    }
}
