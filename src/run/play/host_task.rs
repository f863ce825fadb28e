//! One task on one host: `when`, the loop, the module or action itself, `until`,
//! `changed_when`/`failed_when`, `register`, `notify`, and the host's fate on failure.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::Engine;
use super::controller::TaskController;
use super::play_run::{Failure, PlayState};
use super::scope::Scope;
use crate::event::{Event, Status, TaskResult};
use crate::modules::{self, ModuleArgs, ModuleCtx};
use crate::playbook::load::{short_name, truthy};
use crate::playbook::model::{Spanned, Task};
use crate::run::host_conn::{self, BecomeDefaults};
use crate::template::OMIT;
use crate::vars::{HostVars, Layer, VarMap};

/// What a host's run of a task leaves behind for the task as a whole.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    /// The value `register` stores (also set on the other hosts for `run_once`).
    pub registered: Value,
    /// Facts/vars the task set (`set_fact`, gathered facts), to copy for `run_once`.
    pub facts: VarMap,
}

/// Everything per-task a single execution needs, resolved once per host.
pub(super) struct Exec<'a> {
    pub task: &'a Task,
    pub scope: &'a Scope,
    pub host: &'a str,
    pub name: &'a str,
}

impl Engine {
    /// The host's variables for this task: its current snapshot plus the scope's and the
    /// task's own `vars:`.
    pub(super) fn task_vars(&self, host: &str, task: &Task, scope: &Scope) -> Option<HostVars> {
        let base = self.fleet.get(host)?;
        let mut layer: VarMap = scope.vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        for (k, v) in &task.common.vars {
            layer.insert(k.clone(), v.clone());
        }
        let mut vars = base.with_layer(Layer::Task, layer);
        // As Ansible: whether the run (or the task itself, when it says so literally) is in
        // check or diff mode.
        let literal = |v: Option<&Spanned<Value>>| v.and_then(|v| v.value.as_bool());
        let check = literal(scope.keyword(&task.common, |c| &c.check_mode)).unwrap_or(self.opts.check);
        let diff = literal(scope.keyword(&task.common, |c| &c.diff)).unwrap_or(self.opts.diff);
        vars = vars.with_vars(
            Layer::Magic,
            [
                ("ansible_check_mode".to_string(), json!(check)),
                ("ansible_diff_mode".to_string(), json!(diff)),
            ],
        );
        if let Some(role) = &scope.role {
            vars = vars.with_vars(
                Layer::Magic,
                [
                    ("role_name".to_string(), json!(role.name)),
                    ("role_path".to_string(), json!(role.dir.display().to_string())),
                ],
            );
        }
        Some(vars)
    }

    /// A keyword's value for this task, templated with the host's variables.
    pub(super) fn keyword(
        &self,
        vars: &HostVars,
        value: Option<&Spanned<Value>>,
    ) -> Result<Option<Value>, String> {
        match value {
            None => Ok(None),
            Some(v) => vars.render(&v.value).map(Some).map_err(|e| format!("{e} ({})", v.loc)),
        }
    }

    pub(super) fn keyword_bool(
        &self,
        vars: &HostVars,
        value: Option<&Spanned<Value>>,
    ) -> Result<Option<bool>, String> {
        Ok(self.keyword(vars, value)?.map(|v| truthy(&v)))
    }

