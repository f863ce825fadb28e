//! `hostname`: the host's name, now and after a reboot, as Ansible's hostname module.
//!
//! ```yaml
//! - hostname: name=web01
//! ```
//!
//! One command reads the running name (`hostname`), `/etc/hostname`, the FQDN and whether
//! systemd runs. As Ansible on Debian: with systemd, `hostnamectl set-hostname` sets both;
//! without it only `/etc/hostname` is written (Ansible's file strategy leaves the running name
//! alone). `use: generic` also sets the running name with `hostname NAME`. Other `use` values
//! are accepted and mean the default.

use serde_json::{Map, Value, json};

use super::plan::{Diff, Plan, Step};
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::quote;
use crate::event::TaskResult;

pub static MODULE: ModuleDef = ModuleDef {
    name: "hostname",
    free_form: false,
    params: &["name", "use"],
    run: crate::module_entry!(run),
    run_loop: None,
};

const STRATEGIES: &[&str] = &[
    "alpine", "debian", "freebsd", "generic", "macos", "macosx", "darwin", "openbsd", "openrc", "redhat",
    "sles", "solaris", "systemd",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub name: String,
    /// `use: generic`: the running name too, with the `hostname` command.
    pub generic: bool,
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let name = args
            .str(m, "name")?
            .ok_or_else(|| ModuleError::MissingParam { module: m.into(), param: "name".into() })?;
        let strategy = args.str(m, "use")?;
        if let Some(u) = &strategy
            && !STRATEGIES.contains(&u.as_str())
        {
            return Err(ModuleError::BadArgs {
                module: m.into(),
                message: format!("`use` must be one of {}; got `{u}`", STRATEGIES.join(", ")),
            });
        }
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(ModuleError::BadArgs {
                module: m.into(),
                message: format!("`{name}` is not a valid host name"),
            });
        }
        Ok(Params { name, generic: strategy.as_deref() == Some("generic") })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub running: String,
    pub permanent: String,
    pub fqdn: String,
    pub systemd: bool,
}

pub const STATE_SCRIPT: &str = "echo \"@running $(hostname)\"; echo \"@permanent $(cat /etc/hostname 2>/dev/null | head -n1)\"; echo \"@fqdn $(hostname -f 2>/dev/null || hostname)\"; [ -d /run/systemd/system ] && echo @systemd; true";

pub fn parse_state(out: &str) -> State {
    let mut st = State::default();
    for line in out.lines() {
        if let Some(v) = line.strip_prefix("@running ") {
            st.running = v.trim().into();
        } else if let Some(v) = line.strip_prefix("@permanent ") {
            st.permanent = v.trim().into();
        } else if let Some(v) = line.strip_prefix("@fqdn ") {
            st.fqdn = v.trim().into();
        } else if line.trim() == "@systemd" {
            st.systemd = true;
        }
    }
    st
}

pub fn plan(p: &Params, st: &State) -> Plan {
    let mut plan = Plan::default();
    // The file strategy's "current" name is the file's, so only the file counts there.
    let running_counts = st.systemd || p.generic;
    if (st.running == p.name || !running_counts) && st.permanent == p.name {
        return plan;
    }
    plan.diffs.push(Diff {
        before: format!("hostname = {}\n", st.running),
        after: format!("hostname = {}\n", p.name),
        ..Diff::default()
    });
    if st.systemd {
        plan.exec("hostnamectl", format!("hostnamectl set-hostname {}", quote(&p.name)));
        return plan;
    }
    if p.generic && st.running != p.name {
        plan.exec("hostname", format!("hostname {}", quote(&p.name)));
    }
    if st.permanent != p.name {
        plan.steps.push(Step::Put {
            dest: "/etc/hostname".into(),
            content: format!("{}\n", p.name).into_bytes(),
            mode: Some(0o644),
            owner: None,
            group: None,
        });
    }
    plan
}

/// The facts Ansible's module returns: the new name, and the FQDN as the host resolves it.
pub fn facts(name: &str, fqdn: &str) -> Map<String, Value> {
    let short = name.split('.').next().unwrap_or(name);
    let domain = fqdn.split_once('.').map_or("", |(_, d)| d);
    let mut f = Map::new();
    f.insert(
        "ansible_facts".into(),
        json!({"ansible_hostname": short, "ansible_nodename": name, "ansible_fqdn": fqdn, "ansible_domain": domain}),
    );
    f.insert("name".into(), json!(name));
    f
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    let st = parse_state(&ctx.exec(STATE_SCRIPT).await?.stdout_str());
    plan(&p, &st).apply(ctx, facts(&p.name, &st.fqdn)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(running: &str, permanent: &str, systemd: bool) -> State {
        State { running: running.into(), permanent: permanent.into(), fqdn: running.into(), systemd }
    }

    fn p(name: &str) -> Params {
        Params { name: name.into(), generic: false }
    }

    fn generic(name: &str) -> Params {
        Params { name: name.into(), generic: true }
    }

    #[test]
    fn the_same_name_in_both_places_is_ok() {
        assert!(plan(&p("web01"), &st("web01", "web01", false)).is_empty());
    }

    #[test]
    fn without_systemd_only_the_file_counts_as_in_ansible() {
        let plan = plan(&p("web01"), &st("host01", "host01", false));
        assert!(matches!(&plan.steps[..], [Step::Put { dest, .. }] if dest == "/etc/hostname"));
        assert!(super::plan(&p("web01"), &st("host01", "web01", false)).is_empty());
    }

    #[test]
    fn generic_sets_the_running_name_and_the_file() {
        let plan = plan(&generic("web01"), &st("host01", "host01", false));
        assert!(matches!(&plan.steps[0], Step::Exec { cmd, .. } if cmd == "hostname web01"));
        assert!(
            matches!(&plan.steps[1], Step::Put { dest, content, .. } if dest == "/etc/hostname" && content == b"web01\n")
        );
        // Only the file differs: only the file is written.
        let plan = super::plan(&generic("web01"), &st("web01", "old", false));
        assert_eq!(plan.steps.len(), 1);
    }

    #[test]
    fn with_systemd_hostnamectl_sets_it() {
        let plan = plan(&p("db-1"), &st("host01", "host01", true));
        assert!(
            matches!(&plan.steps[..], [Step::Exec { cmd, .. }] if cmd == "hostnamectl set-hostname db-1")
        );
    }

    #[test]
    fn state_and_facts() {
        assert_eq!(parse_state("@running a\n@permanent b\n@fqdn a\n@systemd\n"), st("a", "b", true));
        let f = facts("web01.example.com", "web01.example.com");
        assert_eq!(f["ansible_facts"]["ansible_hostname"], "web01");
        assert_eq!(f["ansible_facts"]["ansible_domain"], "example.com");
        assert_eq!(facts("web01.example.com", "host01")["ansible_facts"]["ansible_domain"], "");
    }

    #[test]
    fn bad_names_and_strategies_are_refused() {
        let bad = |v: serde_json::Value| {
            let Value::Object(m) = v else { panic!() };
            Params::parse(&ModuleArgs(m)).is_err()
        };
        assert!(bad(json!({"name": "a b"})));
        assert!(bad(json!({"name": "a", "use": "nope"})));
        assert!(!bad(json!({"name": "a", "use": "debian"})));
    }
}
