//! `raw`: sends the text to the host's shell as is, with no guards or options; for hosts
//! where nothing else works yet.
//!
//! ```yaml
//! - raw: apt-get install -y python3
//! ```

use std::time::Instant;

use serde_json::Value;

use super::run_command::{CommandSpec, Guard, run_spec};
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError, args::RAW_PARAMS};
use crate::connection::quote::quote;
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "raw",
    free_form: true,
    params: &["executable"],
    run: crate::module_entry!(run),
    run_loop: None,
};

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let m = MODULE.name;
    if ctx.check_mode {
        // Ansible's raw does not take part in check mode at all: skipped, with no output keys.
        let mut r = TaskResult::new(Status::Skipped);
        r.msg = Some("check mode not supported for raw".into());
        return Ok(r);
    }
    let text = args
        .str(m, RAW_PARAMS)?
        .ok_or_else(|| ModuleError::BadArgs { module: m.to_string(), message: "no command given".into() })?;
    let line = match args.str(m, "executable")? {
        Some(shell) => format!("{} -c {}", quote(&shell), quote(&text)),
        None => text.clone(),
    };
    let spec = CommandSpec {
        line,
        shown: Value::String(text),
        chdir: None,
        guard: Guard::default(),
        stdin: None,
        strip_empty_ends: false,
        always_changed: true,
    };
    run_spec(ctx, &spec, Instant::now()).await
}
