//! `release`: Capistrano-style release directories on a host, switched atomically, so a new
//! version is prepared beside the live one and the switch (and the switch back) is one
//! `rename`.
//!
//! ```yaml
//! - release: { path: /srv/app, version: "{{ app_version }}", state: prepared }
//!   register: rel                      # rel.release_path = /srv/app/releases/<version>
//! - copy: { src: site/, dest: "{{ rel.release_path }}/" }
//! - release: { path: /srv/app, version: "{{ app_version }}", state: switched, keep: 3 }
//! - release: { path: /srv/app, state: rolled_back }   # back to the release before
//! ```
//!
//! Layout: `PATH/releases/<version>/`, `PATH/current` (a symlink to the live release) and
//! `PATH/.releases` (the versions switched to, oldest first) so `rolled_back` knows where to
//! go. With `slots: [blue, green]` the releases are the slots themselves: `prepared` picks
//! the slot `current` does not point at (returned as `slot`), and `switched` points at it.

use serde_json::{Map, Value, json};

use super::plan::Plan;
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::quote;
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "release",
    free_form: false,
    params: &["keep", "path", "slots", "state", "version"],
    run: crate::module_entry!(run),
    run_loop: None,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// The release directory exists (created empty if needed).
    Prepared,
    /// `current` points at the release.
    Switched,
    /// `current` points at the release switched to before the live one.
    RolledBack,
    /// The release directory is gone (never the live one).
    Absent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub path: String,
    pub version: Option<String>,
    pub state: State,
    /// Releases to keep after a switch (the live one and the one before always stay).
    pub keep: Option<usize>,
    pub slots: Vec<String>,
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let bad = |message: String| ModuleError::BadArgs { module: m.into(), message };
        let path = args
            .str(m, "path")?
            .ok_or_else(|| ModuleError::MissingParam { module: m.into(), param: "path".into() })?;
        let path = path.trim_end_matches('/').to_string();
        if !path.starts_with('/') {
            return Err(bad(format!("`path` must be absolute, not `{path}`")));
        }
        let state = match args.str(m, "state")?.as_deref().unwrap_or("switched") {
            "prepared" | "present" => State::Prepared,
            "switched" => State::Switched,
            "rolled_back" => State::RolledBack,
            "absent" => State::Absent,
            other => {
                return Err(bad(format!(
                    "`state` must be prepared, switched, rolled_back or absent, not `{other}`"
                )));
            }
        };
        let slots = args.str_list(m, "slots")?.unwrap_or_default();
        let version = args.str(m, "version")?;
        if let Some(v) = &version
            && (v.is_empty() || v.contains('/') || v == "." || v == "..")
        {
            return Err(bad(format!("`version` must be a plain name, not `{v}`")));
        }
        if slots.is_empty() && version.is_none() && matches!(state, State::Switched | State::Absent) {
            return Err(ModuleError::MissingParam { module: m.into(), param: "version".into() });
        }
        let keep = match args.str(m, "keep")? {
            None => None,
            Some(k) => {
                Some(k.parse::<usize>().map_err(|_| bad(format!("`keep` must be a number, not `{k}`")))?)
            }
        };
        Ok(Params { path, version, state, keep, slots })
    }
}

/// What is on the host now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Release directories, sorted by name.
    pub releases: Vec<String>,
    /// The release `current` points at.
    pub current: Option<String>,
    /// `.releases`: versions switched to, oldest first.
    pub history: Vec<String>,
}

/// One round trip: the release directories, `current`'s target and the history.
fn probe_line(path: &str) -> String {
    let p = quote(path);
    format!(
        "cd {p} 2>/dev/null || exit 0; echo '#releases'; ls -1 releases 2>/dev/null; \
         echo '#current'; readlink current 2>/dev/null; echo '#history'; cat .releases 2>/dev/null; true"
    )
}

pub fn parse_facts(out: &str) -> Facts {
    let mut facts = Facts::default();
    let mut section = "";
    for line in out.lines() {
        match line {
            "#releases" | "#current" | "#history" => section = line,
            "" => {}
            l => match section {
                "#releases" => facts.releases.push(l.to_string()),
                "#current" => {
                    facts.current = Some(l.trim_end_matches('/').rsplit('/').next().unwrap_or(l).to_string())
                }
                "#history" => facts.history.push(l.to_string()),
                _ => {}
            },
        }
    }
    facts.releases.sort();
    facts
}

/// The release a `prepared`/`switched` call is about: the version, or with slots the slot
/// that is not live.
fn target(p: &Params, f: &Facts) -> Option<String> {
    if !p.slots.is_empty() {
        return match (&p.version, p.state) {
            (Some(v), _) if p.slots.contains(v) => Some(v.clone()),
            (_, State::Switched) if p.version.is_none() => {
                // Switch to the idle slot: the one that is not live.
                p.slots.iter().find(|s| Some(*s) != f.current.as_ref()).cloned()
            }
            _ => p.slots.iter().find(|s| Some(*s) != f.current.as_ref()).cloned(),
        };
    }
    p.version.clone()
}

