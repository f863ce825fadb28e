//! `apt`: Debian packages present, absent or at the newest version, as Ansible's apt module.
//!
//! ```yaml
//! - apt: name=nginx state=present update_cache=yes cache_valid_time=3600
//! - apt:
//!     name: [curl, "jq=1.6*"]
//!     state: latest
//! - apt: deb=/tmp/app_1.2_all.deb
//! ```
//!
//! No python-apt on the host: the state is read with `dpkg-query` (and `apt-cache policy` for
//! `latest`) in one command, the decision is made here, and `apt-get` only runs when a package
//! must change, so a second run is `ok` without touching apt's locks.
//!
//! Not supported (refused as unknown parameters): `upgrade` (dist/full/safe upgrades of the
//! whole system), `build-dep`/`fixed` states, `deb` given as a URL, `policy_rc_d`, `fail_on_autoremove`.

use serde_json::{Map, Value};

use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::{join, quote};
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "apt",
    free_form: false,
    params: &[
        "allow_downgrade",
        "allow_unauthenticated",
        "autoclean",
        "autoremove",
        "cache_valid_time",
        "deb",
        "default_release",
        "dpkg_options",
        "force",
        "install_recommends",
        "lock_timeout",
        "name",
        "only_upgrade",
        "package",
        "pkg",
        "purge",
        "state",
        "update_cache",
        "update_cache_retries",
        "update_cache_retry_max_delay",
    ],
    run: crate::module_entry!(run),
    run_loop: None,
};

/// What the packages should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Present,
    Latest,
    Absent,
}

impl Want {
    /// Ansible's spellings, shared with `dnf` and `package`.
    pub fn parse(module: &str, state: Option<&str>) -> Result<Want, ModuleError> {
        match state.unwrap_or("present") {
            "present" | "installed" => Ok(Want::Present),
            "latest" => Ok(Want::Latest),
            "absent" | "removed" => Ok(Want::Absent),
            other => Err(ModuleError::BadArgs {
                module: module.into(),
                message: format!("`state` must be one of present, latest, absent; got `{other}`"),
            }),
        }
    }
}

/// One requested package: `nginx`, `nginx=1.22.1-9` or `nginx=1.22*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub name: String,
    pub version: Option<String>,
}

impl Spec {
    pub fn parse(text: &str) -> Spec {
        match text.split_once('=') {
            Some((name, version)) if !version.is_empty() => {
                Spec { name: name.trim().into(), version: Some(version.trim().into()) }
            }
            _ => Spec { name: text.trim().trim_end_matches('=').into(), version: None },
        }
    }

    /// Whether an installed version satisfies the requested one (`1.2*` is a prefix).
    pub fn satisfied_by(&self, installed: &str) -> bool {
        match &self.version {
            None => true,
            Some(v) => match v.strip_suffix('*') {
                Some(prefix) => installed.starts_with(prefix),
                None => installed == v,
            },
        }
    }

