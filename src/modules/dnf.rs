//! `dnf`: RPM packages present, absent or at the newest version, as Ansible's dnf module.
//!
//! ```yaml
//! - dnf: name=nginx state=latest
//! - dnf:
//!     name: [httpd, "mod_ssl-2.4.57"]
//!     enablerepo: epel
//! ```
//!
//! The state is read in one command: `rpm -q` per requested name (a name, `name-version` or
//! `name-version-release`, as rpm matches them) and, for `latest`, `dnf list --upgrades`.
//! `dnf` only runs when something must change.
//!
//! Tested as data only: the test fleet is Debian, which has no rpm database to act on.
//! Not supported: `state: latest` for `name: "*"`, groups (`@group`), modules, `installroot`,
//! `download_only`, `list`, `security`/`bugfix` filters (refused as unknown parameters).

use serde_json::Map;

use super::apt::Want;
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::{join, quote};
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "dnf",
    free_form: false,
    params: &[
        "allow_downgrade",
        "autoremove",
        "conf_file",
        "disable_gpg_check",
        "disablerepo",
        "enablerepo",
        "exclude",
        "install_weak_deps",
        "lock_timeout",
        "name",
        "pkg",
        "state",
        "update_cache",
        "update_only",
    ],
    run: crate::module_entry!(run),
    run_loop: None,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub names: Vec<String>,
    pub want: Want,
    pub update_cache: bool,
    pub update_only: bool,
    pub autoremove: bool,
    pub allow_downgrade: bool,
    pub disable_gpg_check: bool,
    pub install_weak_deps: Option<bool>,
    pub enablerepo: Vec<String>,
    pub disablerepo: Vec<String>,
    pub exclude: Vec<String>,
    pub conf_file: Option<String>,
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let list = |key: &str| -> Result<Vec<String>, ModuleError> {
            Ok(args
                .str_list(m, key)?
                .unwrap_or_default()
                .iter()
                .flat_map(|s| s.split(','))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect())
        };
        let mut names = list("name")?;
        names.extend(list("pkg")?);
        let autoremove = args.bool(m, "autoremove")?.unwrap_or(false);
        let update_cache = args.bool(m, "update_cache")?.unwrap_or(false);
        if names.is_empty() && !autoremove && !update_cache {
            return Err(ModuleError::MissingParam { module: m.into(), param: "name".into() });
        }
        if let Some(bad) = names.iter().find(|n| n.starts_with('@') || *n == "*") {
            return Err(ModuleError::BadArgs {
                module: m.into(),
                message: format!("`{bad}`: groups, modules and `*` are not supported"),
            });
        }
        Ok(Params {
            names,
            want: Want::parse(m, args.str(m, "state")?.as_deref())?,
            update_cache,
            update_only: args.bool(m, "update_only")?.unwrap_or(false),
            autoremove,
            allow_downgrade: args.bool(m, "allow_downgrade")?.unwrap_or(false),
            disable_gpg_check: args.bool(m, "disable_gpg_check")?.unwrap_or(false),
            install_weak_deps: args.bool(m, "install_weak_deps")?,
            enablerepo: list("enablerepo")?,
            disablerepo: list("disablerepo")?,
            exclude: list("exclude")?,
            conf_file: args.str(m, "conf_file")?,
        })
    }
}

/// Per requested name: whether rpm has it, and whether dnf offers an upgrade.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PkgState {
    pub installed: bool,
    pub upgradable: bool,
}

/// The one state command: an `@spec` line per name followed by what `rpm -q` answers, then
/// the upgrades dnf offers (`latest` only).
pub fn state_script(p: &Params) -> String {
    let mut s = String::from("export LC_ALL=C\n");
    for name in &p.names {
        let q = quote(name);
        s.push_str(&format!(
            "if rpm -q --whatprovides -- {q} >/dev/null 2>&1 || rpm -q -- {q} >/dev/null 2>&1; then echo '@installed'; else echo '@missing'; fi\n"
        ));
    }
    if p.want == Want::Latest && !p.names.is_empty() {
        s.push_str(&format!(
            "echo '@upgrades'; {} -q list --upgrades -- {} 2>/dev/null | awk 'NF==3 {{ print $1 }}'\n",
            dnf(p),
            join(&p.names)
        ));
    }
    s
}

