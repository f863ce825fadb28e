//! `systemd_service` (also `systemd`): a systemd unit started, stopped, enabled, masked, with
//! `daemon_reload`, as Ansible's systemd_service module. The work is [`service`](super::service)'s;
//! this module adds the systemd-only parameters and fails clearly on a host without systemd.
//!
//! ```yaml
//! - systemd_service: { name: app, state: restarted, daemon_reload: true }
//! - systemd: { name: debug-shell, masked: true }
//! ```
//!
//! Not supported (refused as unknown parameters): `scope` other than the system one,
//! `no_block`, `force`, `daemon_reexec`.

use super::service::{self, Params};
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::event::TaskResult;

pub static MODULE: ModuleDef = ModuleDef {
    name: "systemd_service",
    free_form: false,
    params: &["daemon_reload", "enabled", "masked", "name", "state"],
    run: crate::module_entry!(run),
    run_loop: None,
};

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let mut p: Params = Params::parse_common(MODULE.name, &args)?;
    p.require_systemd = true;
    service::run_params(ctx, &p).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::lookup;

    #[test]
    fn systemd_is_an_alias() {
        assert_eq!(lookup("systemd").unwrap().name, "systemd_service");
        assert_eq!(lookup("ansible.builtin.systemd").unwrap().name, "systemd_service");
    }

    #[test]
    fn daemon_reload_alone_needs_no_name() {
        let serde_json::Value::Object(m) = serde_json::json!({"daemon_reload": true}) else { panic!() };
        let p = Params::parse_common("systemd_service", &ModuleArgs(m)).unwrap();
        assert!(p.name.is_empty() && p.daemon_reload);
    }
}
