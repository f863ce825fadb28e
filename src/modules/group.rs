//! `group`: a local group present (with a given gid) or absent, as Ansible's group module.
//!
//! ```yaml
//! - group: name=deployers gid=2500
//! - group:
//!     name: legacy
//!     state: absent
//! - group: name=svc system=yes
//! ```
//!
//! One command reads the group (`getent group NAME`, or `/etc/group` itself with `local: yes`);
//! the decision is made here; `groupadd`, `groupmod -g` or `groupdel` run only when something
//! must change. Result keys as Ansible's: `name`, `state`, and `gid`, `system` while the group
//! exists.
//!
//! `local: yes` is accepted: the group is looked up in `/etc/group` only (not through NSS, so a
//! directory group of the same name does not count), but the shadow tools `groupadd`/`groupmod`/
//! `groupdel` are used rather than libuser's `lgroup*`, which hosts rarely have.

use serde_json::{Map, Value};

use super::plan::Plan;
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::quote;
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "group",
    free_form: false,
    params: &["force", "gid", "gid_max", "gid_min", "local", "name", "non_unique", "state", "system"],
    run: crate::module_entry!(run),
    run_loop: None,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub name: String,
    pub present: bool,
    pub gid: Option<u32>,
    pub system: bool,
    pub local: bool,
    pub non_unique: bool,
    /// `groupdel -f`: remove the group even when it is some user's primary group.
    pub force: bool,
    pub gid_min: Option<u32>,
    pub gid_max: Option<u32>,
}

fn bad(message: String) -> ModuleError {
    ModuleError::BadArgs { module: MODULE.name.into(), message }
}

/// A non-negative integer parameter (`gid: 2500` or `gid: "2500"`).
fn id_param(args: &ModuleArgs, key: &str) -> Result<Option<u32>, ModuleError> {
    match args.str(MODULE.name, key)? {
        None => Ok(None),
        Some(s) => s
            .trim()
            .parse::<u32>()
            .map(Some)
            .map_err(|_| bad(format!("`{key}` must be a non-negative number, got `{s}`"))),
    }
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let name = args
            .str(m, "name")?
            .filter(|n| !n.is_empty())
            .ok_or_else(|| ModuleError::MissingParam { module: m.into(), param: "name".into() })?;
        let present = match args.str(m, "state")?.as_deref().unwrap_or("present") {
            "present" => true,
            "absent" => false,
            other => return Err(bad(format!("`state` must be one of present, absent; got `{other}`"))),
        };
        let gid = id_param(args, "gid")?;
        let non_unique = args.bool(m, "non_unique")?.unwrap_or(false);
        if non_unique && gid.is_none() {
            return Err(bad("`non_unique` is true but `gid` is missing".into()));
        }
        Ok(Params {
            name,
            present,
            gid,
            system: args.bool(m, "system")?.unwrap_or(false),
            local: args.bool(m, "local")?.unwrap_or(false),
            non_unique,
            force: args.bool(m, "force")?.unwrap_or(false),
            gid_min: id_param(args, "gid_min")?,
            gid_max: id_param(args, "gid_max")?,
        })
    }
}

/// The group as the host knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// Parses one `/etc/group` line (`name:x:gid:a,b`).
pub fn parse_group_line(line: &str) -> Option<GroupEntry> {
    let mut fields = line.trim_end_matches(['\n', '\r']).split(':');
    let name = fields.next()?.to_string();
    let _password = fields.next()?;
    let gid = fields.next()?.trim().parse().ok()?;
    let members =
        fields.next().unwrap_or("").split(',').filter(|m| !m.is_empty()).map(str::to_string).collect();
    Some(GroupEntry { name, gid, members })
}

/// The one state command: a `@group` line when the group exists.
pub fn state_script(p: &Params) -> String {
    let name = quote(&p.name);
    if p.local {
        format!(
            "N={name} awk -F: '$1 == ENVIRON[\"N\"] {{ print \"@group \" $0; exit }}' /etc/group 2>/dev/null; true"
        )
    } else {
        format!("if e=$(getent group -- {name}); then printf '@group %s\\n' \"$e\"; fi; true")
    }
}

/// The group named in the params, from the state command's output (a numeric name looked up
/// by `getent` may answer with another group's line: that is not this group).
pub fn parse_state(p: &Params, out: &str) -> Option<GroupEntry> {
    out.lines()
        .filter_map(|l| l.strip_prefix("@group "))
        .filter_map(parse_group_line)
        .find(|g| g.name == p.name)
}

