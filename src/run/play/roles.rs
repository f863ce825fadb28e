//! Roles (`roles:`, include_role, import_role) and task files (include_tasks, import_tasks).
//!
//! Imports are static: `when`, tags and vars on them apply to every task they bring in.
//! Includes are dynamic: evaluated per host (their `when` once, their loop per item), and
//! the hosts that include the same file run it together.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::Engine;
use super::block::as_text;
use super::play_run::PlayState;
use super::scope::{RoleCtx, Scope};
use crate::event::{Event, Status, TaskResult};
use crate::playbook::load::{load_task_file, short_name};
use crate::playbook::model::{Common, Item, RoleRef, Spanned, Task};
use crate::vars::{Layer, VarMap};

/// What a role brings, loaded from its directory.
struct LoadedRole {
    ctx: Arc<RoleCtx>,
    defaults: VarMap,
    vars: Map<String, Value>,
    tasks: Vec<Item>,
    handlers: Vec<Item>,
    deps: Vec<RoleRef>,
}

/// Which files of a role to use (`tasks_from`, `vars_from`, ...).
#[derive(Default)]
struct RoleFiles {
    tasks: Option<String>,
    vars: Option<String>,
    defaults: Option<String>,
    handlers: Option<String>,
}

fn main_file(dir: &Path, sub: &str, name: Option<&str>) -> Option<PathBuf> {
    let base = name.unwrap_or("main");
    let d = dir.join(sub);
    [format!("{base}.yml"), format!("{base}.yaml"), base.to_string()]
        .into_iter()
        .map(|f| d.join(f))
        .find(|p| p.is_file())
}

fn load_map(path: Option<PathBuf>) -> Result<Map<String, Value>, String> {
    let Some(path) = path else { return Ok(Map::new()) };
    match crate::yaml::parse_file(&path).map_err(|e| e.to_string())?.to_json() {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        _ => Err(format!("`{}` must hold a mapping", path.display())),
    }
}

impl Engine {
    fn find_role(&self, name: &str) -> Result<PathBuf, String> {
        let direct = Path::new(name);
        if direct.is_absolute() && direct.is_dir() {
            return Ok(direct.to_path_buf());
        }
        let mut candidates = vec![self.playbook_dir.join("roles").join(name)];
        candidates.extend(self.roles_path.iter().map(|p| p.join(name)));
        candidates.push(self.playbook_dir.join(name));
        candidates.iter().find(|c| c.is_dir()).cloned().ok_or_else(|| {
            let searched: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
            format!("the role `{name}` was not found (searched {})", searched.join(", "))
        })
    }

    fn load_role(&self, name: &str, files: &RoleFiles) -> Result<LoadedRole, String> {
        let dir = self.find_role(name)?;
        let ctx =
            Arc::new(RoleCtx { name: name.rsplit('/').next().unwrap_or(name).to_string(), dir: dir.clone() });
        let defaults =
            load_map(main_file(&dir, "defaults", files.defaults.as_deref()))?.into_iter().collect();
        let vars = load_map(main_file(&dir, "vars", files.vars.as_deref()))?;
        let tasks = match main_file(&dir, "tasks", files.tasks.as_deref()) {
            Some(p) => load_task_file(&p).map_err(|e| crate::playbook::error::render(&e))?,
            None if files.tasks.is_some() => {
                return Err(format!(
                    "role `{name}` has no tasks file `{}`",
                    files.tasks.as_deref().unwrap_or_default()
                ));
            }
            None => Vec::new(),
        };
        let handlers = match main_file(&dir, "handlers", files.handlers.as_deref()) {
            Some(p) => load_task_file(&p).map_err(|e| crate::playbook::error::render(&e))?,
            None => Vec::new(),
        };
        let mut deps = Vec::new();
        if let Some(meta) = main_file(&dir, "meta", None) {
            let node = crate::yaml::parse_file(&meta).map_err(|e| e.to_string())?;
            if let Some(list) = node.get("dependencies").and_then(|d| d.as_seq()) {
                for d in list {
                    deps.push(
                        crate::playbook::load::role_ref(d).map_err(|e| crate::playbook::error::render(&e))?,
                    );
                }
            }
        }
        Ok(LoadedRole { ctx, defaults, vars, tasks, handlers, deps })
    }

    /// Runs a role from `roles:` (dependencies first; once per play unless its parameters
    /// differ).
    pub(super) async fn run_role_ref(
        &self,
        state: &PlayState<'_>,
        role: &RoleRef,
        scope: &Scope,
        hosts: &[String],
    ) {
        self.run_role(state, role, scope, &RoleFiles::default(), true, hosts).await;
    }

