//! `package`: the distribution-neutral package module; it finds the host's package manager and
//! hands `name` and `state` to [`apt`](super::apt) or [`dnf`](super::dnf), as Ansible's does.
//!
//! ```yaml
//! - package: name=git state=present
//! - package: { name: [curl, jq], use: apt }
//! ```
//!
//! `use: auto` (the default) asks the host which of apt-get, dnf or yum it has (one command;
//! Ansible reads `ansible_pkg_mgr` from facts, which costs a fact gathering instead).

use serde_json::{Map, Value};

use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError, apt, dnf};
use crate::event::TaskResult;

pub static MODULE: ModuleDef = ModuleDef {
    name: "package",
    free_form: false,
    params: &["name", "state", "use"],
    run: crate::module_entry!(run),
    run_loop: None,
};

/// A package manager Baton drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    Apt,
    Dnf,
}

impl Manager {
    /// Ansible's `pkg_mgr` names; `yum` hosts get dnf's behaviour through `dnf`'s yum alias.
    pub fn parse(name: &str) -> Option<Manager> {
        match name {
            "apt" => Some(Manager::Apt),
            "dnf" | "dnf5" | "yum" => Some(Manager::Dnf),
            _ => None,
        }
    }
}

/// The command that names the host's package manager.
pub const DETECT: &str = "if command -v apt-get >/dev/null 2>&1; then echo apt; elif command -v dnf >/dev/null 2>&1; then echo dnf; \
     elif command -v yum >/dev/null 2>&1; then echo yum; else echo unknown; fi";

/// The backend's own arguments: `name` and `state` as given.
fn backend_args(args: &ModuleArgs) -> ModuleArgs {
    let mut m = Map::new();
    for key in ["name", "state"] {
        if let Some(v) = args.0.get(key) {
            m.insert(key.to_string(), v.clone());
        }
    }
    ModuleArgs(m)
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let m = MODULE.name;
    if args.str_list(m, "name")?.is_none_or(|n| n.is_empty()) {
        return Err(ModuleError::MissingParam { module: m.into(), param: "name".into() });
    }
    let wanted = args.str(m, "use")?.unwrap_or_else(|| "auto".into());
    let name =
        if wanted == "auto" { ctx.exec(DETECT).await?.stdout_str().trim().to_string() } else { wanted };
    let inner = backend_args(&args);
    let mut result = match Manager::parse(&name) {
        Some(Manager::Apt) => apt::run_params(ctx, &apt::Params::parse(&inner)?).await?,
        Some(Manager::Dnf) => dnf::run_params(ctx, &dnf::Params::parse(&inner)?).await?,
        None => {
            return Ok(TaskResult::failed(format!(
                "Could not find a module for `{name}`: Baton's package supports apt and dnf"
            )));
        }
    };
    result.data.insert("ansible_pkg_mgr".into(), Value::String(name));
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn managers_by_ansible_name() {
        assert_eq!(Manager::parse("apt"), Some(Manager::Apt));
        assert_eq!(Manager::parse("yum"), Some(Manager::Dnf));
        assert_eq!(Manager::parse("pacman"), None);
    }

    #[test]
    fn the_backend_gets_name_and_state_only() {
        let Value::Object(m) = json!({"name": ["a"], "state": "absent", "use": "apt"}) else { panic!() };
        let inner = backend_args(&ModuleArgs(m));
        assert_eq!(inner.0.len(), 2);
        assert_eq!(apt::Params::parse(&inner).unwrap().want, apt::Want::Absent);
        assert_eq!(dnf::Params::parse(&inner).unwrap().names, ["a"]);
    }
}
