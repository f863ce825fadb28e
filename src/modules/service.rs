//! `service`: a service running or stopped, started at boot or not, through whatever manager
//! the host runs: systemd (`systemctl`) when `/run/systemd/system` exists, else SysV init
//! scripts through the `service` command and `update-rc.d`, as Ansible's service module does.
//!
//! ```yaml
//! - service: name=nginx state=started enabled=yes
//! - service: { name: app, state: restarted }
//! ```
//!
//! One command reads the manager, whether the service runs (`systemctl show`, or the init
//! script's `status`, or `pattern` in the process list) and whether it is enabled; the actions
//! are decided here and run only when needed (`restarted`/`reloaded` always act, as in Ansible).
//! [`systemd_service`](super::systemd_service) shares this and insists on systemd.

use serde_json::{Map, Value, json};

use super::plan::Plan;
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::quote;
use crate::event::TaskResult;

pub static MODULE: ModuleDef = ModuleDef {
    name: "service",
    free_form: false,
    params: &["arguments", "args", "enabled", "name", "pattern", "runlevel", "sleep", "state", "use"],
    run: crate::module_entry!(run),
    run_loop: None,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    Started,
    Stopped,
    Restarted,
    Reloaded,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub name: String,
    pub state: Option<Wanted>,
    pub enabled: Option<bool>,
    pub pattern: Option<String>,
    pub arguments: String,
    pub sleep: Option<u32>,
    /// systemd only.
    pub daemon_reload: bool,
    pub masked: Option<bool>,
    /// `systemd_service`: fail when the host does not run systemd.
    pub require_systemd: bool,
}

impl Params {
    /// Parses the parameters every service module shares; `module` names the module in errors.
    pub fn parse_common(module: &str, args: &ModuleArgs) -> Result<Params, ModuleError> {
        let name = args.str(module, "name")?;
        let state = match args.str(module, "state")?.as_deref() {
            None => None,
            Some("started") => Some(Wanted::Started),
            Some("stopped") => Some(Wanted::Stopped),
            Some("restarted") => Some(Wanted::Restarted),
            Some("reloaded") => Some(Wanted::Reloaded),
            Some(other) => {
                return Err(ModuleError::BadArgs {
                    module: module.into(),
                    message: format!(
                        "`state` must be one of started, stopped, restarted, reloaded; got `{other}`"
                    ),
                });
            }
        };
        let enabled = args.bool(module, "enabled")?;
        let daemon_reload =
            args.0.contains_key("daemon_reload") && args.bool(module, "daemon_reload")?.unwrap_or(false);
        let masked = if args.0.contains_key("masked") { args.bool(module, "masked")? } else { None };
        let name = match name {
            Some(n) => n,
            None if daemon_reload && state.is_none() && enabled.is_none() => String::new(),
            None => return Err(ModuleError::MissingParam { module: module.into(), param: "name".into() }),
        };
        if !name.is_empty() && state.is_none() && enabled.is_none() && masked.is_none() {
            return Err(ModuleError::BadArgs {
                module: module.into(),
                message: "one of `state`, `enabled` (or `masked`) is required".into(),
            });
        }
        let arguments = if args.0.contains_key("arguments") || args.0.contains_key("args") {
            args.str(module, "arguments")?.or(args.str(module, "args")?).unwrap_or_default()
        } else {
            String::new()
        };
        let sleep = match args.str(module, "sleep")? {
            None => None,
            Some(s) => Some(s.parse::<u32>().map_err(|_| ModuleError::BadArgs {
                module: module.into(),
                message: format!("`sleep` must be a number of seconds, got `{s}`"),
            })?),
        };
        Ok(Params {
            name,
            state,
            enabled,
            pattern: if args.0.contains_key("pattern") { args.str(module, "pattern")? } else { None },
            arguments,
            sleep,
            daemon_reload,
            masked,
            require_systemd: false,
        })
    }