/// Parses [`state_script`]'s output into one [`PkgState`] per requested name.
pub fn parse_state(p: &Params, out: &str) -> Vec<PkgState> {
    let mut states: Vec<PkgState> = Vec::new();
    let mut upgrades: Vec<&str> = Vec::new();
    let mut in_upgrades = false;
    for line in out.lines() {
        match line.trim() {
            "@installed" => states.push(PkgState { installed: true, upgradable: false }),
            "@missing" => states.push(PkgState::default()),
            "@upgrades" => in_upgrades = true,
            other if in_upgrades && !other.is_empty() => upgrades.push(other),
            _ => {}
        }
    }
    // `dnf list` names packages as `name.arch`.
    for (name, st) in p.names.iter().zip(states.iter_mut()) {
        st.upgradable = upgrades.iter().any(|u| u.rsplit_once('.').map_or(*u, |(n, _)| n) == name);
    }
    states
}

/// The names to install, upgrade and remove: the pure decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub install: Vec<String>,
    pub upgrade: Vec<String>,
    pub remove: Vec<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.install.is_empty() && self.upgrade.is_empty() && self.remove.is_empty()
    }
}

pub fn plan(p: &Params, states: &[PkgState]) -> Changes {
    let mut c = Changes::default();
    for (name, st) in p.names.iter().zip(states) {
        match p.want {
            Want::Present if !st.installed => c.install.push(name.clone()),
            Want::Latest if !st.installed && !p.update_only => c.install.push(name.clone()),
            Want::Latest if st.installed && st.upgradable => c.upgrade.push(name.clone()),
            Want::Absent if st.installed => c.remove.push(name.clone()),
            _ => {}
        }
    }
    c
}

/// `dnf` with the options every call shares.
fn dnf(p: &Params) -> String {
    let mut s = String::from("dnf -y");
    if let Some(conf) = &p.conf_file {
        s.push_str(&format!(" -c {}", quote(conf)));
    }
    for r in &p.disablerepo {
        s.push_str(&format!(" --disablerepo={}", quote(r)));
    }
    for r in &p.enablerepo {
        s.push_str(&format!(" --enablerepo={}", quote(r)));
    }
    for x in &p.exclude {
        s.push_str(&format!(" --exclude={}", quote(x)));
    }
    if p.disable_gpg_check {
        s.push_str(" --nogpgcheck");
    }
    if let Some(weak) = p.install_weak_deps {
        s.push_str(&format!(" --setopt=install_weak_deps={weak}"));
    }
    s
}

pub fn commands(p: &Params, c: &Changes) -> Vec<String> {
    let mut cmds = Vec::new();
    if !c.install.is_empty() {
        let down = if p.allow_downgrade { " --allowerasing" } else { "" };
        cmds.push(format!("{}{down} install -- {}", dnf(p), join(&c.install)));
    }
    if !c.upgrade.is_empty() {
        cmds.push(format!("{} upgrade -- {}", dnf(p), join(&c.upgrade)));
    }
    if !c.remove.is_empty() {
        cmds.push(format!("{} remove -- {}", dnf(p), join(&c.remove)));
    }
    if p.autoremove && p.want == Want::Absent {
        cmds.push(format!("{} autoremove", dnf(p)));
    }
    cmds
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    run_params(ctx, &Params::parse(&args)?).await
}