    fn arg(&self) -> String {
        match &self.version {
            Some(v) => format!("{}={v}", self.name),
            None => self.name.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub specs: Vec<Spec>,
    pub want: Want,
    pub deb: Option<String>,
    pub update_cache: bool,
    pub cache_valid_time: Option<u64>,
    pub install_recommends: Option<bool>,
    pub purge: bool,
    pub autoremove: bool,
    pub autoclean: bool,
    pub default_release: Option<String>,
    pub allow_downgrade: bool,
    pub allow_unauthenticated: bool,
    pub only_upgrade: bool,
    pub force: bool,
    pub dpkg_options: Vec<String>,
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let mut names = Vec::new();
        for key in ["name", "pkg", "package"] {
            names.extend(args.str_list(m, key)?.unwrap_or_default());
        }
        // `name: "a,b"` is a list in Ansible too.
        let specs: Vec<Spec> = names
            .iter()
            .flat_map(|n| n.split(','))
            .filter(|n| !n.trim().is_empty())
            .map(Spec::parse)
            .collect();
        let want = Want::parse(m, args.str(m, "state")?.as_deref())?;
        let deb = args.str(m, "deb")?;
        if let Some(deb) = &deb {
            if deb.contains("://") {
                return Err(ModuleError::BadArgs {
                    module: m.into(),
                    message: format!(
                        "`deb` must be a path on the host; downloading `{deb}` is not supported"
                    ),
                });
            }
            if want != Want::Present {
                return Err(ModuleError::BadArgs {
                    module: m.into(),
                    message: "`deb` only works with state=present".into(),
                });
            }
        }
        let cache_valid_time = match args.str(m, "cache_valid_time")? {
            None => None,
            Some(s) => Some(s.parse::<u64>().map_err(|_| ModuleError::BadArgs {
                module: m.into(),
                message: format!("`cache_valid_time` must be a number of seconds, got `{s}`"),
            })?),
        };
        let update_cache = args.bool(m, "update_cache")?.unwrap_or(false) || cache_valid_time.is_some();
        if specs.is_empty() && deb.is_none() && !update_cache && !args.bool(m, "autoremove")?.unwrap_or(false)
        {
            return Err(ModuleError::MissingParam { module: m.into(), param: "name".into() });
        }
        let dpkg_options = args
            .str(m, "dpkg_options")?
            .unwrap_or_else(|| "force-confdef,force-confold".into())
            .split(',')
            .map(|o| o.trim().to_string())
            .filter(|o| !o.is_empty())
            .collect();
        Ok(Params {
            specs,
            want,
            deb,
            update_cache,
            cache_valid_time,
            install_recommends: args.bool(m, "install_recommends")?,
            purge: args.bool(m, "purge")?.unwrap_or(false),
            autoremove: args.bool(m, "autoremove")?.unwrap_or(false),
            autoclean: args.bool(m, "autoclean")?.unwrap_or(false),
            default_release: args.str(m, "default_release")?,
            allow_downgrade: args.bool(m, "allow_downgrade")?.unwrap_or(false),
            allow_unauthenticated: args.bool(m, "allow_unauthenticated")?.unwrap_or(false),
            only_upgrade: args.bool(m, "only_upgrade")?.unwrap_or(false),
            force: args.bool(m, "force")?.unwrap_or(false),
            dpkg_options,
        })
    }
}

/// What dpkg and apt know of one package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PkgState {
    /// The version when fully installed (`ii`), else none.
    pub installed: Option<String>,
    /// Config files left from a removal (`rc`): `purge` still has work to do.
    pub config_files: bool,
    /// apt's candidate version (only read for `latest`).
    pub candidate: Option<String>,
}

/// The host's state for the task.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// One entry per requested name, in order.
    pub packages: Vec<PkgState>,
    /// Unix time of the last successful `apt-get update` (0 if never), and now.
    pub cache_time: u64,
    pub now: u64,
    /// `Package` and `Version` of the `deb` file.
    pub deb: Option<(String, String)>,
    pub deb_installed: Option<String>,
}

/// The one command that reads [`State`]: per package a `@pkg` line with dpkg's status and
/// version, then `apt-cache policy`'s candidate when `latest` needs it.
pub fn state_script(p: &Params) -> String {
    let mut s = String::from(
        "export LC_ALL=C; printf '@cache %s\\n' \"$(stat -c %Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null \
         || stat -c %Y /var/lib/apt/lists/partial 2>/dev/null || echo 0)\"; printf '@now %s\\n' \"$(date +%s)\"\n",
    );
    for spec in &p.specs {
        let name = quote(&spec.name);
        s.push_str(&format!(
            "printf '@pkg %s\\t%s\\n' \"$(dpkg-query -W -f='${{db:Status-Abbrev}}' -- {name} 2>/dev/null)\" \
             \"$(dpkg-query -W -f='${{Version}}' -- {name} 2>/dev/null)\"\n"
        ));
        if p.want == Want::Latest {
            s.push_str(&format!(
                "printf '@candidate %s\\n' \"$(apt-cache policy -- {name} 2>/dev/null | sed -n 's/^ *Candidate: *//p' | head -n1)\"\n"
            ));
        }
    }
    if let Some(deb) = &p.deb {
        let deb = quote(deb);
        s.push_str(&format!(
            "f=$(dpkg-deb -f {deb} Package Version 2>&1) || {{ echo \"@error $f\"; exit 0; }}\n\
             n=$(printf '%s\\n' \"$f\" | sed -n 's/^Package: //p'); printf '@deb %s\\t%s\\n' \"$n\" \"$(printf '%s\\n' \"$f\" | sed -n 's/^Version: //p')\"\n\
             printf '@debinst %s\\t%s\\n' \"$(dpkg-query -W -f='${{db:Status-Abbrev}}' -- \"$n\" 2>/dev/null)\" \"$(dpkg-query -W -f='${{Version}}' -- \"$n\" 2>/dev/null)\"\n"
        ));
    }
    s
}