    /// The unit name systemd knows (`nginx` is `nginx.service`).
    fn unit(&self) -> String {
        if self.name.contains('.') { self.name.clone() } else { format!("{}.service", self.name) }
    }
}

/// What the host says about the service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub systemd: bool,
    /// The service exists (a loaded unit, or an init script).
    pub found: bool,
    pub running: bool,
    pub enabled: bool,
    /// SysV: `K` links exist already (`update-rc.d defaults` was run once).
    pub has_k_links: bool,
    pub masked: bool,
    /// `systemctl show` properties, reported as Ansible's `status`.
    pub properties: Map<String, Value>,
}

/// The one command that reads [`State`].
pub fn state_script(p: &Params) -> String {
    let n = quote(&p.name);
    let running_by_pattern = p
        .pattern
        .as_ref()
        .map(|pat| format!("if pgrep -f -- {} >/dev/null 2>&1; then echo @running; fi\n", quote(pat)));
    let unit = quote(&p.unit()).into_owned();
    let systemd = format!(
        "echo @systemd\nsystemctl show {unit} --no-pager --property=Id,LoadState,ActiveState,SubState,UnitFileState,MainPID 2>/dev/null | sed 's/^/@prop /'\n{}",
        running_by_pattern.clone().unwrap_or_default()
    );
    let sysv = format!(
        "if [ -x /etc/init.d/{n} ]; then echo @found; fi\n{}\
         for l in /etc/rc[2345].d/S??{n}; do [ -e \"$l\" ] && echo @enabled && break; done\n\
         for l in /etc/rc?.d/K??{n}; do [ -e \"$l\" ] && echo @klinks && break; done\n",
        running_by_pattern.unwrap_or_else(|| format!(
            "if service {n} status >/dev/null 2>&1 || {{ [ -x /etc/init.d/{n} ] && /etc/init.d/{n} status >/dev/null 2>&1; }}; then echo @running; fi\n"
        ))
    );
    format!("if [ -d /run/systemd/system ]; then\n{systemd}else\n{sysv}fi")
}

pub fn parse_state(out: &str) -> State {
    let mut st = State::default();
    for line in out.lines() {
        match line.trim() {
            "@systemd" => st.systemd = true,
            "@found" => st.found = true,
            "@running" => st.running = true,
            "@enabled" => st.enabled = true,
            "@klinks" => st.has_k_links = true,
            other => {
                if let Some((k, v)) = other.strip_prefix("@prop ").and_then(|p| p.split_once('=')) {
                    st.properties.insert(k.to_string(), json!(v));
                }
            }
        }
    }
    if st.systemd {
        let prop = |k: &str| st.properties.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        st.found = prop("LoadState") == "loaded" || prop("LoadState") == "masked";
        st.masked = prop("LoadState") == "masked" || prop("UnitFileState") == "masked";
        st.running =
            st.running || matches!(prop("ActiveState").as_str(), "active" | "activating" | "reloading");
        st.enabled = matches!(
            prop("UnitFileState").as_str(),
            "enabled" | "enabled-runtime" | "static" | "alias" | "indirect" | "generated"
        );
    }
    st
}