/// The commands that bring the group to the wanted state; none when it is already there.
pub fn plan(p: &Params, current: Option<&GroupEntry>) -> Plan {
    let mut plan = Plan::default();
    let name = quote(&p.name);
    match (p.present, current) {
        (false, None) => {}
        (false, Some(_)) => {
            let force = if p.force { " -f" } else { "" };
            plan.exec("groupdel", format!("groupdel{force} {name}"));
        }
        (true, None) => {
            let mut cmd = String::from("groupadd");
            if let Some(gid) = p.gid {
                cmd.push_str(&format!(" -g {gid}"));
                if p.non_unique {
                    cmd.push_str(" -o");
                }
            }
            if p.system {
                cmd.push_str(" -r");
            }
            if let Some(min) = p.gid_min {
                cmd.push_str(&format!(" -K GID_MIN={min}"));
            }
            if let Some(max) = p.gid_max {
                cmd.push_str(&format!(" -K GID_MAX={max}"));
            }
            plan.exec("groupadd", format!("{cmd} {name}"));
        }
        (true, Some(g)) => {
            if let Some(gid) = p.gid.filter(|gid| *gid != g.gid) {
                let o = if p.non_unique { " -o" } else { "" };
                plan.exec("groupmod", format!("groupmod -g {gid}{o} {name}"));
            }
        }
    }
    plan
}

/// Ansible's result keys: `gid` and `system` only while the group exists.
pub fn result_data(p: &Params, after: Option<&GroupEntry>) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("name".into(), p.name.clone().into());
    d.insert("state".into(), if p.present { "present" } else { "absent" }.into());
    if let Some(g) = after {
        d.insert("gid".into(), g.gid.into());
        d.insert("system".into(), p.system.into());
    }
    d
}