fn installed_from(status: &str, version: &str) -> PkgState {
    let status = status.trim();
    PkgState {
        installed: (status.starts_with("ii") && !version.is_empty()).then(|| version.to_string()),
        config_files: status.starts_with("rc"),
        candidate: None,
    }
}

/// Parses [`state_script`]'s output; `Err` carries a message for the user.
pub fn parse_state(out: &str) -> Result<State, String> {
    let mut st = State::default();
    for line in out.lines() {
        let (tag, rest) = line.split_once(' ').unwrap_or((line, ""));
        match tag {
            "@cache" => st.cache_time = rest.trim().parse().unwrap_or(0),
            "@now" => st.now = rest.trim().parse().unwrap_or(0),
            "@pkg" => {
                let (status, version) = rest.split_once('\t').unwrap_or((rest, ""));
                st.packages.push(installed_from(status, version));
            }
            "@candidate" => {
                if let Some(last) = st.packages.last_mut() {
                    let c = rest.trim();
                    last.candidate = (!c.is_empty() && c != "(none)").then(|| c.to_string());
                }
            }
            "@deb" => {
                let (name, version) = rest.split_once('\t').unwrap_or((rest, ""));
                st.deb = Some((name.to_string(), version.to_string()));
            }
            "@debinst" => {
                let (status, version) = rest.split_once('\t').unwrap_or((rest, ""));
                st.deb_installed = installed_from(status, version).installed;
            }
            "@error" => return Err(rest.trim().to_string()),
            _ => {}
        }
    }
    Ok(st)
}

/// Whether the package cache must be refreshed first.
pub fn needs_update(p: &Params, st: &State) -> bool {
    p.update_cache && p.cache_valid_time.is_none_or(|valid| st.cache_time + valid < st.now)
}

/// What must change: packages to install (with their requested versions) and to remove.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub install: Vec<String>,
    pub remove: Vec<String>,
    /// Install the `deb` file.
    pub deb: bool,
    /// The package names that change, for the result and check mode.
    pub names: Vec<String>,
    /// A package `latest` or `present` asks for that apt does not know.
    pub unknown: Vec<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.install.is_empty() && self.remove.is_empty() && !self.deb
    }
}

/// The pure decision from (params, state).
pub fn plan(p: &Params, st: &State) -> Changes {
    let mut c = Changes::default();
    for (spec, pkg) in p.specs.iter().zip(&st.packages) {
        match p.want {
            Want::Present => {
                let ok = pkg.installed.as_deref().is_some_and(|v| spec.satisfied_by(v));
                // `only_upgrade` never installs what is missing.
                let skip = p.only_upgrade && pkg.installed.is_none();
                if !ok && !skip {
                    c.install.push(spec.arg());
                    c.names.push(spec.name.clone());
                }
            }
            Want::Latest => match (&pkg.installed, &pkg.candidate) {
                (_, None) if pkg.installed.is_none() => c.unknown.push(spec.name.clone()),
                (Some(i), Some(cand)) if i == cand => {}
                (Some(_), None) => {}
                (None, _) if p.only_upgrade => {}
                _ => {
                    c.install.push(spec.name.clone());
                    c.names.push(spec.name.clone());
                }
            },
            Want::Absent => {
                if pkg.installed.is_some() || (p.purge && pkg.config_files) {
                    c.remove.push(spec.name.clone());
                    c.names.push(spec.name.clone());
                }
            }
        }
    }
    if let Some((name, version)) = &st.deb
        && (p.force || st.deb_installed.as_deref() != Some(version.as_str()))
    {
        c.deb = true;
        c.names.push(name.clone());
    }
    c
}

