//! Handlers: notified by name or `listen` topic when a task changed something, run once
//! per host at the end of each section (or on `meta: flush_handlers`), in the order they
//! are defined, only on hosts that notified them.

use std::sync::atomic::Ordering;

use super::Engine;
use super::play_run::PlayState;
use super::scope::Scope;
use crate::playbook::model::{Item, Task};

/// A handler of the play (or of one of its roles).
#[derive(Debug, Clone)]
pub struct HandlerDef {
    pub task: Task,
    pub scope: Scope,
    /// Names it answers to: its name, `role : name`, and its `listen` topics.
    pub names: Vec<String>,
}

impl Engine {
    /// Adds handlers (tasks, and the tasks of blocks) to the play's list.
    pub(super) fn register_handlers(&self, state: &PlayState<'_>, items: &[Item], scope: &Scope) {
        let mut scope = scope.clone();
        scope.handler = true;
        let mut list = state.handlers.lock().unwrap_or_else(|e| e.into_inner());
        let mut stack: Vec<(&Item, Scope)> = items.iter().rev().map(|i| (i, scope.clone())).collect();
        while let Some((item, sc)) = stack.pop() {
            match item {
                Item::Task(t) => {
                    let mut names = Vec::new();
                    if let Some(n) = &t.common.name {
                        names.push(n.value.clone());
                        if let Some(r) = &sc.role {
                            names.push(format!("{} : {}", r.name, n.value));
                        }
                    }
                    names.extend(t.listen.iter().cloned());
                    list.push(HandlerDef { task: (**t).clone(), scope: sc, names });
                }
                Item::Block(b) => {
                    let inner = sc.push(&b.common);
                    for i in b.block.iter().rev() {
                        stack.push((i, inner.clone()));
                    }
                }
            }
        }
    }

    /// Records that `host` notified `names`.
    pub(super) fn notify(&self, state: &PlayState<'_>, host: &str, names: &[String], scope: &Scope) {
        let handlers = state.handlers.lock().unwrap_or_else(|e| e.into_inner());
        let mut notified = state.notified.lock().unwrap_or_else(|e| e.into_inner());
        for name in names {
            let name = self
                .task_vars_plain(host, scope)
                .and_then(|v| v.render(&serde_json::Value::String(name.clone())).ok())
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| name.clone());
            let mut found = false;
            for (i, h) in handlers.iter().enumerate() {
                if h.names.contains(&name) {
                    found = true;
                    let hosts = notified.entry(i).or_default();
                    if !hosts.iter().any(|x| x == host) {
                        hosts.push(host.to_string());
                    }
                }
            }
            if !found {
                self.warn(
                    Some(host),
                    format!(
                        "the handler `{name}` was notified but no handler has that name or listens to it"
                    ),
                );
            }
        }
    }

    /// Runs the notified handlers, in definition order.
    pub(super) async fn flush_handlers(&self, state: &PlayState<'_>) {
        let mut index = 0;
        loop {
            let next = {
                let handlers = state.handlers.lock().unwrap_or_else(|e| e.into_inner());
                if index >= handlers.len() {
                    break;
                }
                let hosts = state.notified.lock().unwrap_or_else(|e| e.into_inner()).remove(&index);
                hosts.map(|h| (handlers[index].clone(), h))
            };
            index += 1;
            let Some((handler, notified)) = next else { continue };
            let hosts: Vec<String> = if state.force_handlers {
                notified.into_iter().filter(|h| !self.is_dead(h)).collect()
            } else {
                state.live(self, &notified)
            };
            if hosts.is_empty() || state.end_play.load(Ordering::SeqCst) {
                continue;
            }
            self.run_task(state, &handler.task, &handler.scope, &hosts).await;
        }
    }

    /// The host's variables with the scope's vars (for templating a notify name).
    fn task_vars_plain(&self, host: &str, scope: &Scope) -> Option<crate::vars::HostVars> {
        let base = self.fleet.get(host)?;
        let layer = scope.vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        Some(base.with_layer(crate::vars::Layer::Task, layer))
    }
}
