//! Actions the engine carries out itself, on the controller, with the host's variables:
//! debug, assert, fail, set_fact, pause, include_vars, wait_for_connection, add_host,
//! group_by, set_stats; and `meta`.

use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::Engine;
use super::block::as_text;
use super::host_task::Exec;
use super::play_run::PlayState;
use super::scope::Scope;
use crate::event::{Event, Status, TaskResult};
use crate::playbook::model::Task;
use crate::vars::{HostVars, Layer, VarMap};

type ActionResult = Result<Option<(TaskResult, VarMap)>, String>;

fn ok(data: Map<String, Value>) -> TaskResult {
    let mut r = TaskResult::new(Status::Ok);
    r.data = data;
    r
}

fn unknown_params(action: &str, args: &Map<String, Value>, allowed: &[&str]) -> Result<(), String> {
    for k in args.keys() {
        if !allowed.contains(&k.as_str()) {
            let hint = crate::modules::closest(k, allowed.iter().copied())
                .map(|s| format!(", did you mean `{s}`?"))
                .unwrap_or_default();
            return Err(format!("action `{action}` has no parameter `{k}`{hint}"));
        }
    }
    Ok(())
}

impl Engine {
    /// Runs `action` if it is one of the engine's own; `None` for a module.
    pub(super) async fn run_action(
        &self,
        _state: &PlayState<'_>,
        x: &Exec<'_>,
        vars: &HostVars,
        action: &str,
        args: &Map<String, Value>,
    ) -> ActionResult {
        let raw = crate::modules::args::RAW_PARAMS;
        Ok(Some(match action {
            "debug" => {
                unknown_params(action, args, &["msg", "var", "verbosity"])?;
                let verbosity = args.get("verbosity").and_then(Value::as_u64).unwrap_or(0);
                if verbosity > u64::from(self.opts.verbosity) {
                    let mut r = TaskResult::new(Status::Skipped);
                    r.data.insert("skipped_reason".into(), json!("Verbosity threshold not met."));
                    return Ok(Some((r, VarMap::new())));
                }
                let mut data = Map::new();
                if let Some(var) = args.get("var") {
                    let name = as_text(var);
                    // `var:` takes an expression, not a template.
                    let value = vars
                        .templater()
                        .eval_expr(&name, &vars.context())
                        .unwrap_or_else(|_| json!("VARIABLE IS NOT DEFINED!"));
                    data.insert(name, value);
                } else {
                    data.insert(
                        "msg".into(),
                        args.get("msg").cloned().unwrap_or_else(|| json!("Hello world!")),
                    );
                }
                (ok(data), VarMap::new())
            }
            "assert" => {
                unknown_params(action, args, &["that", "fail_msg", "msg", "success_msg", "quiet"])?;
                let that = match args.get("that") {
                    Some(Value::Array(a)) => a.clone(),
                    Some(v) => vec![v.clone()],
                    None => return Err("action `assert` needs the parameter `that`".into()),
                };
                for cond in that {
                    let holds = match &cond {
                        Value::Bool(b) => *b,
                        other => vars.condition(other).map_err(|e| format!("{e} (in `assert`)"))?,
                    };
                    if !holds {
                        let msg = args
                            .get("fail_msg")
                            .or_else(|| args.get("msg"))
                            .cloned()
                            .unwrap_or_else(|| json!("Assertion failed"));
                        let mut r = TaskResult::failed(as_text(&msg));
                        r.data.insert("assertion".into(), cond.clone());
                        r.data.insert("evaluated_to".into(), json!(false));
                        return Ok(Some((r, VarMap::new())));
                    }
                }
                // `quiet` only hides the evaluated conditions; the message is always there.
                let mut data = Map::new();
                let msg = args.get("success_msg").cloned().unwrap_or_else(|| json!("All assertions passed"));
                data.insert("msg".into(), msg);
                (ok(data), VarMap::new())
            }
            "fail" => {
                unknown_params(action, args, &["msg"])?;
                let msg =
                    args.get("msg").map(as_text).unwrap_or_else(|| "Failed as requested from task".into());
                (TaskResult::failed(msg), VarMap::new())
            }
            "set_fact" => {
                let mut facts = VarMap::new();
                for (k, v) in args {
                    if k != "cacheable" && k != raw {
                        facts.insert(k.clone(), v.clone());
                    }
                }
                if let Some(Value::String(text)) = args.get(raw) {
                    for token in crate::modules::args::split_args(text) {
                        if let Some((k, v)) = token.split_once('=') {
                            facts.insert(k.to_string(), json!(v));
                        }
                    }
                }
                let mut data = Map::new();
                data.insert("ansible_facts".into(), Value::Object(facts.clone().into_iter().collect()));
                (ok(data), facts)
            }
            "pause" => {
                unknown_params(action, args, &["seconds", "minutes", "prompt", "echo"])?;
                let secs = args
                    .get("seconds")
                    .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()))
                    .unwrap_or(0.0)
                    + 60.0
                        * args
                            .get("minutes")
                            .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()))
                            .unwrap_or(0.0);
                let started = Instant::now();
                if secs > 0.0 {
                    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
                } else if args.contains_key("prompt") && std::io::stdin().is_terminal() {
                    let prompt = args.get("prompt").map(as_text).unwrap_or_default();
                    eprintln!("[{}]\n{prompt}:", x.name);
                    let mut line = String::new();
                    let _ = std::io::stdin().read_line(&mut line);
                }
                let mut data = Map::new();
                data.insert("delta".into(), json!(started.elapsed().as_secs()));
                (ok(data), VarMap::new())
            }
            "include_vars" => {
                unknown_params(
                    action,
                    args,
                    &[
                        "file",
                        "name",
                        raw,
                        "dir",
                        "depth",
                        "files_matching",
                        "ignore_files",
                        "extensions",
                        "ignore_unknown_extensions",
                        "hash_behaviour",
                    ],
                )?;
                let paths = match args.get("dir") {
                    Some(dir) => {
                        let dir = self.find_vars_file(&as_text(dir), x.scope, x.task)?;
                        vars_dir_files(&dir, args)?
                    }
                    None => {
                        let file = args
                            .get("file")
                            .or_else(|| args.get(raw))
                            .map(as_text)
                            .ok_or("`include_vars` needs `file` or `dir`")?;
                        vec![self.find_vars_file(&file, x.scope, x.task)?]
                    }
                };
                let mut loaded = Map::new();
                for path in &paths {
                    let node = crate::yaml::parse_file(path).map_err(|e| e.to_string())?;
                    match node.to_json() {
                        Value::Object(m) => loaded.extend(m),
                        Value::Null => {}
                        _ => return Err(format!("`{}` must hold a mapping", path.display())),
                    }
                }
                let facts: VarMap = match args.get("name") {
                    Some(n) => [(as_text(n), Value::Object(loaded.clone()))].into_iter().collect(),
                    None => loaded.clone().into_iter().collect(),
                };
                let mut data = Map::new();
                let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                data.insert("ansible_included_var_files".into(), json!(shown));
                (ok(data), facts)
            }
            "wait_for_connection" => {
                unknown_params(action, args, &["timeout", "delay", "sleep", "connect_timeout"])?;
                let num = |k: &str, d: f64| {
                    args.get(k).and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok())).unwrap_or(d)
                };
                let (timeout, delay, sleep) = (num("timeout", 600.0), num("delay", 0.0), num("sleep", 1.0));
                tokio::time::sleep(Duration::from_secs_f64(delay)).await;
                let started = Instant::now();
                loop {
                    self.forget_connection(x, vars).await;
                    if self.probe(x, vars).await {
                        let mut data = Map::new();
                        data.insert("elapsed".into(), json!(started.elapsed().as_secs()));
                        return Ok(Some((ok(data), VarMap::new())));
                    }
                    if started.elapsed().as_secs_f64() > timeout {
                        return Ok(Some((
                            TaskResult::failed(format!("timed out waiting for connection after {timeout}s")),
                            VarMap::new(),
                        )));
                    }
                    tokio::time::sleep(Duration::from_secs_f64(sleep)).await;
                }
            }
            "add_host" => {
                let name = args
                    .get("name")
                    .or_else(|| args.get("hostname"))
                    .or_else(|| args.get("host"))
                    .map(as_text)
                    .ok_or("action `add_host` needs `name`")?;
                let groups: Vec<String> = match args
                    .get("groups")
                    .or_else(|| args.get("group"))
                    .or_else(|| args.get("groupname"))
                {
                    Some(Value::Array(a)) => a.iter().map(as_text).collect(),
                    Some(v) => as_text(v)
                        .split(',')
                        .map(|g| g.trim().to_string())
                        .filter(|g| !g.is_empty())
                        .collect(),
                    None => Vec::new(),
                };
                let host_vars: VarMap = args
                    .iter()
                    .filter(|(k, _)| {
                        !["name", "hostname", "host", "groups", "group", "groupname"].contains(&k.as_str())
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let changed = self.add_dynamic_host(&name, &groups, host_vars);
                let mut r = TaskResult::new(if changed { Status::Changed } else { Status::Ok });
                r.data.insert("add_host".into(), json!({"host_name": name, "groups": groups}));
                (r, VarMap::new())
            }
            "group_by" => {
                let key = args.get("key").map(as_text).ok_or("action `group_by` needs `key`")?;
                let key: String =
                    key.chars().map(|c| if c.is_alphanumeric() || c == '_' { c } else { '_' }).collect();
                let mut groups = vec![key.clone()];
                if let Some(p) = args.get("parents") {
                    match p {
                        Value::Array(a) => groups.extend(a.iter().map(as_text)),
                        v => groups.push(as_text(v)),
                    }
                }
                let changed = self.add_dynamic_host(x.host, &groups, VarMap::new());
                let mut r = TaskResult::new(if changed { Status::Changed } else { Status::Ok });
                r.data.insert("add_group".into(), json!(key));
                (r, VarMap::new())
            }
            "set_stats" => (ok(Map::new()), VarMap::new()),
            _ => return Ok(None),
        }))
    }

    /// Puts a host in groups made at run time (and in the fleet, with `vars`, if it is new);
    /// true when anything changed.
    fn add_dynamic_host(&self, host: &str, groups: &[String], vars: VarMap) -> bool {
        let mut changed = false;
        if self.fleet.get(host).is_none() {
            let hv = HostVars::new(self.templater.clone(), host.to_string())
                .with_layer(Layer::Inventory, vars)
                .with_vars(Layer::Magic, crate::vars::magic::host_magic(host, groups));
            self.fleet.insert(&hv);
            changed = true;
        } else if !vars.is_empty()
            && let Some(hv) = self.fleet.get(host)
        {
            self.fleet.insert(&hv.with_vars(Layer::Inventory, vars));
        }
        let mut dynamic = self.dynamic.lock().unwrap_or_else(|e| e.into_inner());
        for g in groups {
            let members = dynamic.entry(g.clone()).or_default();
            if !members.iter().any(|m| m == host) {
                members.push(host.to_string());
                changed = true;
            }
        }
        let mut all = self.inventory.groups_map();
        for (g, members) in dynamic.iter() {
            let entry = all.entry(g.clone()).or_default();
            for m in members {
                if !entry.contains(m) {
                    entry.push(m.clone());
                }
            }
        }
        self.fleet.set_groups(&all);
        changed
    }

    /// Hosts that `pattern` names through groups or hosts made at run time.
    pub(super) fn dynamic_hosts(&self, pattern: &str) -> Vec<String> {
        let dynamic = self.dynamic.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        for part in crate::inventory::split_pattern(pattern) {
            if part.starts_with('!') || part.starts_with('&') {
                continue;
            }
            let found: Vec<String> = match dynamic.get(&part) {
                Some(members) => members.clone(),
                None if dynamic.values().any(|m| m.contains(&part)) => vec![part.clone()],
                None => Vec::new(),
            };
            for h in found {
                if !out.contains(&h) {
                    out.push(h);
                }
            }
        }
        out
    }

    fn find_vars_file(&self, file: &str, scope: &Scope, task: &Task) -> Result<std::path::PathBuf, String> {
        let p = std::path::Path::new(file);
        if p.is_absolute() {
            return Ok(p.to_path_buf());
        }
        let mut dirs = Vec::new();
        if let Some(r) = &scope.role {
            dirs.push(r.dir.join("vars"));
            dirs.push(r.dir.clone());
        }
        if let Some(d) = task.loc.file.path.parent() {
            dirs.push(d.join("vars"));
            dirs.push(d.to_path_buf());
        }
        dirs.push(self.playbook_dir.join("vars"));
        dirs.push(self.playbook_dir.clone());
        dirs.into_iter()
            .map(|d| d.join(file))
            .find(|c| c.exists())
            .ok_or_else(|| format!("could not find the vars file `{file}`"))
    }

    async fn forget_connection(&self, x: &Exec<'_>, _vars: &HostVars) {
        self.pool.forget_host(x.host).await;
    }

    async fn probe(&self, x: &Exec<'_>, vars: &HostVars) -> bool {
        let vars_ok = vars.clone();
        let Ok(hc) = crate::run::host_conn::resolve(x.host, &vars_ok, &self.opts.conn) else { return false };
        let key = super::pool::Pool::key(x.host, &self.opts.conn);
        match self.pool.get(&key, hc.spec, hc.connect_timeout).await.0 {
            Ok(conn) => conn.exec(&crate::connection::Command::new("true")).await.is_ok_and(|o| o.success()),
            Err(_) => {
                self.pool.forget(&key).await;
                false
            }
        }
    }

    /// `meta:` tasks.
    pub(super) async fn run_meta(
        &self,
        state: &PlayState<'_>,
        task: &Task,
        scope: &Scope,
        hosts: &[String],
        name: &str,
    ) {
        let what = task.action.args.get(crate::modules::args::RAW_PARAMS).map(as_text).unwrap_or_default();
        // `when` on meta applies per host (end_host) or for the whole task.
        let applies: Vec<String> = hosts
            .iter()
            .filter(|h| {
                self.task_vars(h, task, scope).is_some_and(|v| {
                    let conds: Vec<_> = scope.when.iter().chain(task.common.when.iter()).collect();
                    matches!(self.first_false(&v, &conds), Ok(None))
                })
            })
            .cloned()
            .collect();
        if applies.is_empty() {
            return;
        }
        match what.trim() {
            "flush_handlers" => Box::pin(self.flush_handlers(state)).await,
            "end_play" => state.end_play.store(true, Ordering::SeqCst),
            "end_batch" => state.end_batch.store(true, Ordering::SeqCst),
            "end_host" => {
                let mut ended = state.ended.lock().unwrap_or_else(|e| e.into_inner());
                ended.extend(applies.iter().cloned());
            }
            "clear_facts" => {
                for h in &applies {
                    if let Some(v) = self.fleet.get(h) {
                        self.fleet.insert(&v.with_layer(Layer::Facts, VarMap::new()));
                    }
                }
            }
            "clear_host_errors" => {
                for h in &state.batch {
                    state.unfail(h);
                }
            }
            "reset_connection" => {
                for h in &applies {
                    self.pool.forget_host(h).await;
                }
            }
            "noop" | "refresh_inventory" | "end_role" => {}
            other => {
                self.sink.emit(&Event::TaskStarted {
                    name: name.to_string(),
                    hosts: hosts.len(),
                    handler: false,
                });
                for h in &applies {
                    let r = TaskResult::failed(format!("unknown meta action `{other}`"));
                    self.count(h, Status::Failed);
                    self.sink.emit(&Event::HostResult {
                        host: h.clone(),
                        task: name.to_string(),
                        result: r,
                        duration: Duration::ZERO,
                    });
                }
            }
        }
    }
}