/// Runs with parsed parameters (`package` comes here on RPM hosts).
pub async fn run_params(ctx: &ModuleCtx<'_>, p: &Params) -> Result<TaskResult, ModuleError> {
    if p.update_cache && !ctx.check_mode {
        let out = ctx.exec(format!("{} makecache", dnf(p))).await?;
        if !out.success() {
            return Ok(TaskResult::failed(format!(
                "Failed to update the dnf cache: {}",
                out.stderr_str().trim()
            )));
        }
    }
    let out = ctx.exec(state_script(p)).await?;
    let states = parse_state(p, &out.stdout_str());
    let c = plan(p, &states);
    let mut data = Map::new();
    let mut results = c.install.iter().map(|n| format!("Installed: {n}")).collect::<Vec<_>>();
    results.extend(c.upgrade.iter().map(|n| format!("Upgraded: {n}")));
    results.extend(c.remove.iter().map(|n| format!("Removed: {n}")));
    data.insert("results".into(), results.into());
    if c.is_empty() {
        let mut r = TaskResult::new(Status::Ok);
        r.msg = Some("Nothing to do".into());
        r.data = data;
        return Ok(r);
    }
    let mut r = TaskResult::new(Status::Changed);
    if !ctx.check_mode {
        for cmd in commands(p, &c) {
            let out = ctx.exec(cmd).await?;
            if !out.success() {
                let mut failed = TaskResult::failed(format!("'dnf' failed: {}", out.stderr_str().trim()));
                failed.rc = out.rc;
                failed.data = data;
                return Ok(failed);
            }
        }
    }
    r.data = data;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn params(v: Value) -> Params {
        let Value::Object(m) = v else { panic!() };
        Params::parse(&ModuleArgs(m)).unwrap()
    }

    #[test]
    fn names_come_as_lists_or_commas() {
        assert_eq!(params(json!({"name": "a, b", "pkg": ["c"]})).names, ["a", "b", "c"]);
        let Value::Object(m) = json!({"name": "@core"}) else { panic!() };
        assert!(Params::parse(&ModuleArgs(m)).is_err());
    }

    #[test]
    fn present_installs_missing_only() {
        let p = params(json!({"name": ["httpd", "mod_ssl"]}));
        let c = plan(&p, &[PkgState { installed: true, upgradable: true }, PkgState::default()]);
        assert_eq!(c, Changes { install: vec!["mod_ssl".into()], ..Changes::default() });
    }

    #[test]
    fn latest_upgrades_what_dnf_offers() {
        let p = params(json!({"name": ["httpd", "git"], "state": "latest"}));
        let out = "@installed\n@missing\n@upgrades\nhttpd.x86_64\n";
        let states = parse_state(&p, out);
        assert!(states[0].upgradable && !states[1].upgradable);
        let c = plan(&p, &states);
        assert_eq!((c.install, c.upgrade), (vec!["git".to_string()], vec!["httpd".to_string()]));
        let p = params(json!({"name": ["httpd", "git"], "state": "latest", "update_only": true}));
        assert!(plan(&p, &states).install.is_empty());
    }

    #[test]
    fn absent_removes_installed_and_autoremoves() {
        let p = params(json!({"name": "httpd", "state": "removed", "autoremove": true}));
        let c = plan(&p, &[PkgState { installed: true, upgradable: false }]);
        let cmds = commands(&p, &c);
        assert_eq!(cmds, ["dnf -y remove -- httpd", "dnf -y autoremove"]);
        assert!(plan(&p, &[PkgState::default()]).is_empty());
    }

    #[test]
    fn options_reach_every_command() {
        let p = params(json!({"name": "x y", "enablerepo": "epel", "disable_gpg_check": true}));
        let cmds = commands(&p, &plan(&p, &[PkgState::default()]));
        assert_eq!(cmds, ["dnf -y --enablerepo=epel --nogpgcheck install -- 'x y'"]);
    }

    #[test]
    fn the_state_script_asks_rpm_per_name() {
        let s = state_script(&params(json!({"name": ["a", "b"], "state": "latest"})));
        assert!(
            s.contains("rpm -q -- a") && s.contains("rpm -q -- b") && s.contains("list --upgrades -- a b")
        );
    }
}
