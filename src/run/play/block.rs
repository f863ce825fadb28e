//! Task lists and blocks: tasks in order on the live hosts, `rescue` for the hosts that
//! failed in the block, `always` for every host that entered it.

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::Engine;
use super::play_run::PlayState;
use super::scope::Scope;
use crate::playbook::model::{Block, Item};
use crate::vars::{Layer, VarMap};

impl Engine {
    /// Runs `items` in order on those of `hosts` still in the play.
    pub(super) fn run_items<'a>(
        &'a self,
        state: &'a PlayState<'_>,
        items: &'a [Item],
        scope: &'a Scope,
        hosts: &'a [String],
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            for item in items {
                let live = state.live(self, hosts);
                if live.is_empty() {
                    return;
                }
                match item {
                    Item::Task(t) => self.run_task(state, t, scope, &live).await,
                    Item::Block(b) => self.run_block(state, b, scope, &live).await,
                }
            }
        })
    }

    async fn run_block(&self, state: &PlayState<'_>, b: &Block, scope: &Scope, hosts: &[String]) {
        let inner = scope.push(&b.common);
        self.run_items(state, &b.block, &inner, hosts).await;
        let failed_here: Vec<String> =
            hosts.iter().filter(|h| state.failure(h).is_some_and(|f| !f.unreachable)).cloned().collect();
        if !b.rescue.is_empty() && !failed_here.is_empty() {
            for h in &failed_here {
                if let Some(f) = state.unfail(h) {
                    // A rescued failure is not a failure in the recap.
                    self.stats_mut(h, |s| {
                        s.failed = s.failed.saturating_sub(1);
                        s.rescued += 1;
                    });
                    let mut vars = VarMap::new();
                    vars.insert("ansible_failed_task".into(), f.task);
                    vars.insert("ansible_failed_result".into(), f.result);
                    if let Some(v) = self.fleet.get(h) {
                        self.fleet.insert(&v.with_vars(Layer::Facts, vars));
                    }
                }
            }
            self.run_items(state, &b.rescue, &inner, &failed_here).await;
        }
        if !b.always.is_empty() {
            // Hosts that failed (and were not rescued) run `always` too, then stay failed.
            let mut parked = Vec::new();
            for h in hosts {
                if let Some(f) = state.failure(h)
                    && !f.unreachable
                    && let Some(f) = state.unfail(h)
                {
                    parked.push((h.clone(), f));
                }
            }
            self.run_items(state, &b.always, &inner, hosts).await;
            for (h, f) in parked {
                if state.failure(&h).is_none() {
                    state.fail(&h, f);
                }
            }
        }
    }
}

/// The string form of a templated keyword value.
pub(super) fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