/// The pure decision: the commands to run, in order.
pub fn plan(p: &Params, st: &State) -> Result<Plan, String> {
    let mut plan = Plan::default();
    if p.require_systemd && !st.systemd {
        return Err(format!(
            "systemd is not running on this host, so `{}` cannot be managed by systemd_service (use the service module)",
            p.name
        ));
    }
    if p.name.is_empty() {
        if p.daemon_reload && st.systemd {
            plan.exec("daemon-reload", "systemctl daemon-reload");
        }
        return Ok(plan);
    }
    let n = quote(&p.name).into_owned();
    let unit = quote(&p.unit()).into_owned();
    if p.daemon_reload && st.systemd {
        plan.exec("daemon-reload", "systemctl daemon-reload");
    }
    if !st.found && (p.state.is_some() || p.enabled.is_some()) && p.masked != Some(true) {
        return Err(format!("Could not find the requested service {}: host", p.name));
    }
    if let Some(mask) = p.masked
        && st.systemd
        && mask != st.masked
    {
        plan.exec(
            if mask { "mask" } else { "unmask" },
            format!("systemctl {} {unit}", if mask { "mask" } else { "unmask" }),
        );
    }
    if let Some(enable) = p.enabled
        && enable != st.enabled
    {
        if st.systemd {
            plan.exec("enable", format!("systemctl {} {unit}", if enable { "enable" } else { "disable" }));
        } else if enable {
            if !st.has_k_links {
                plan.exec("update-rc.d defaults", format!("update-rc.d {n} defaults"));
            }
            plan.exec("update-rc.d enable", format!("update-rc.d {n} enable"));
        } else {
            plan.exec("update-rc.d disable", format!("update-rc.d {n} disable"));
        }
    }
    let verb = match (p.state, st.running) {
        (Some(Wanted::Started), false) => Some("start"),
        (Some(Wanted::Stopped), true) => Some("stop"),
        (Some(Wanted::Restarted), _) => Some("restart"),
        (Some(Wanted::Reloaded), true) => Some("reload"),
        (Some(Wanted::Reloaded), false) => Some("start"),
        _ => None,
    };
    if let Some(verb) = verb {
        let args = if p.arguments.is_empty() { String::new() } else { format!(" {}", p.arguments) };
        let cmd = if st.systemd {
            format!("systemctl {verb} {unit}")
        } else if verb == "restart" && p.sleep.is_some() {
            // `sleep` pauses between the stop and the start of a restart.
            let pause = p.sleep.unwrap_or(0);
            format!("service {n} stop{args}; sleep {pause}; service {n} start{args}")
        } else {
            format!("service {n} {verb}{args}")
        };
        // A daemon started through a session must not keep the session's output open.
        plan.exec(verb, format!("{cmd} </dev/null >/dev/null"));
    }
    Ok(plan)
}

/// The state word Ansible reports after the task.
fn final_state(p: &Params, st: &State) -> &'static str {
    match p.state {
        Some(Wanted::Stopped) => "stopped",
        Some(_) => "started",
        None if st.running => "started",
        None => "stopped",
    }
}