async fn read(ctx: &ModuleCtx<'_>, p: &Params) -> Result<Result<Option<GroupEntry>, String>, ModuleError> {
    let out = ctx.exec(state_script(p)).await?;
    if !out.success() {
        return Ok(Err(format!("could not read the group `{}`: {}", p.name, out.stderr_str().trim())));
    }
    Ok(Ok(parse_state(p, &out.stdout_str())))
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    let current = match read(ctx, &p).await? {
        Ok(c) => c,
        Err(msg) => return Ok(TaskResult::failed(msg)),
    };
    let plan = plan(&p, current.as_ref());
    if plan.is_empty() || ctx.check_mode {
        // Unchanged, or a prediction: the group as it is now (Ansible's check mode reports no
        // gid for a group it would create).
        let after = if plan.is_empty() || p.present { current.as_ref() } else { None };
        return plan.apply(ctx, result_data(&p, after)).await;
    }
    let mut result = plan.apply(ctx, Map::new()).await?;
    if result.status == Status::Failed {
        result.data.insert("name".into(), p.name.clone().into());
        return Ok(result);
    }
    let after = match read(ctx, &p).await? {
        Ok(a) => a,
        Err(msg) => return Ok(TaskResult::failed(msg)),
    };
    result.data = result_data(&p, after.as_ref());
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::plan::Step;
    use serde_json::json;

    fn params(v: Value) -> Params {
        let Value::Object(m) = v else { panic!() };
        Params::parse(&ModuleArgs(m)).unwrap()
    }

    fn parse_err(v: Value) -> String {
        let Value::Object(m) = v else { panic!() };
        Params::parse(&ModuleArgs(m)).unwrap_err().to_string()
    }

    fn cmds(plan: &Plan) -> Vec<String> {
        plan.steps
            .iter()
            .map(|s| match s {
                Step::Exec { cmd, .. } => cmd.clone(),
                Step::Put { dest, .. } => format!("put {dest}"),
            })
            .collect()
    }

    fn entry(name: &str, gid: u32) -> GroupEntry {
        GroupEntry { name: name.into(), gid, members: vec![] }
    }

    #[test]
    fn cases_params_and_state_to_commands() {
        // (params, current group, expected commands)
        let cases: Vec<(Value, Option<GroupEntry>, Vec<&str>)> = vec![
            (json!({"name": "ops"}), None, vec!["groupadd ops"]),
            (json!({"name": "ops", "gid": 2500}), None, vec!["groupadd -g 2500 ops"]),
            (
                json!({"name": "ops", "gid": "2500", "non_unique": true}),
                None,
                vec!["groupadd -g 2500 -o ops"],
            ),
            (json!({"name": "svc", "system": true}), None, vec!["groupadd -r svc"]),
            (
                json!({"name": "svc", "gid_min": 3000, "gid_max": 3999}),
                None,
                vec!["groupadd -K GID_MIN=3000 -K GID_MAX=3999 svc"],
            ),
            (json!({"name": "my group"}), None, vec!["groupadd 'my group'"]),
            (json!({"name": "ops"}), Some(entry("ops", 1001)), vec![]),
            (json!({"name": "ops", "gid": 1001}), Some(entry("ops", 1001)), vec![]),
            (json!({"name": "ops", "gid": 2500}), Some(entry("ops", 1001)), vec!["groupmod -g 2500 ops"]),
            (
                json!({"name": "ops", "gid": 0, "non_unique": true}),
                Some(entry("ops", 1001)),
                vec!["groupmod -g 0 -o ops"],
            ),
            // system only matters at creation, as in Ansible.
            (json!({"name": "ops", "system": true}), Some(entry("ops", 1001)), vec![]),
            (json!({"name": "ops", "state": "absent"}), None, vec![]),
            (json!({"name": "ops", "state": "absent"}), Some(entry("ops", 1001)), vec!["groupdel ops"]),
            (
                json!({"name": "ops", "state": "absent", "force": true}),
                Some(entry("ops", 1001)),
                vec!["groupdel -f ops"],
            ),
        ];
        for (args, current, want) in cases {
            let p = params(args.clone());
            assert_eq!(cmds(&plan(&p, current.as_ref())), want, "{args}");
        }
    }

    #[test]
    fn group_lines_are_parsed() {
        assert_eq!(
            parse_group_line("ops:x:2500:alice,bob\n"),
            Some(GroupEntry { name: "ops".into(), gid: 2500, members: vec!["alice".into(), "bob".into()] })
        );
        assert_eq!(parse_group_line("ops:x:2500:"), Some(entry("ops", 2500)));
        assert_eq!(parse_group_line("ops:x:2500"), Some(entry("ops", 2500)));
        assert_eq!(parse_group_line("broken"), None);
        assert_eq!(parse_group_line("ops:x:abc:"), None);
    }

    #[test]
    fn state_output_finds_only_the_named_group() {
        let p = params(json!({"name": "ops"}));
        assert_eq!(
            parse_state(&p, "@group ops:x:2500:a\n"),
            Some(GroupEntry { name: "ops".into(), gid: 2500, members: vec!["a".into()] })
        );
        assert_eq!(parse_state(&p, ""), None);
        // `getent group 100` answers with gid 100's group: not a group named `100`.
        let p = params(json!({"name": "100"}));
        assert_eq!(parse_state(&p, "@group users:x:100:\n"), None);
    }

    #[test]
    fn the_state_script_quotes_and_honours_local() {
        let s = state_script(&params(json!({"name": "a b"})));
        assert!(s.contains("getent group -- 'a b'"), "{s}");
        let s = state_script(&params(json!({"name": "ops", "local": true})));
        assert!(s.contains("/etc/group") && !s.contains("getent"), "{s}");
    }

    #[test]
    fn result_keys_follow_ansible() {
        let p = params(json!({"name": "ops", "system": true}));
        let d = result_data(&p, Some(&entry("ops", 999)));
        assert_eq!(Value::Object(d), json!({"name": "ops", "state": "present", "gid": 999, "system": true}));
        let p = params(json!({"name": "ops", "state": "absent"}));
        assert_eq!(Value::Object(result_data(&p, None)), json!({"name": "ops", "state": "absent"}));
    }

    #[test]
    fn bad_params_are_refused() {
        assert!(parse_err(json!({})).contains("`name`"));
        assert!(parse_err(json!({"name": "ops", "state": "gone"})).contains("`gone`"));
        assert!(parse_err(json!({"name": "ops", "gid": "x1"})).contains("`gid`"));
        assert!(parse_err(json!({"name": "ops", "gid": -5})).contains("`-5`"));
        assert!(parse_err(json!({"name": "ops", "non_unique": true})).contains("`gid` is missing"));
    }
}
