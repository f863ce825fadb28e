//! `ping`: checks that Baton can log in and run a shell on the host. Not ICMP.
//!
//! ```yaml
//! - ping:
//! - ping: data=hello   # answered back as `ping: hello`; `crash` makes it fail on purpose
//! ```

use serde_json::Value;

use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::quote;
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "ping",
    free_form: false,
    params: &["data"],
    run: crate::module_entry!(run),
    run_loop: None,
};

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let data = args.str(MODULE.name, "data")?.unwrap_or_else(|| "pong".to_string());
    if data == "crash" {
        return Ok(TaskResult::failed("boom"));
    }
    // The answer comes back through the host's shell, which proves login and shell both work.
    let out = ctx.exec(format!("printf %s {}", quote(&data))).await?;
    if !out.success() || out.stdout != data.as_bytes() {
        let mut r = TaskResult::failed(format!(
            "the host's shell did not answer as expected: {}",
            out.stderr_str().trim()
        ));
        r.rc = out.rc;
        return Ok(r);
    }
    let mut r = TaskResult::new(Status::Ok);
    r.data.insert("ping".into(), Value::String(data));
    Ok(r)
}