/// `apt-get` with the options every call shares.
fn apt_get(p: &Params) -> String {
    let mut s = String::from(
        "export DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true LC_ALL=C; apt-get -y -q",
    );
    for o in &p.dpkg_options {
        s.push_str(&format!(" -o {}", quote(&format!("Dpkg::Options::=--{o}"))));
    }
    if let Some(r) = &p.default_release {
        s.push_str(&format!(" -t {}", quote(r)));
    }
    match p.install_recommends {
        Some(true) => s.push_str(" -o APT::Install-Recommends=yes"),
        Some(false) => s.push_str(" --no-install-recommends"),
        None => {}
    }
    if p.allow_downgrade {
        s.push_str(" --allow-downgrades");
    }
    if p.allow_unauthenticated || p.force {
        s.push_str(" --allow-unauthenticated");
    }
    if p.force {
        s.push_str(" --allow-change-held-packages");
    }
    s
}

/// The commands that carry out `c`.
pub fn commands(p: &Params, c: &Changes) -> Vec<String> {
    let mut cmds = Vec::new();
    if !c.install.is_empty() {
        let only = if p.only_upgrade { " --only-upgrade" } else { "" };
        cmds.push(format!("{} install{only} -- {}", apt_get(p), join(&c.install)));
    }
    if c.deb
        && let Some(deb) = &p.deb
    {
        cmds.push(format!("{} install -- {}", apt_get(p), quote(&absolute_deb(deb))));
    }
    if !c.remove.is_empty() {
        let purge = if p.purge { " --purge" } else { "" };
        let auto = if p.autoremove { " --auto-remove" } else { "" };
        cmds.push(format!("{} remove{purge}{auto} -- {}", apt_get(p), join(&c.remove)));
    }
    cmds
}

/// apt-get takes a local .deb only as a path (`./x.deb`, `/tmp/x.deb`), not a bare name.
fn absolute_deb(deb: &str) -> String {
    if deb.starts_with('/') || deb.starts_with("./") { deb.to_string() } else { format!("./{deb}") }
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    run_params(ctx, &p).await
}

/// Runs with parsed parameters (`package` comes here on Debian hosts).
pub async fn run_params(ctx: &ModuleCtx<'_>, p: &Params) -> Result<TaskResult, ModuleError> {
    let script = state_script(p);
    let mut st = read(ctx, &script).await?;
    let st_ref = match &st {
        Ok(s) => s,
        Err(msg) => return Ok(TaskResult::failed(msg.clone())),
    };
    let mut data = Map::new();
    let mut cache_updated = false;
    let mut stdout = String::new();
    if needs_update(p, st_ref) {
        if !ctx.check_mode {
            let out = ctx.exec(format!("{} update", apt_get(p))).await?;
            stdout.push_str(&out.stdout_str());
            if !out.success() {
                let mut r =
                    TaskResult::failed(format!("Failed to update apt cache: {}", out.stderr_str().trim()));
                r.rc = out.rc;
                return Ok(r);
            }
            // `latest` compares with the refreshed candidates.
            st = read(ctx, &script).await?;
        }
        cache_updated = true;
    }
    let st = match st {
        Ok(s) => s,
        Err(msg) => return Ok(TaskResult::failed(msg)),
    };
    data.insert("cache_updated".into(), cache_updated.into());
    data.insert("cache_update_time".into(), (if cache_updated { st.now } else { st.cache_time }).into());
    let changes = plan(p, &st);
    if !changes.unknown.is_empty() {
        return Ok(TaskResult::failed(format!(
            "No package matching '{}' is available",
            changes.unknown.join("', '")
        )));
    }
    if changes.is_empty() {
        // Ansible reports a cache refresh alone as a change.
        let only_cache = p.specs.is_empty() && p.deb.is_none();
        let status = if only_cache && cache_updated { Status::Changed } else { Status::Ok };
        let mut r = TaskResult::new(status);
        r.data = data;
        return Ok(r);
    }
    let mut r = TaskResult::new(Status::Changed);
    if ctx.diff {
        let verb = if changes.remove.is_empty() { "installed" } else { "removed" };
        let mut d = Map::new();
        d.insert("prepared".into(), format!("{verb}: {}\n", changes.names.join(" ")).into());
        data.insert("diff".into(), Value::Object(d));
    }
    data.insert("packages".into(), changes.names.clone().into());
    if !ctx.check_mode {
        let mut stderr = String::new();
        for cmd in commands(p, &changes) {
            let out = ctx.exec(cmd).await?;
            stdout.push_str(&out.stdout_str());
            stderr.push_str(&out.stderr_str());
            if !out.success() {
                let mut failed = TaskResult::failed(format!(
                    "'apt-get' failed: {}",
                    out.stderr_str().lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim()
                ));
                failed.rc = out.rc;
                failed.stdout = Some(stdout);
                failed.stderr = Some(stderr);
                failed.data = data;
                return Ok(failed);
            }
        }
        if p.autoclean {
            ctx.exec(format!("{} autoclean", apt_get(p))).await?;
        }
        r.stdout = Some(stdout);
        r.stderr = Some(stderr);
    }
    r.data = data;
    Ok(r)
}