/// Runs a parsed service task (shared with `systemd_service`).
pub async fn run_params(ctx: &ModuleCtx<'_>, p: &Params) -> Result<TaskResult, ModuleError> {
    let out = ctx.exec(state_script(p)).await?;
    let st = parse_state(&out.stdout_str());
    let plan = match plan(p, &st) {
        Ok(plan) => plan,
        Err(msg) => return Ok(TaskResult::failed(msg)),
    };
    let mut data = Map::new();
    if !p.name.is_empty() {
        data.insert("name".into(), json!(p.name));
        data.insert("state".into(), json!(final_state(p, &st)));
        if let Some(e) = p.enabled {
            data.insert("enabled".into(), json!(e));
        }
        if st.systemd {
            data.insert("status".into(), Value::Object(st.properties.clone()));
        }
    }
    plan.apply(ctx, data).await
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse_common(MODULE.name, &args)?;
    if let Some(u) = args.str(MODULE.name, "use")?
        && !["auto", "systemd", "sysvinit", "service"].contains(&u.as_str())
    {
        return Ok(TaskResult::failed(format!(
            "service manager `{u}` is not supported by Baton (systemd and SysV init are)"
        )));
    }
    run_params(ctx, &p).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> Params {
        let Value::Object(m) = v else { panic!() };
        Params::parse_common("service", &ModuleArgs(m)).unwrap()
    }

    fn cmds(p: &Params, st: &State) -> Vec<String> {
        plan(p, st)
            .unwrap()
            .steps
            .iter()
            .map(|s| match s {
                super::super::plan::Step::Exec { cmd, .. } => cmd.clone(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    fn sysv(running: bool, enabled: bool) -> State {
        State { found: true, running, enabled, ..State::default() }
    }

    #[test]
    fn started_starts_only_a_stopped_service() {
        let p = params(json!({"name": "app", "state": "started"}));
        assert_eq!(cmds(&p, &sysv(false, false)), ["service app start </dev/null >/dev/null"]);
        assert!(cmds(&p, &sysv(true, false)).is_empty());
    }

    #[test]
    fn stopped_restarted_and_reloaded_as_ansible() {
        let p = params(json!({"name": "app", "state": "stopped"}));
        assert_eq!(cmds(&p, &sysv(true, true)), ["service app stop </dev/null >/dev/null"]);
        assert!(cmds(&p, &sysv(false, true)).is_empty());
        let p = params(json!({"name": "app", "state": "restarted"}));
        assert_eq!(cmds(&p, &sysv(true, true)).len(), 1);
        let p = params(json!({"name": "app", "state": "reloaded"}));
        assert_eq!(cmds(&p, &sysv(false, true)), ["service app start </dev/null >/dev/null"]);
        assert_eq!(cmds(&p, &sysv(true, true)), ["service app reload </dev/null >/dev/null"]);
    }

    #[test]
    fn enabling_with_update_rc_d_runs_defaults_once() {
        let p = params(json!({"name": "app", "enabled": true}));
        assert_eq!(cmds(&p, &sysv(false, false)), ["update-rc.d app defaults", "update-rc.d app enable"]);
        let with_k = State { has_k_links: true, ..sysv(false, false) };
        assert_eq!(cmds(&p, &with_k), ["update-rc.d app enable"]);
        assert!(cmds(&p, &sysv(false, true)).is_empty());
        let p = params(json!({"name": "app", "enabled": false}));
        assert_eq!(cmds(&p, &sysv(false, true)), ["update-rc.d app disable"]);
    }

    #[test]
    fn systemd_uses_systemctl_on_the_unit() {
        let out = "@systemd\n@prop Id=nginx.service\n@prop LoadState=loaded\n@prop ActiveState=inactive\n@prop UnitFileState=disabled\n";
        let st = parse_state(out);
        assert!(st.systemd && st.found && !st.running && !st.enabled);
        let p = params(json!({"name": "nginx", "state": "started", "enabled": true}));
        assert_eq!(
            cmds(&p, &st),
            ["systemctl enable nginx.service", "systemctl start nginx.service </dev/null >/dev/null"]
        );
        let p = params(json!({"name": "nginx", "state": "started", "daemon_reload": true}));
        assert_eq!(cmds(&p, &st)[0], "systemctl daemon-reload");
    }

    #[test]
    fn a_missing_service_fails_like_ansible() {
        let p = params(json!({"name": "nope", "state": "started"}));
        assert!(
            plan(&p, &State::default()).unwrap_err().contains("Could not find the requested service nope")
        );
    }

    #[test]
    fn systemd_service_refuses_a_host_without_systemd() {
        let mut p = params(json!({"name": "app", "state": "started"}));
        p.require_systemd = true;
        assert!(plan(&p, &sysv(false, false)).unwrap_err().contains("systemd is not running"));
    }

    #[test]
    fn sysv_state_is_parsed_and_state_or_enabled_is_required() {
        assert_eq!(
            parse_state("@found\n@running\n@klinks\n"),
            State { found: true, running: true, has_k_links: true, ..State::default() }
        );
        let Value::Object(m) = json!({"name": "app"}) else { panic!() };
        assert!(Params::parse_common("service", &ModuleArgs(m)).is_err());
    }

    #[test]
    fn the_state_script_uses_the_pattern_when_given() {
        let s = state_script(&params(json!({"name": "app", "state": "started", "pattern": "sleep 1000"})));
        assert!(s.contains("pgrep -f -- 'sleep 1000'"), "{s}");
        assert!(!s.contains("service app status"));
    }
}