/// The files `include_vars: dir=...` loads, in Ansible's order: walked depth first with each
/// directory's entries sorted, filtered by extension, `files_matching` and `ignore_files`.
fn vars_dir_files(
    dir: &std::path::Path,
    args: &Map<String, Value>,
) -> Result<Vec<std::path::PathBuf>, String> {
    let depth = args.get("depth").and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok())).unwrap_or(0);
    let matching = match args.get("files_matching").map(as_text) {
        Some(re) => Some(regex::Regex::new(&re).map_err(|e| format!("`files_matching`: {e}"))?),
        None => None,
    };
    let list = |key: &str| -> Vec<String> {
        match args.get(key) {
            Some(Value::Array(items)) => items.iter().map(as_text).collect(),
            Some(v) => as_text(v).split(',').map(|s| s.trim().to_string()).collect(),
            None => Vec::new(),
        }
    };
    let ignore = list("ignore_files");
    let mut extensions = list("extensions");
    if extensions.is_empty() {
        extensions = vec!["yaml".into(), "yml".into(), "json".into()];
    }
    let mut walk = walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name();
    if depth > 0 {
        walk = walk.max_depth(depth as usize);
    }
    let mut out = Vec::new();
    for entry in walk {
        let entry = entry.map_err(|e| e.to_string())?;
        if !entry.file_type().is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let ext_ok = name.rsplit_once('.').is_some_and(|(_, e)| extensions.iter().any(|x| x == e));
        let wanted = matching.as_ref().is_none_or(|re| re.is_match(&name));
        if ext_ok && wanted && !ignore.contains(&name) {
            out.push(entry.into_path());
        }
    }
    Ok(out)
}