    /// Runs `task` on `host` to the end and records the outcome (events, stats, failure).
    pub(super) async fn run_on_host(&self, state: &PlayState<'_>, x: &Exec<'_>) -> Outcome {
        let began = Instant::now();
        self.sink.emit(&Event::HostStarted { host: x.host.to_string(), task: x.name.to_string() });
        let (result, registered, facts) = match self.run_host_inner(state, x).await {
            Ok(done) => done,
            Err(msg) => {
                // Like Ansible: say where the task is, with the line and a caret.
                let r = TaskResult::failed(format!(
                    "{msg}\n\nThe error appears to be in the task at {}",
                    x.task.loc.excerpt()
                ));
                let reg = r.to_registered();
                (r, reg, VarMap::new())
            }
        };
        let vars = self.task_vars(x.host, x.task, x.scope);
        let no_log = vars
            .as_ref()
            .and_then(|v| self.keyword_bool(v, x.scope.keyword(&x.task.common, |c| &c.no_log)).ok().flatten())
            .unwrap_or(false);
        let ignore_errors = vars
            .as_ref()
            .and_then(|v| {
                self.keyword_bool(v, x.scope.keyword(&x.task.common, |c| &c.ignore_errors)).ok().flatten()
            })
            .unwrap_or(false);
        let ignore_unreachable = vars
            .as_ref()
            .and_then(|v| {
                self.keyword_bool(v, x.scope.keyword(&x.task.common, |c| &c.ignore_unreachable))
                    .ok()
                    .flatten()
            })
            .unwrap_or(false);
        let shown = if no_log { censored(&result) } else { result.clone() };
        let status = result.status;
        if status == Status::Unreachable {
            let reason = result.msg.clone().unwrap_or_default();
            self.sink.emit(&Event::HostUnreachable {
                host: x.host.to_string(),
                task: x.name.to_string(),
                reason,
            });
            if !ignore_unreachable {
                self.count(x.host, Status::Unreachable);
                state.fail(
                    x.host,
                    Failure { task: task_json(x), result: registered.clone(), unreachable: true },
                );
                self.kill(x.host);
            } else {
                self.count(x.host, Status::Skipped);
            }
        } else {
            self.sink.emit(&Event::HostResult {
                host: x.host.to_string(),
                task: x.name.to_string(),
                result: shown,
                duration: began.elapsed(),
            });
            if status == Status::Failed && ignore_errors {
                self.sink.emit(&Event::Ignored { host: x.host.to_string(), task: x.name.to_string() });
                // Ansible counts an ignored failure as ok, and as changed when the module
                // said so (a failed command did run).
                let changed = registered.get("changed").and_then(Value::as_bool).unwrap_or(false);
                self.stats_mut(x.host, |s| {
                    s.ignored += 1;
                    s.ok += 1;
                    s.changed += u32::from(changed);
                });
            } else {
                self.count(x.host, status);
            }
            if status == Status::Failed && !ignore_errors {
                state.fail(
                    x.host,
                    Failure { task: task_json(x), result: registered.clone(), unreachable: false },
                );
            }
        }
        if status == Status::Changed && !x.task.notify.is_empty() {
            self.notify(state, x.host, &x.task.notify, x.scope);
        }
        Outcome { status, registered, facts }
    }