async fn read(ctx: &ModuleCtx<'_>, script: &str) -> Result<Result<State, String>, ModuleError> {
    let out = ctx.exec(script).await?;
    if !out.success() {
        return Ok(Err(format!("could not read the package state: {}", out.stderr_str().trim())));
    }
    Ok(parse_state(&out.stdout_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: serde_json::Value) -> Params {
        let Value::Object(m) = v else { panic!() };
        Params::parse(&ModuleArgs(m)).unwrap()
    }

    fn installed(v: &str) -> PkgState {
        PkgState { installed: Some(v.into()), ..PkgState::default() }
    }

    fn state(packages: Vec<PkgState>) -> State {
        State { packages, now: 10_000, cache_time: 9_000, ..State::default() }
    }

    #[test]
    fn specs_take_versions_and_comma_lists() {
        let p = params(json!({"name": ["curl", "jq=1.6*"], "pkg": "a,b"}));
        assert_eq!(p.specs[0], Spec { name: "curl".into(), version: None });
        assert_eq!(p.specs[1], Spec { name: "jq".into(), version: Some("1.6*".into()) });
        assert_eq!(p.specs.len(), 4);
    }

    #[test]
    fn a_name_or_something_else_to_do_is_required() {
        let err = Params::parse(&ModuleArgs(Map::new())).unwrap_err();
        assert!(err.to_string().contains("needs the parameter `name`"), "{err}");
        assert!(params(json!({"update_cache": true})).specs.is_empty());
    }

    #[test]
    fn bad_state_and_url_debs_are_refused() {
        let Value::Object(m) = json!({"name": "x", "state": "fixed"}) else { panic!() };
        assert!(Params::parse(&ModuleArgs(m)).unwrap_err().to_string().contains("`state`"));
        let Value::Object(m) = json!({"deb": "https://x/y.deb"}) else { panic!() };
        assert!(Params::parse(&ModuleArgs(m)).unwrap_err().to_string().contains("not supported"));
    }

    #[test]
    fn present_installs_only_what_is_missing() {
        let p = params(json!({"name": ["curl", "jq"]}));
        let c = plan(&p, &state(vec![installed("7.88"), PkgState::default()]));
        assert_eq!(c.install, ["jq"]);
        assert!(plan(&p, &state(vec![installed("7.88"), installed("1.6")])).is_empty());
    }

    #[test]
    fn present_with_a_version_reinstalls_another_version() {
        let p = params(json!({"name": "jq=1.6-2"}));
        assert_eq!(plan(&p, &state(vec![installed("1.5-1")])).install, ["jq=1.6-2"]);
        assert!(plan(&p, &state(vec![installed("1.6-2")])).is_empty());
        let p = params(json!({"name": "jq=1.6*"}));
        assert!(plan(&p, &state(vec![installed("1.6-2+b1")])).is_empty());
    }

    #[test]
    fn latest_upgrades_when_the_candidate_differs() {
        let p = params(json!({"name": "curl", "state": "latest"}));
        let older = PkgState { candidate: Some("8.0".into()), ..installed("7.88") };
        assert_eq!(plan(&p, &state(vec![older])).install, ["curl"]);
        let same = PkgState { candidate: Some("8.0".into()), ..installed("8.0") };
        assert!(plan(&p, &state(vec![same])).is_empty());
        let missing = PkgState { candidate: Some("8.0".into()), ..PkgState::default() };
        assert_eq!(plan(&p, &state(vec![missing])).install, ["curl"]);
        assert_eq!(plan(&p, &state(vec![PkgState::default()])).unknown, ["curl"]);
    }

    #[test]
    fn only_upgrade_never_installs_a_missing_package() {
        let p = params(json!({"name": "curl", "state": "latest", "only_upgrade": true}));
        let missing = PkgState { candidate: Some("8.0".into()), ..PkgState::default() };
        assert!(plan(&p, &state(vec![missing])).is_empty());
    }

    #[test]
    fn absent_removes_installed_and_purge_also_config_files() {
        let p = params(json!({"name": ["a", "b"], "state": "absent"}));
        let rc = PkgState { config_files: true, ..PkgState::default() };
        assert_eq!(plan(&p, &state(vec![installed("1"), rc.clone()])).remove, ["a"]);
        let p = params(json!({"name": ["a", "b"], "state": "absent", "purge": true}));
        assert_eq!(plan(&p, &state(vec![installed("1"), rc])).remove, ["a", "b"]);
        assert!(plan(&p, &state(vec![PkgState::default(), PkgState::default()])).is_empty());
    }

    #[test]
    fn a_deb_installs_unless_that_version_is_there() {
        let p = params(json!({"deb": "/tmp/app.deb"}));
        let mut st = state(vec![]);
        st.deb = Some(("app".into(), "1.2".into()));
        assert!(plan(&p, &st).deb);
        st.deb_installed = Some("1.2".into());
        assert!(plan(&p, &st).is_empty());
        let p = params(json!({"deb": "app.deb"}));
        let fresh = State { deb: st.deb.clone(), ..State::default() };
        let cmds = commands(&p, &plan(&p, &fresh));
        assert!(cmds[0].ends_with("install -- ./app.deb"), "{cmds:?}");
    }

    #[test]
    fn the_cache_is_refreshed_only_when_older_than_valid_time() {
        let st = state(vec![]);
        assert!(needs_update(&params(json!({"update_cache": true})), &st));
        assert!(!needs_update(&params(json!({"cache_valid_time": 3600})), &st));
        assert!(needs_update(&params(json!({"cache_valid_time": 600})), &st));
        assert!(!needs_update(&params(json!({"name": "x"})), &st));
    }

    #[test]
    fn state_output_is_parsed_per_package() {
        let out = "@cache 100\n@now 200\n@pkg ii \t7.88.1-10\n@candidate 7.88.1-11\n@pkg un \t\n@candidate (none)\n@pkg rc \t1.0\n";
        let st = parse_state(out).unwrap();
        assert_eq!((st.cache_time, st.now), (100, 200));
        assert_eq!(st.packages[0].installed.as_deref(), Some("7.88.1-10"));
        assert_eq!(st.packages[0].candidate.as_deref(), Some("7.88.1-11"));
        assert_eq!(st.packages[1], PkgState::default());
        assert!(st.packages[2].config_files && st.packages[2].installed.is_none());
        assert!(parse_state("@error dpkg-deb: no such file\n").is_err());
    }

    #[test]
    fn commands_quote_and_carry_the_options() {
        let p = params(
            json!({"name": ["a b", "c"], "install_recommends": false, "default_release": "bookworm-backports"}),
        );
        let c = plan(&p, &state(vec![PkgState::default(), PkgState::default()]));
        let cmds = commands(&p, &c);
        assert_eq!(cmds.len(), 1);
        assert!(cmds[0].contains("--no-install-recommends"), "{}", cmds[0]);
        assert!(cmds[0].contains("-t bookworm-backports"));
        assert!(cmds[0].ends_with("install -- 'a b' c"), "{}", cmds[0]);
        assert!(cmds[0].contains("Dpkg::Options::=--force-confold"));
        let p = params(json!({"name": "a", "state": "absent", "purge": true, "autoremove": true}));
        let cmds = commands(&p, &plan(&p, &state(vec![installed("1")])));
        assert!(cmds[0].ends_with("remove --purge --auto-remove -- a"), "{}", cmds[0]);
    }

    #[test]
    fn the_state_script_reads_candidates_only_for_latest() {
        assert!(!state_script(&params(json!({"name": "a"}))).contains("apt-cache policy"));
        assert!(
            state_script(&params(json!({"name": "a", "state": "latest"}))).contains("apt-cache policy -- a")
        );
    }
}
