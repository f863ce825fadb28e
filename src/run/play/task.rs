//! One task on every live host at once: tags, `--start-at-task`, includes and imports,
//! `meta`, `run_once`, `throttle`, and the play-wide rules after it (`any_errors_fatal`,
//! `max_fail_percentage`).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures_util::future::join_all;
use tokio::sync::Semaphore;

use super::Engine;
use super::host_task::Exec;
use super::play_run::PlayState;
use super::scope::Scope;
use crate::event::{Event, Status};
use crate::playbook::load::short_name;
use crate::playbook::model::Task;
use crate::vars::Layer;

/// Actions that pull in more tasks instead of running on the host.
const INCLUDES: &[&str] = &["include_tasks", "import_tasks", "include_role", "import_role", "include"];

impl Engine {
    /// The task's display name: its `name:` (templated with the first host's variables,
    /// as far as they allow), else the action's name, with the role as a prefix.
    pub(super) fn task_name(&self, task: &Task, scope: &Scope, hosts: &[String]) -> String {
        let base = match &task.common.name {
            Some(n) => {
                let rendered = hosts
                    .first()
                    .and_then(|h| self.task_vars(h, task, scope))
                    .and_then(|v| v.render(&serde_json::Value::String(n.value.clone())).ok())
                    .and_then(|v| v.as_str().map(str::to_string));
                rendered.unwrap_or_else(|| n.value.clone())
            }
            None => task.action.name.value.clone(),
        };
        match &scope.role {
            Some(r) => format!("{} : {base}", r.name),
            None => base,
        }
    }

    pub(super) async fn run_task(&self, state: &PlayState<'_>, task: &Task, scope: &Scope, hosts: &[String]) {
        let name = self.task_name(task, scope, hosts);
        self.run_task_named(state, task, scope, hosts, &name).await;
    }

    pub(super) async fn run_task_named(
        &self,
        state: &PlayState<'_>,
        task: &Task,
        scope: &Scope,
        hosts: &[String],
        name: &str,
    ) {
        let action = short_name(&task.action.name.value);
        if INCLUDES.contains(&action) {
            self.run_include(state, task, scope, hosts).await;
            return;
        }
        let mut tags = scope.tags.clone();
        tags.extend(task.common.tags.iter().cloned());
        if !scope.handler && !self.opts.tags.runs(&tags) {
            return;
        }
        if !self.started.load(Ordering::SeqCst) {
            let plain = name.rsplit(" : ").next().unwrap_or(name);
            let wanted = self.opts.start_at_task.as_deref().unwrap_or_default();
            if name != wanted && plain != wanted {
                return;
            }
            self.started.store(true, Ordering::SeqCst);
        }
        if action == "meta" {
            self.run_meta(state, task, scope, hosts, name).await;
            return;
        }
        if !self.step_confirms(name) {
            return;
        }
        self.sink.emit(&Event::TaskStarted {
            name: name.to_string(),
            hosts: hosts.len(),
            handler: scope.handler,
        });
        let first_vars = hosts.first().and_then(|h| self.task_vars(h, task, scope));
        let run_once = first_vars
            .as_ref()
            .and_then(|v| self.keyword_bool(v, scope.keyword(&task.common, |c| &c.run_once)).ok().flatten())
            .unwrap_or(false);
        let throttle = first_vars
            .as_ref()
            .and_then(|v| self.keyword(v, scope.keyword(&task.common, |c| &c.throttle)).ok().flatten())
            .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
            .filter(|n| *n > 0)
            .map(|n| n as usize);
        let targets: Vec<String> =
            if run_once { hosts.iter().take(1).cloned().collect() } else { hosts.to_vec() };
        let limit = throttle.unwrap_or(usize::MAX).min(self.opts.forks.max(1));
        let gate = Arc::new(Semaphore::new(limit));
        let runs = targets.iter().map(|host| {
            let gate = gate.clone();
            async move {
                let _slot = gate.acquire_owned().await.ok();
                let x = Exec { task, scope, host, name };
                (host.clone(), self.run_on_host(state, &x).await)
            }
        });
        let outcomes = join_all(runs).await;
        if run_once && let Some((first, outcome)) = outcomes.first() {
            // Every host of the batch sees the one result, as in Ansible.
            for h in hosts.iter().filter(|h| *h != first) {
                let mut facts = outcome.facts.clone();
                if let Some(reg) = &task.register {
                    facts.insert(reg.clone(), outcome.registered.clone());
                }
                if let Some(v) = self.fleet.get(h)
                    && !facts.is_empty()
                {
                    self.fleet.insert(&v.with_vars(Layer::Facts, facts));
                }
                if outcome.status == Status::Changed && !task.notify.is_empty() {
                    self.notify(state, h, &task.notify, scope);
                }
            }
        }
        let failed_now =
            outcomes.iter().any(|(h, o)| o.status == Status::Failed && state.failure(h).is_some());
        if failed_now {
            let fatal = first_vars
                .as_ref()
                .and_then(|v| {
                    self.keyword_bool(v, scope.keyword(&task.common, |c| &c.any_errors_fatal)).ok().flatten()
                })
                .unwrap_or(false);
            if fatal {
                self.warn(
                    None,
                    format!("task `{name}` failed with any_errors_fatal: stopping the play on every host"),
                );
                state.abort.store(true, Ordering::SeqCst);
            }
        }
        if outcomes.iter().any(|(_, o)| matches!(o.status, Status::Failed | Status::Unreachable)) {
            state.publish_hosts(self);
        }
        if let Some(pct) = state.max_fail_percentage {
            let failed = state.failed_count() as f64;
            let total = state.batch.len().max(1) as f64;
            if failed / total * 100.0 > pct {
                self.warn(
                    None,
                    format!("{failed} of {total} hosts failed, more than max_fail_percentage {pct}%: stopping the play"),
                );
                state.abort.store(true, Ordering::SeqCst);
            }
        }
    }
}