    fn run_role<'a>(
        &'a self,
        state: &'a PlayState<'_>,
        role: &'a RoleRef,
        scope: &'a Scope,
        files: &'a RoleFiles,
        dedupe: bool,
        hosts: &'a [String],
    ) -> futures_util::future::BoxFuture<'a, ()> {
        Box::pin(async move {
            let name = role.name.value.clone();
            if dedupe {
                // Per host set too: with `strategy: free` each host runs its roles itself.
                let key = serde_json::to_string(&(&role.common.vars, hosts)).unwrap_or_default();
                let mut seen = self.roles_seen.lock().unwrap_or_else(|e| e.into_inner());
                let entry = seen.entry(name.clone()).or_default();
                if entry.contains(&key) {
                    return;
                }
                entry.push(key);
            }
            let loaded = match self.load_role(&name, files) {
                Ok(r) => r,
                Err(msg) => {
                    self.fail_hosts(
                        state,
                        hosts,
                        &format!("role {name}"),
                        &format!("{msg} ({})", role.name.loc),
                    );
                    return;
                }
            };
            for dep in &loaded.deps {
                self.run_role(state, dep, scope, &RoleFiles::default(), true, hosts).await;
            }
            for h in hosts {
                if let Some(v) = self.fleet.get(h) {
                    self.fleet.insert(&v.with_vars(Layer::Defaults, loaded.defaults.clone()));
                }
            }
            let mut inner = scope.push(&role.common).with_role(loaded.ctx.clone());
            for (k, v) in &loaded.vars {
                inner.vars.insert(k.clone(), v.clone());
            }
            // Role parameters win over the role's vars, as in Ansible.
            for (k, v) in &role.common.vars {
                inner.vars.insert(k.clone(), v.clone());
            }
            self.register_handlers(state, &loaded.handlers, &inner);
            self.run_items(state, &loaded.tasks, &inner, hosts).await;
        })
    }

    fn fail_hosts(&self, state: &PlayState<'_>, hosts: &[String], task: &str, msg: &str) {
        self.sink.emit(&Event::TaskStarted { name: task.to_string(), hosts: hosts.len(), handler: false });
        for h in hosts {
            self.count(h, Status::Failed);
            self.sink.emit(&Event::HostResult {
                host: h.clone(),
                task: task.to_string(),
                result: TaskResult::failed(msg.to_string()),
                duration: std::time::Duration::ZERO,
            });
            state.fail(
                h,
                super::play_run::Failure {
                    task: serde_json::json!({"name": task}),
                    result: serde_json::json!({"failed": true, "msg": msg}),
                    unreachable: false,
                },
            );
        }
    }

    /// Finds a task file named in an include/import: beside the including file, in the
    /// role's `tasks/`, then beside the playbook.
    fn find_task_file(&self, file: &str, task: &Task, scope: &Scope) -> Result<PathBuf, String> {
        let p = Path::new(file);
        if p.is_absolute() {
            return Ok(p.to_path_buf());
        }
        let mut dirs = Vec::new();
        if let Some(d) = task.loc.file.path.parent() {
            dirs.push(d.to_path_buf());
        }
        if let Some(r) = &scope.role {
            dirs.push(r.dir.join("tasks"));
        }
        dirs.push(self.playbook_dir.clone());
        dirs.iter()
            .map(|d| d.join(file))
            .find(|c| c.is_file())
            .ok_or_else(|| format!("could not find the task file `{file}` ({})", task.action.name.loc))
    }

    /// include_tasks / import_tasks / include_role / import_role.
    pub(super) async fn run_include(
        &self,
        state: &PlayState<'_>,
        task: &Task,
        scope: &Scope,
        hosts: &[String],
    ) {
        let action = short_name(&task.action.name.value).to_string();
        let is_import = action.starts_with("import_");
        let is_role = action.ends_with("_role");
        let raw = crate::modules::args::RAW_PARAMS;
        if is_import {
            // Static: the task's keywords wrap every imported task.
            let inner = scope.push(&task.common);
            let first = hosts.first().and_then(|h| self.task_vars(h, task, scope));
            let render = |v: &Value| -> String {
                first
                    .as_ref()
                    .and_then(|fv| fv.render(v).ok())
                    .map(|r| as_text(&r))
                    .unwrap_or_else(|| as_text(v))
            };
            if is_role {
                let (role_ref, files) = role_args(task, &render);
                let Some(role_ref) = role_ref else {
                    self.fail_hosts(
                        state,
                        hosts,
                        &action,
                        &format!("`{action}` needs `name` ({})", task.action.name.loc),
                    );
                    return;
                };
                self.run_role(state, &role_ref, &inner, &files, false, hosts).await;
            } else {
                let Some(file) =
                    task.action.args.get("file").or_else(|| task.action.args.get(raw)).map(render)
                else {
                    self.fail_hosts(
                        state,
                        hosts,
                        &action,
                        &format!("`{action}` needs a file ({})", task.action.name.loc),
                    );
                    return;
                };
                match self
                    .find_task_file(&file, task, scope)
                    .and_then(|p| load_task_file(&p).map_err(|e| crate::playbook::error::render(&e)))
                {
                    Ok(items) => self.run_items(state, &items, &inner, hosts).await,
                    Err(msg) => self.fail_hosts(state, hosts, &action, &msg),
                }
            }
            return;
        }
        // Dynamic: tags select the include itself; `when` and the loop are per host.
        let mut tags = scope.tags.clone();
        tags.extend(task.common.tags.iter().cloned());
        if !self.opts.tags.runs(&tags) {
            return;
        }
        let mut groups: Vec<(String, VarMap, Vec<String>)> = Vec::new();
        for h in hosts {
            let Some(vars) = self.task_vars(h, task, scope) else { continue };
            let conds: Vec<&Spanned<Value>> = scope.when.iter().chain(task.common.when.iter()).collect();
            let iterations: Vec<VarMap> = match &task.r#loop {
                None => vec![VarMap::new()],
                Some(lp) => match super::loops::items(self, &vars, lp, scope) {
                    Ok(items) => {
                        let var = task.loop_control.loop_var.clone().unwrap_or_else(|| "item".into());
                        items
                            .into_iter()
                            .enumerate()
                            .map(|(i, it)| {
                                let mut m = VarMap::new();
                                m.insert(var.clone(), it);
                                if let Some(iv) = &task.loop_control.index_var {
                                    m.insert(iv.clone(), Value::from(i));
                                }
                                m
                            })
                            .collect()
                    }
                    Err(msg) => {
                        self.fail_hosts(state, std::slice::from_ref(h), &action, &msg);
                        continue;
                    }
                },
            };
            for iter_vars in iterations {
                let v = vars.with_vars(Layer::Loop, iter_vars.clone());
                match self.first_false(&v, &conds) {
                    Ok(Some(_)) => continue,
                    Ok(None) => {}
                    Err(msg) => {
                        self.fail_hosts(state, std::slice::from_ref(h), &action, &msg);
                        continue;
                    }
                }
                let rendered = match v.render(&Value::Object(task.action.args.clone())) {
                    Ok(Value::Object(m)) => m,
                    Ok(_) => Map::new(),
                    Err(e) => {
                        self.fail_hosts(state, std::slice::from_ref(h), &action, &e.to_string());
                        continue;
                    }
                };
                let key = serde_json::to_string(&(&rendered, &iter_vars)).unwrap_or_default();
                let mut extra = iter_vars.clone();
                extra.insert("__include_args".into(), Value::Object(rendered));
                match groups.iter_mut().find(|(k, _, _)| *k == key) {
                    Some((_, _, hs)) => hs.push(h.clone()),
                    None => groups.push((key, extra, vec![h.clone()])),
                }
            }
        }
        for (_, mut extra, group_hosts) in groups {
            let args = match extra.shift_remove("__include_args") {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            let mut inner = scope.clone();
            for (k, v) in task.common.vars.iter().chain(extra.iter()) {
                inner.vars.insert(k.clone(), v.clone());
            }
            if let Some(Value::Object(apply)) = args.get("apply")
                && let Ok(common) = common_from_apply(apply)
            {
                inner = inner.push(&common);
            }
            if is_role {
                let (role_ref, files) = role_args_rendered(&args, task);
                match role_ref {
                    Some(r) => self.run_role(state, &r, &inner, &files, false, &group_hosts).await,
                    None => self.fail_hosts(
                        state,
                        &group_hosts,
                        &action,
                        &format!("`{action}` needs `name` ({})", task.action.name.loc),
                    ),
                }
            } else {
                let Some(file) = args.get("file").or_else(|| args.get(raw)).map(as_text) else {
                    self.fail_hosts(
                        state,
                        &group_hosts,
                        &action,
                        &format!("`{action}` needs a file ({})", task.action.name.loc),
                    );
                    continue;
                };
                match self
                    .find_task_file(&file, task, scope)
                    .and_then(|p| load_task_file(&p).map_err(|e| crate::playbook::error::render(&e)))
                {
                    Ok(items) => self.run_items(state, &items, &inner, &group_hosts).await,
                    Err(msg) => self.fail_hosts(state, &group_hosts, &action, &msg),
                }
            }
        }
    }
}