/// The pure part: what must change, and the result keys.
pub fn plan(p: &Params, f: &Facts) -> Result<(Plan, Map<String, Value>), String> {
    let mut plan = Plan::default();
    let mut data = Map::new();
    let root = quote(&p.path).into_owned();
    let dir = |name: &str| format!("{}/releases/{name}", p.path);
    let switch_to = |plan: &mut Plan, name: &str, history: &[String]| {
        // A new symlink beside `current`, renamed over it: readers see old or new.
        let mut hist = history.to_vec();
        hist.retain(|h| h != name);
        hist.push(name.to_string());
        let hist_text = hist.join("\n") + "\n";
        plan.exec(
            format!("switch current to {name}"),
            format!(
                "cd {root} && ln -sfn {} .current.tmp && mv -T .current.tmp current && printf '%s' {} > .releases.tmp && mv .releases.tmp .releases",
                quote(&format!("releases/{name}")),
                quote(&hist_text)
            ),
        );
    };
    data.insert("previous".into(), json!(f.current));
    match p.state {
        State::Prepared => {
            let name = target(p, f).ok_or("no release to prepare: give `version` or `slots`")?;
            if !f.releases.contains(&name) {
                plan.exec(format!("create release {name}"), format!("mkdir -p {}", quote(&dir(&name))));
            } else if !p.slots.is_empty() && f.current.as_deref() != Some(name.as_str()) {
                // A slot is reused: start it empty, as a fresh release would be.
                plan.exec(
                    format!("empty slot {name}"),
                    format!("rm -rf {d} && mkdir -p {d}", d = quote(&dir(&name))),
                );
            }
            data.insert("release".into(), json!(name));
            data.insert("release_path".into(), json!(dir(&name)));
            if !p.slots.is_empty() {
                data.insert("slot".into(), json!(name));
            }
        }
        State::Switched => {
            let name = target(p, f).ok_or("no release to switch to")?;
            if !f.releases.contains(&name) {
                return Err(format!(
                    "release `{name}` does not exist in {}/releases (prepare it first)",
                    p.path
                ));
            }
            if f.current.as_deref() != Some(name.as_str()) {
                switch_to(&mut plan, &name, &f.history);
            }
            data.insert("release".into(), json!(name));
            data.insert("release_path".into(), json!(dir(&name)));
            if let Some(keep) = p.keep {
                let mut protected: Vec<&String> =
                    [Some(&name), f.current.as_ref()].into_iter().flatten().collect();
                protected.dedup();
                let mut candidates: Vec<&String> =
                    f.releases.iter().filter(|r| !protected.contains(r)).collect();
                // Oldest first: by when they were switched to, then by name.
                candidates.sort_by_key(|r| {
                    (f.history.iter().position(|h| h == *r).map_or(-1, |i| i as i64), (*r).clone())
                });
                let excess = (candidates.len() + protected.len()).saturating_sub(keep.max(protected.len()));
                let pruned: Vec<String> = candidates.into_iter().take(excess).cloned().collect();
                if p.slots.is_empty() && !pruned.is_empty() {
                    let dirs: Vec<String> = pruned.iter().map(|r| quote(&dir(r)).into_owned()).collect();
                    plan.exec(format!("prune {}", pruned.join(", ")), format!("rm -rf {}", dirs.join(" ")));
                    data.insert("pruned".into(), json!(pruned));
                }
            }
        }
        State::RolledBack => {
            let live =
                f.current.clone().ok_or("nothing is live yet: there is no release to roll back from")?;
            let before: Option<String> = f
                .history
                .iter()
                .rev()
                .find(|h| **h != live && f.releases.contains(h))
                .cloned()
                .or_else(|| p.slots.iter().find(|s| **s != live && f.releases.contains(s)).cloned());
            let name = before.ok_or("there is no earlier release to roll back to")?;
            let mut history = f.history.clone();
            // The live release leaves the history, so a second rollback goes further back.
            history.retain(|h| h != &live);
            switch_to(&mut plan, &name, &history);
            data.insert("release".into(), json!(name));
            data.insert("release_path".into(), json!(dir(&name)));
        }
        State::Absent => {
            let name = target(p, f).ok_or("no release named")?;
            if f.current.as_deref() == Some(name.as_str()) {
                return Err(format!("release `{name}` is live; switch away from it first"));
            }
            if f.releases.contains(&name) {
                plan.exec(format!("remove release {name}"), format!("rm -rf {}", quote(&dir(&name))));
            }
        }
    }
    Ok((plan, data))
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    let out = ctx.exec(probe_line(&p.path)).await?;
    let facts = parse_facts(&out.stdout_str());
    let (plan, data) = match plan(&p, &facts) {
        Ok(x) => x,
        Err(msg) => return Ok(TaskResult::failed(msg)),
    };
    if !plan.is_empty() && !ctx.check_mode {
        // The layout's directories, created as part of the first change.
        let setup = format!("mkdir -p {}", quote(&format!("{}/releases", p.path)));
        let made = ctx.exec(setup).await?;
        if !made.success() {
            return Ok(TaskResult::failed(format!(
                "cannot create {}/releases: {}",
                p.path,
                made.stderr_str().trim()
            )));
        }
    }
    let mut result = plan.apply(ctx, data).await?;
    if result.status == Status::Failed && result.msg.is_none() {
        result.msg = Some("the release change failed".into());
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> Params {
        Params::parse(&ModuleArgs(v.as_object().unwrap().clone())).unwrap()
    }

    fn facts(releases: &[&str], current: Option<&str>, history: &[&str]) -> Facts {
        Facts {
            releases: releases.iter().map(|s| s.to_string()).collect(),
            current: current.map(str::to_string),
            history: history.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn whats(p: &Plan) -> Vec<String> {
        p.steps
            .iter()
            .map(|s| match s {
                super::super::plan::Step::Exec { what, .. } => what.clone(),
                super::super::plan::Step::Put { dest, .. } => format!("put {dest}"),
            })
            .collect()
    }

    #[test]
    fn facts_parse() {
        let f = parse_facts("#releases\nv1\nv2\n#current\nreleases/v2\n#history\nv1\nv2\n");
        assert_eq!(f, facts(&["v1", "v2"], Some("v2"), &["v1", "v2"]));
        assert_eq!(parse_facts(""), Facts::default());
    }

    #[test]
    fn prepare_is_idempotent() {
        let p = params(json!({"path": "/srv/app", "version": "v3", "state": "prepared"}));
        let (plan1, data) = plan(&p, &facts(&["v1"], Some("v1"), &["v1"])).unwrap();
        assert_eq!(whats(&plan1), ["create release v3"]);
        assert_eq!(data["release_path"], "/srv/app/releases/v3");
        let (plan2, _) = plan(&p, &facts(&["v1", "v3"], Some("v1"), &["v1"])).unwrap();
        assert!(plan2.is_empty());
    }

    #[test]
    fn switch_is_atomic_and_idempotent_and_prunes() {
        let p = params(json!({"path": "/srv/app", "version": "v4", "keep": 2}));
        let f = facts(&["v1", "v2", "v3", "v4"], Some("v3"), &["v1", "v2", "v3"]);
        let (pl, data) = plan(&p, &f).unwrap();
        assert_eq!(whats(&pl), ["switch current to v4", "prune v1, v2"]);
        let super::super::plan::Step::Exec { cmd, .. } = &pl.steps[0] else { panic!() };
        assert!(cmd.contains("ln -sfn releases/v4 .current.tmp && mv -T .current.tmp current"), "{cmd}");
        assert_eq!(data["previous"], "v3");
        let (pl, _) = plan(&p, &facts(&["v3", "v4"], Some("v4"), &["v3", "v4"])).unwrap();
        assert!(pl.is_empty());
        let missing = params(json!({"path": "/srv/app", "version": "v9"}));
        assert!(plan(&missing, &f).unwrap_err().contains("prepare it first"));
    }

    #[test]
    fn rollback_goes_to_the_release_before() {
        let p = params(json!({"path": "/srv/app", "state": "rolled_back"}));
        let (pl, data) = plan(&p, &facts(&["v1", "v2", "v3"], Some("v3"), &["v1", "v2", "v3"])).unwrap();
        assert_eq!(whats(&pl), ["switch current to v2"]);
        assert_eq!(data["release"], "v2");
        let super::super::plan::Step::Exec { cmd, .. } = &pl.steps[0] else { panic!() };
        assert!(cmd.contains("'v1\nv2\n'"), "history drops the bad release: {cmd}");
        assert!(plan(&p, &facts(&["v1"], Some("v1"), &["v1"])).is_err());
        assert!(plan(&p, &facts(&[], None, &[])).is_err());
    }

    #[test]
    fn blue_green_slots() {
        let prep = params(json!({"path": "/srv/app", "slots": ["blue", "green"], "state": "prepared"}));
        let f = facts(&["blue", "green"], Some("blue"), &["blue"]);
        let (pl, data) = plan(&prep, &f).unwrap();
        assert_eq!(data["slot"], "green");
        assert_eq!(whats(&pl), ["empty slot green"]);
        let sw = params(json!({"path": "/srv/app", "slots": ["blue", "green"], "version": "green"}));
        let (pl, _) = plan(&sw, &f).unwrap();
        assert_eq!(whats(&pl), ["switch current to green"]);
        let back = params(json!({"path": "/srv/app", "slots": ["blue", "green"], "state": "rolled_back"}));
        let (pl, data) = plan(&back, &facts(&["blue", "green"], Some("green"), &["blue", "green"])).unwrap();
        assert_eq!(whats(&pl), ["switch current to blue"]);
        assert_eq!(data["release"], "blue");
    }

    #[test]
    fn bad_params() {
        let parse = |v: Value| Params::parse(&ModuleArgs(v.as_object().unwrap().clone()));
        assert!(parse(json!({"path": "srv"})).is_err());
        assert!(parse(json!({"path": "/srv", "version": "../x", "state": "prepared"})).is_err());
        assert!(parse(json!({"path": "/srv", "state": "switched"})).is_err());
        assert!(parse(json!({"path": "/srv", "state": "bogus"})).is_err());
    }
}