    /// The task's work on one host; errors are template and argument problems, which fail
    /// the task on this host only.
    async fn run_host_inner(
        &self,
        state: &PlayState<'_>,
        x: &Exec<'_>,
    ) -> Result<(TaskResult, Value, VarMap), String> {
        let vars =
            self.task_vars(x.host, x.task, x.scope).ok_or_else(|| format!("unknown host `{}`", x.host))?;
        let conditions: Vec<&Spanned<Value>> = x.scope.when.iter().chain(x.task.common.when.iter()).collect();
        let mut facts = VarMap::new();
        let (result, registered) = match &x.task.r#loop {
            None => {
                if let Some(cond) = self.first_false(&vars, &conditions)? {
                    let r = skipped(&cond);
                    let reg = r.to_registered();
                    (r, reg)
                } else {
                    let (r, f) = self.execute_with_retries(state, x, &vars).await?;
                    facts.extend(f);
                    let reg = r.to_registered();
                    (r, reg)
                }
            }
            Some(lp) => {
                let items = super::loops::items(self, &vars, lp, x.scope)?;
                self.run_loop(state, x, &vars, &conditions, items, &mut facts).await?
            }
        };
        if let Some(name) = &x.task.register {
            facts.insert(name.clone(), registered.clone());
        }
        if !facts.is_empty() {
            self.store_facts(x, &facts)?;
        }
        Ok((result, registered, facts))
    }

    /// Stores `register`/`set_fact` results on the host (or on the delegate with
    /// `delegate_facts`).
    fn store_facts(&self, x: &Exec<'_>, facts: &VarMap) -> Result<(), String> {
        let mut target = x.host.to_string();
        if let Some(vars) = self.task_vars(x.host, x.task, x.scope)
            && self
                .keyword_bool(&vars, x.scope.keyword(&x.task.common, |c| &c.delegate_facts))?
                .unwrap_or(false)
            && let Some(Value::String(d)) =
                self.keyword(&vars, x.scope.keyword(&x.task.common, |c| &c.delegate_to))?
        {
            target = d;
        }
        if let Some(current) = self.fleet.get(&target) {
            self.fleet.insert(&current.with_vars(Layer::Facts, facts.clone()));
        }
        Ok(())
    }

    /// The first `when` condition that does not hold, if any.
    pub(super) fn first_false(
        &self,
        vars: &HostVars,
        conditions: &[&Spanned<Value>],
    ) -> Result<Option<String>, String> {
        for c in conditions {
            let ok = vars.condition(&c.value).map_err(|e| format!("{e} (in `when` at {})", c.loc))?;
            if !ok {
                return Ok(Some(match &c.value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                }));
            }
        }
        Ok(None)
    }

    async fn run_loop(
        &self,
        state: &PlayState<'_>,
        x: &Exec<'_>,
        vars: &HostVars,
        conditions: &[&Spanned<Value>],
        items: Vec<Value>,
        facts: &mut VarMap,
    ) -> Result<(TaskResult, Value), String> {
        let lc = &x.task.loop_control;
        let loop_var = lc.loop_var.clone().unwrap_or_else(|| "item".to_string());
        let mut results = Vec::new();
        let (mut any_changed, mut any_failed, mut all_skipped) = (false, false, true);
        let count = items.len();
        // A module that can do a whole loop in fewer round trips gets every item at once.
        let mut batched = self.run_batched(x, vars, conditions, &items).await?.map(Vec::into_iter);
        for (index, item) in items.iter().enumerate() {
            // Earlier items' facts are visible to later ones (set_fact in a loop).
            let item_vars = item_vars(vars, facts, x.task, &items, index);
            let label = match &lc.label {
                Some(l) => item_vars.render(l).unwrap_or_else(|_| l.clone()),
                None => item.clone(),
            };
            let result = match batched.as_mut().and_then(Iterator::next) {
                Some((r, f)) => {
                    facts.extend(f);
                    r
                }
                None => match self.first_false(&item_vars, conditions)? {
                    Some(cond) => skipped(&cond),
                    None => {
                        let (r, f) = self.execute_with_retries_vars(state, x, &item_vars).await?;
                        facts.extend(f);
                        r
                    }
                },
            };
            any_changed |= result.status == Status::Changed;
            any_failed |= result.status == Status::Failed;
            all_skipped &= result.status == Status::Skipped;
            let mut reg = result.to_registered();
            if let Value::Object(m) = &mut reg {
                m.insert(loop_var.clone(), item.clone());
                m.insert("ansible_loop_var".into(), json!(loop_var));
                if let Some(iv) = &lc.index_var {
                    m.insert(iv.clone(), json!(index));
                }
            }
            self.sink.emit(&Event::ItemResult {
                host: x.host.to_string(),
                task: x.name.to_string(),
                item: label,
                result: result.clone(),
            });
            results.push(reg);
            if let Some(p) = lc.pause
                && index + 1 < count
            {
                tokio::time::sleep(Duration::from_secs_f64(p.max(0.0))).await;
            }
        }
        let status = if any_failed {
            Status::Failed
        } else if count > 0 && all_skipped {
            Status::Skipped
        } else if any_changed {
            Status::Changed
        } else {
            Status::Ok
        };
        let mut result = TaskResult::new(status);
        result.msg = Some(if any_failed {
            "One or more items failed".to_string()
        } else if count == 0 || all_skipped {
            "All items skipped".to_string()
        } else {
            "All items completed".to_string()
        });
        if count == 0 {
            result.status = Status::Skipped;
            result.data.insert("skipped_reason".into(), json!("No items in the list"));
        }
        // A loop with a failed item is still `changed` when another item changed something.
        if any_failed && any_changed {
            result.data.insert("changed".into(), json!(true));
        }
        result.data.insert("results".into(), Value::Array(results));
        let registered = result.to_registered();
        Ok((result, registered))
    }

    async fn execute_with_retries(
        &self,
        state: &PlayState<'_>,
        x: &Exec<'_>,
        vars: &HostVars,
    ) -> Result<(TaskResult, VarMap), String> {
        self.execute_with_retries_vars(state, x, vars).await
    }

    /// One execution, repeated while `until` does not hold (`retries`, `delay`), then judged
    /// by `changed_when`/`failed_when`.
    async fn execute_with_retries_vars(
        &self,
        state: &PlayState<'_>,
        x: &Exec<'_>,
        vars: &HostVars,
    ) -> Result<(TaskResult, VarMap), String> {
        let task = x.task;
        let retries = match self.keyword(vars, task.retries.as_ref())? {
            Some(v) => v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).unwrap_or(3),
            None => 3,
        };
        let delay = match self.keyword(vars, task.delay.as_ref())? {
            Some(v) => v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).unwrap_or(5.0),
            None => 5.0,
        };
        let attempts_max = if task.until.is_empty() { 1 } else { retries.max(1) + 1 };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (mut result, facts) = self.execute(state, x, vars).await?;
            if result.status != Status::Unreachable {
                self.judge(x, vars, &mut result)?;
            }
            if task.until.is_empty() {
                return Ok((result, facts));
            }
            let judged = vars.with_vars(Layer::Loop, self.result_vars(x, &result));
            let conds: Vec<&Spanned<Value>> = task.until.iter().collect();
            let done = result.status != Status::Unreachable && self.first_false(&judged, &conds)?.is_none();
            result.data.insert("attempts".into(), json!(attempt));
            if done {
                return Ok((result, facts));
            }
            if attempt >= attempts_max || result.status == Status::Unreachable {
                if result.status != Status::Unreachable {
                    result.status = Status::Failed;
                    if result.msg.is_none() {
                        result.msg = Some(format!("retries exhausted after {attempt} attempts"));
                    }
                }
                return Ok((result, facts));
            }
            tokio::time::sleep(Duration::from_secs_f64(delay.max(0.0))).await;
        }
    }

    /// The registered name bound to this result, for `changed_when`/`failed_when`/`until`.
    fn result_vars(&self, x: &Exec<'_>, result: &TaskResult) -> VarMap {
        let mut m = VarMap::new();
        if let Some(name) = &x.task.register {
            m.insert(name.clone(), result.to_registered());
        }
        m
    }

    /// Applies `changed_when` and `failed_when`.
    pub(super) fn judge(&self, x: &Exec<'_>, vars: &HostVars, result: &mut TaskResult) -> Result<(), String> {
        let task = x.task;
        if task.changed_when.is_empty() && task.failed_when.is_empty() {
            return Ok(());
        }
        if result.status == Status::Skipped {
            return Ok(());
        }
        let judged = vars.with_vars(Layer::Loop, self.result_vars(x, result));
        // Commands report `changed` even when they fail, as Ansible's do.
        let mut changed = result.status == Status::Changed
            || (result.status == Status::Failed
                && result.rc.is_some()
                && is_command(&task.action.name.value));
        let mut failed = result.status == Status::Failed;
        if !task.changed_when.is_empty() {
            let conds: Vec<&Spanned<Value>> = task.changed_when.iter().collect();
            changed = self.first_false(&judged, &conds)?.is_none();
        }
        if !task.failed_when.is_empty() {
            let conds: Vec<&Spanned<Value>> = task.failed_when.iter().collect();
            failed = self.first_false(&judged, &conds)?.is_none();
            result.data.insert("failed_when_result".into(), json!(failed));
            if !failed && result.msg.as_deref() == Some("non-zero return code") {
                result.msg = None;
            }
        }
        result.status = if failed {
            Status::Failed
        } else if changed {
            Status::Changed
        } else {
            Status::Ok
        };
        Ok(())
    }

    /// One execution of the task's action with these variables.
    async fn execute(
        &self,
        state: &PlayState<'_>,
        x: &Exec<'_>,
        vars: &HostVars,
    ) -> Result<(TaskResult, VarMap), String> {
        let action = short_name(&x.task.action.name.value).to_string();
        let args = self.module_args(x, vars, &action)?;
        if let Some(result) = self.run_action(state, x, vars, &action, &args).await? {
            return Ok(result);
        }
        // A built-in module, or a custom one (WANT_JSON) from the library search path.
        let (def, custom) = match modules::lookup(&x.task.action.name.value) {
            Ok(def) => (Some(def), None),
            Err(e) => match self.custom_module(x, &action) {
                Some(path) => (None, Some(path)),
                None => return Err(e.to_string()),
            },
        };
        let margs = ModuleArgs(args);
        if let Some(def) = def {
            margs.validate(def).map_err(|e| format!("{e} ({})", x.task.action.name.loc))?;
        }
        let ctx_parts = self.connect_for(x, vars).await?;
        let (conn, become_, env, timeout, check, diff, controller) = match ctx_parts {
            Connected::Ok { conn, r#become, env, timeout, check, diff, controller } => {
                (conn, r#become, env, timeout, check, diff, controller)
            }
            Connected::Unreachable(msg) => {
                let mut r = TaskResult::new(Status::Unreachable);
                r.msg = Some(msg);
                return Ok((r, VarMap::new()));
            }
        };
        let ctx = ModuleCtx {
            host: x.host,
            conn: conn.as_ref(),
            r#become: become_,
            check_mode: check,
            diff,
            env,
            timeout,
            controller: &controller,
        };
        let run = async {
            match (def, &custom) {
                (Some(def), _) => (def.run)(&ctx, margs).await,
                (None, Some(path)) => modules::custom::run(&ctx, path, margs.0).await,
                (None, None) => Ok(TaskResult::failed("no module to run")),
            }
        };
        let outcome = match timeout {
            Some(limit) => match tokio::time::timeout(limit + Duration::from_secs(2), run).await {
                Ok(o) => o,
                Err(_) => Ok(TaskResult::failed(format!("the task timed out after {}s", limit.as_secs()))),
            },
            None => run.await,
        };
        Ok(self.settle(x, vars, outcome))
    }

    /// The module's arguments for one execution: `module_defaults`, then the task's own,
    /// templated with `vars`, without those that are `omit`.
    pub(super) fn module_args(
        &self,
        x: &Exec<'_>,
        vars: &HostVars,
        action: &str,
    ) -> Result<Map<String, Value>, String> {
        let mut args = Map::new();
        for (k, v) in x.scope.module_defaults(&x.task.common, action) {
            args.insert(k, v);
        }
        for (k, v) in &x.task.action.args {
            args.insert(k.clone(), v.clone());
        }
        let rendered = match vars.render(&Value::Object(args)) {
            Ok(Value::Object(m)) => m,
            Ok(_) => return Err("the task's arguments did not template to a mapping".into()),
            Err(e) => {
                return Err(format!("{e} (in the arguments of the task at {})", x.task.action.name.loc));
            }
        };
        Ok(rendered.into_iter().filter(|(_, v)| !is_omit(v)).collect())
    }

    /// What a module's outcome becomes: the task's result (connection loss as unreachable,
    /// argument problems pointing at the module's line) and the facts it returned.
    pub(super) fn settle(
        &self,
        x: &Exec<'_>,
        vars: &HostVars,
        outcome: Result<TaskResult, modules::ModuleError>,
    ) -> (TaskResult, VarMap) {
        let mut facts = VarMap::new();
        let result = match outcome {
            Ok(mut r) => {
                if let Some(Value::Object(f)) = r.data.remove("ansible_facts") {
                    let existing = vars.raw("ansible_facts").map(|(v, _)| v.clone());
                    facts.extend(super::play_run::facts_vars(&f, existing.as_ref()));
                    r.data.insert("ansible_facts".into(), Value::Object(f));
                }
                r
            }
            Err(modules::ModuleError::Conn(e)) if e.is_unreachable() => {
                let mut r = TaskResult::new(Status::Unreachable);
                r.msg = Some(e.to_string());
                r
            }
            // Argument problems found only now (templated arguments) point at the module.
            Err(
                e @ (modules::ModuleError::MissingParam { .. }
                | modules::ModuleError::BadArgs { .. }
                | modules::ModuleError::UnknownParam { .. }),
            ) => TaskResult::failed(format!(
                "{e}\n\nThe error appears to be in the task at {}",
                x.task.action.name.loc.excerpt()
            )),
            Err(e) => TaskResult::failed(e.to_string()),
        };
        (result, facts)
    }

    /// The custom module `name` for this task: the role's `library/`, then beside the task's
    /// file, the project's `modules/` and `BATON_LIBRARY`.
    fn custom_module(&self, x: &Exec<'_>, name: &str) -> Option<std::path::PathBuf> {
        if let Some(role) = &x.scope.role {
            let p = role.dir.join("library").join(name);
            if p.is_file() {
                return Some(p);
            }
        }
        crate::playbook::library::find(name, &x.task.loc.file.path)
            .or_else(|| crate::playbook::library::find(name, &self.playbook_dir.join("playbook.yml")))
    }

    /// Opens (or reuses) the connection this task runs over: the host's own, or the
    /// delegate's with `delegate_to`/`local_action`.
    pub(super) async fn connect_for(&self, x: &Exec<'_>, vars: &HostVars) -> Result<Connected, String> {
        let c = &x.task.common;
        let kw =
            |pick: fn(&crate::playbook::model::Common) -> &Option<Spanned<Value>>| x.scope.keyword(c, pick);
        let mut target = x.host.to_string();
        if x.task.local {
            target = "localhost".into();
        } else if let Some(d) = self.keyword(vars, kw(|c| &c.delegate_to))? {
            target = d.as_str().map(str::to_string).unwrap_or_else(|| d.to_string());
        }
        let mut defaults = self.opts.conn.clone();
        if let Some(u) = self.keyword(vars, kw(|c| &c.remote_user))? {
            defaults.user = Some(u.as_str().map(str::to_string).unwrap_or_else(|| u.to_string()));
        }
        if let Some(cn) = self.keyword(vars, kw(|c| &c.connection))? {
            defaults.connection = Some(cn.as_str().map(str::to_string).unwrap_or_else(|| cn.to_string()));
        }
        if let Some(p) = self.keyword(vars, kw(|c| &c.port))? {
            let text = super::block::as_text(&p);
            defaults.port =
                Some(text.trim().parse().map_err(|_| format!("`port` must be a port number, not `{text}`"))?);
        }
        let timeout = match self.keyword(vars, kw(|c| &c.timeout))? {
            Some(v) => {
                v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).map(Duration::from_secs)
            }
            None => None,
        };
        // The connection uses the target's variables (the delegate's when delegating).
        let conn_vars = if target == x.host {
            vars.clone()
        } else {
            match self.fleet.get(&target) {
                Some(v) => v,
                None if crate::inventory::LOCALHOST_NAMES.contains(&target.as_str()) => {
                    HostVars::new(self.templater.clone(), target.clone())
                        .with_layer(Layer::Inventory, self.inventory.host_vars(&target))
                }
                None => HostVars::new(self.templater.clone(), target.clone()),
            }
        };
        let hc = host_conn::resolve(&target, &conn_vars, &defaults).map_err(|e| e.to_string())?;
        for w in &hc.warnings {
            self.warn(Some(&target), w.clone());
        }
        let key = super::pool::Pool::key(&target, &defaults);
        let conn = match self.pool.get(&key, hc.spec, hc.connect_timeout + Duration::from_secs(1)).await {
            (Ok(c), opened) => {
                if opened {
                    self.sink.emit(&Event::Connected { host: target.clone(), detail: c.describe() });
                }
                c
            }
            (Err(msg), _) => return Ok(Connected::Unreachable(msg)),
        };
        let become_defaults = BecomeDefaults {
            enabled: self.keyword_bool(vars, kw(|c| &c.r#become))?.unwrap_or(self.opts.r#become.enabled),
            user: match self.keyword(vars, kw(|c| &c.become_user))? {
                Some(v) => Some(v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())),
                None => self.opts.r#become.user.clone(),
            },
            method: match self.keyword(vars, kw(|c| &c.become_method))? {
                Some(v) if v.as_str() == Some("su") => Some(crate::connection::BecomeMethod::Su),
                Some(_) => Some(crate::connection::BecomeMethod::Sudo),
                None => self.opts.r#become.method,
            },
            password: self.opts.r#become.password.clone(),
        };
        let r#become = host_conn::resolve_become(vars, &become_defaults).map_err(|e| e.to_string())?;
        let mut env = Vec::new();
        for e in x.scope.environments(c) {
            match vars.render(&e.value).map_err(|err| format!("{err} (in `environment` at {})", e.loc))? {
                Value::Object(m) => {
                    for (k, v) in m {
                        let v = match v {
                            Value::String(s) => s,
                            other => other.to_string(),
                        };
                        env.retain(|(name, _): &(String, String)| name != &k);
                        env.push((k, v));
                    }
                }
                Value::Null => {}
                _ => return Err(format!("`environment` must be a mapping ({})", e.loc)),
            }
        }
        let check = self.keyword_bool(vars, kw(|c| &c.check_mode))?.unwrap_or(self.opts.check);
        let diff = self.keyword_bool(vars, kw(|c| &c.diff))?.unwrap_or(self.opts.diff);
        let controller = TaskController::new(vars.clone(), x.scope.role.clone(), self.playbook_dir.clone());
        Ok(Connected::Ok { conn, r#become, env, timeout, check, diff, controller })
    }
}

pub(super) enum Connected {
    Ok {
        conn: std::sync::Arc<dyn crate::connection::Connection>,
        r#become: Option<crate::connection::Become>,
        env: Vec<(String, String)>,
        timeout: Option<Duration>,
        check: bool,
        diff: bool,
        controller: TaskController,
    },
    Unreachable(String),
}

/// The variables of item `index` of a loop: the item under its `loop_var`, `loop_control`'s
/// index and `ansible_loop`, over the host's variables and the facts earlier items set.
pub(super) fn item_vars(
    vars: &HostVars,
    facts: &VarMap,
    task: &Task,
    items: &[Value],
    index: usize,
) -> HostVars {
    let lc = &task.loop_control;
    let loop_var = lc.loop_var.clone().unwrap_or_else(|| "item".to_string());
    let count = items.len();
    let mut lv = VarMap::new();
    lv.insert(loop_var.clone(), items.get(index).cloned().unwrap_or(Value::Null));
    lv.insert("ansible_loop_var".into(), json!(loop_var));
    if let Some(iv) = &lc.index_var {
        lv.insert(iv.clone(), json!(index));
        lv.insert("ansible_index_var".into(), json!(iv));
    }
    if lc.extended {
        lv.insert(
            "ansible_loop".into(),
            json!({
                "index": index + 1, "index0": index, "revindex": count - index, "revindex0": count - index - 1,
                "first": index == 0, "last": index + 1 == count, "length": count,
                "allitems": items, "previtem": if index > 0 { items[index - 1].clone() } else { Value::Null },
                "nextitem": items.get(index + 1).cloned().unwrap_or(Value::Null),
            }),
        );
    }
    let base = if facts.is_empty() { vars.clone() } else { vars.with_vars(Layer::Facts, facts.clone()) };
    base.with_layer(Layer::Loop, lv)
}

fn is_omit(v: &Value) -> bool {
    v.as_str() == Some(OMIT)
}

fn is_command(name: &str) -> bool {
    matches!(short_name(name), "command" | "shell" | "raw" | "script")
}

/// The result of a task whose `when` did not hold.
pub(super) fn skipped(condition: &str) -> TaskResult {
    let mut r = TaskResult::new(Status::Skipped);
    r.data.insert("skip_reason".into(), json!("Conditional result was False"));
    r.data.insert("false_condition".into(), json!(condition));
    r
}

/// What `no_log: true` shows instead of a result.
fn censored(result: &TaskResult) -> TaskResult {
    let mut r = TaskResult::new(result.status);
    r.data.insert(
        "censored".into(),
        json!("the output has been hidden due to the fact that 'no_log: true' was specified for this result"),
    );
    r
}

/// `ansible_failed_task` as rescue sections see it.
fn task_json(x: &Exec<'_>) -> Value {
    json!({
        "name": x.name,
        "action": x.task.action.name.value,
        "args": Value::Object(x.task.action.args.clone()),
        "loc": x.task.loc.to_string(),
    })
}