/// `apply:` of include_tasks/include_role: keywords for every included task.
fn common_from_apply(apply: &Map<String, Value>) -> Result<Common, ()> {
    let mut c = Common::default();
    if let Some(Value::Array(t)) = apply.get("tags") {
        c.tags = t.iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
    } else if let Some(Value::String(t)) = apply.get("tags") {
        c.tags = vec![t.clone()];
    }
    Ok(c)
}

fn role_args(task: &Task, render: &dyn Fn(&Value) -> String) -> (Option<RoleRef>, RoleFiles) {
    let args: Map<String, Value> =
        task.action.args.iter().map(|(k, v)| (k.clone(), Value::String(render(v)))).collect();
    role_args_rendered(&args, task)
}

fn role_args_rendered(args: &Map<String, Value>, task: &Task) -> (Option<RoleRef>, RoleFiles) {
    let get = |k: &str| args.get(k).map(as_text);
    let files = RoleFiles {
        tasks: get("tasks_from"),
        vars: get("vars_from"),
        defaults: get("defaults_from"),
        handlers: get("handlers_from"),
    };
    let name = get("name").or_else(|| get("role"));
    let role = name.map(|n| RoleRef {
        name: Spanned { value: n, loc: task.action.name.loc.clone() },
        common: Common::default(),
    });
    (role, files)
}
