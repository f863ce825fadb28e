//! One play: its hosts, its variables, its batches, and the sections of each batch
//! (facts, pre_tasks, roles, tasks, post_tasks, with handlers flushed after each section).

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value};

use super::Engine;
use super::handlers::HandlerDef;
use super::scope::Scope;
use crate::event::Event;
use crate::playbook::load::truthy;
use crate::playbook::model::{Item, Play};
use crate::vars::{Layer, VarMap};

/// What every batch of a play shares.
pub struct BatchShape {
    pub scope: Scope,
    pub force_handlers: bool,
    pub max_fail_percentage: Option<f64>,
}

/// Why a host left the play.
#[derive(Debug, Clone)]
pub struct Failure {
    pub task: Value,
    pub result: Value,
    pub unreachable: bool,
}

/// The state of one batch of a play.
pub struct PlayState<'p> {
    pub play: &'p Play,
    pub scope: Scope,
    pub batch: Vec<String>,
    /// Every host of the play (all batches), for `ansible_play_hosts`.
    pub play_hosts: Vec<String>,
    pub failed: Mutex<HashMap<String, Failure>>,
    pub ended: Mutex<HashSet<String>>,
    pub end_play: AtomicBool,
    pub end_batch: AtomicBool,
    /// Set when the play must stop for every host (any_errors_fatal, max_fail_percentage).
    pub abort: AtomicBool,
    pub handlers: Mutex<Vec<HandlerDef>>,
    /// Handler index to the hosts that notified it since the last flush.
    pub notified: Mutex<HashMap<usize, Vec<String>>>,
    pub force_handlers: bool,
    pub max_fail_percentage: Option<f64>,
    /// Run the play's health checks between `tasks` and `post_tasks` (rollouts): a host that
    /// fails them never reaches `post_tasks` (typically: put back into the load balancer).
    pub gate: bool,
}

impl PlayState<'_> {
    /// The hosts of `hosts` still in the play.
    pub fn live(&self, engine: &Engine, hosts: &[String]) -> Vec<String> {
        // `meta: end_batch` ends this batch's state (the next batch gets a fresh one).
        let ended_batch = self.end_batch.load(Ordering::SeqCst);
        if self.end_play.load(Ordering::SeqCst)
            || ended_batch
            || self.abort.load(Ordering::SeqCst)
            || engine.interrupted()
        {
            return Vec::new();
        }
        let failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
        let ended = self.ended.lock().unwrap_or_else(|e| e.into_inner());
        hosts
            .iter()
            .filter(|h| !failed.contains_key(*h) && !ended.contains(*h) && !engine.is_dead(h))
            .cloned()
            .collect()
    }

    pub fn fail(&self, host: &str, failure: Failure) {
        self.failed.lock().unwrap_or_else(|e| e.into_inner()).insert(host.to_string(), failure);
    }

    pub fn failure(&self, host: &str) -> Option<Failure> {
        self.failed.lock().unwrap_or_else(|e| e.into_inner()).get(host).cloned()
    }

    pub fn unfail(&self, host: &str) -> Option<Failure> {
        self.failed.lock().unwrap_or_else(|e| e.into_inner()).remove(host)
    }

    /// Refreshes `ansible_play_hosts`/`ansible_play_batch` without the hosts that left.
    pub fn publish_hosts(&self, engine: &Engine) {
        let failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
        let alive = |h: &&String| !failed.contains_key(*h) && !engine.is_dead(h);
        let play: Vec<String> = self.play_hosts.iter().filter(alive).cloned().collect();
        let batch: Vec<String> = self.batch.iter().filter(alive).cloned().collect();
        engine.fleet.set_play_hosts(&play, &batch);
    }

    pub fn failed_count(&self) -> usize {
        self.failed.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl Engine {
    /// Runs one play; false when the whole run must stop (any_errors_fatal, a batch lost).
    pub(super) async fn run_play(&self, play: &Play) -> bool {
        let pattern = match &play.hosts.value {
            Value::Array(items) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
                .collect::<Vec<_>>()
                .join(","),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let pattern = self.render_play_str(&pattern);
        let name =
            play.common.name.as_ref().map_or_else(|| pattern.clone(), |n| self.render_play_str(&n.value));
        let dynamic = self.dynamic_hosts(&pattern);
        let mut hosts = match self.inventory.select_with_limit(&pattern, self.opts.limit.as_deref()) {
            Ok(sel) => {
                for w in sel.warnings {
                    self.warn(None, w);
                }
                sel.hosts
            }
            Err(e) => {
                if dynamic.is_empty() {
                    self.warn(None, e.to_string());
                }
                Vec::new()
            }
        };
        for h in dynamic {
            if !hosts.contains(&h) {
                hosts.push(h);
            }
        }
        hosts.retain(|h| !self.is_dead(h));
        order_hosts(&mut hosts, play.order.as_ref().map(|o| o.value.as_str()));
        self.sink.emit(&Event::PlayStarted { name: name.clone(), hosts: hosts.clone() });
        if hosts.is_empty() {
            self.warn(None, format!("play `{name}`: no hosts matched, skipping"));
            return true;
        }
        for h in &hosts {
            self.ensure_stats(h);
            if self.fleet.get(h).is_none() {
                // The implicit localhost, when a play names it.
                let vars = crate::vars::HostVars::new(self.templater.clone(), h.clone())
                    .with_layer(Layer::Inventory, self.inventory.host_vars(h))
                    .with_vars(Layer::Magic, crate::vars::magic::host_magic(h, &[]));
                self.fleet.insert(&vars);
            }
        }
        if let Err(msg) = self.set_play_vars(play, &hosts) {
            self.warn(None, msg.clone());
            for h in &hosts {
                self.count(h, crate::event::Status::Failed);
                self.sink.emit(&Event::HostResult {
                    host: h.clone(),
                    task: "play vars".into(),
                    result: crate::event::TaskResult::failed(msg.clone()),
                    duration: std::time::Duration::ZERO,
                });
            }
            return false;
        }
        let batches = match super::batches(&hosts, play.serial.as_ref().map(|s| &s.value)) {
            Ok(b) => b,
            Err(msg) => {
                self.warn(None, format!("play `{name}`: {msg}"));
                return false;
            }
        };
        let scope = Scope::default().push(&play.common);
        let force_handlers =
            self.opts.force_handlers || play.force_handlers.as_ref().is_some_and(|v| truthy(&v.value));
        let max_fail_percentage = play.max_fail_percentage.as_ref().and_then(|v| match &v.value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim_end_matches('%').parse().ok(),
            _ => None,
        });
        let shape = BatchShape { scope, force_handlers, max_fail_percentage };
        self.run_batches(play, &hosts, batches, &shape).await
    }

    /// A fresh state for one batch of `play`.
    pub(super) fn batch_state<'p>(
        &self,
        play: &'p Play,
        hosts: &[String],
        batch: &[String],
        shape: &BatchShape,
    ) -> PlayState<'p> {
        self.fleet.set_play_hosts(hosts, batch);
        PlayState {
            play,
            scope: shape.scope.clone(),
            batch: batch.to_vec(),
            play_hosts: hosts.to_vec(),
            failed: Mutex::new(HashMap::new()),
            ended: Mutex::new(HashSet::new()),
            end_play: AtomicBool::new(false),
            end_batch: AtomicBool::new(false),
            abort: AtomicBool::new(false),
            handlers: Mutex::new(Vec::new()),
            notified: Mutex::new(HashMap::new()),
            force_handlers: shape.force_handlers,
            max_fail_percentage: shape.max_fail_percentage,
            gate: false,
        }
    }

    /// Ansible's batches: each batch runs the whole play; a lost batch stops the play.
    pub(super) async fn run_plain_batches(
        &self,
        play: &Play,
        hosts: &[String],
        batches: Vec<Vec<String>>,
        shape: &BatchShape,
    ) -> bool {
        for batch in batches {
            let state = self.batch_state(play, hosts, &batch, shape);
            self.run_batch(&state).await;
            self.retire_failed(&state);
            if state.abort.load(Ordering::SeqCst) || self.interrupted() {
                return false;
            }
            if state.end_play.load(Ordering::SeqCst) {
                break;
            }
            if state.failed_count() == batch.len() && play.serial.is_some() {
                // A whole batch lost: the rest of the fleet is left untouched.
                return false;
            }
        }
        true
    }

    /// Hosts that failed stay out of later plays, as in Ansible.
    pub(super) fn retire_failed(&self, state: &PlayState<'_>) {
        for h in state.failed.lock().unwrap_or_else(|e| e.into_inner()).keys() {
            self.kill(h);
        }
    }

    pub(super) async fn run_batch(&self, state: &PlayState<'_>) {
        let play = state.play;
        // "A role runs once" holds within one play (and batch), not across plays.
        self.roles_seen.lock().unwrap_or_else(|e| e.into_inner()).clear();
        self.register_handlers(state, &play.handlers, &state.scope);
        let gather = play.gather_facts.as_ref().is_none_or(|v| truthy(&v.value));
        if gather {
            self.gather_facts(state).await;
        }
        let free = play.strategy.as_ref().is_some_and(|s| s.value == "free");
        if free {
            // Each host goes through the play at its own pace.
            let runs = state
                .batch
                .iter()
                .map(|h| async move { self.run_sections(state, std::slice::from_ref(h)).await });
            futures_util::future::join_all(runs).await;
        } else {
            self.run_sections(state, &state.batch).await;
        }
    }

    async fn run_sections(&self, state: &PlayState<'_>, hosts: &[String]) {
        let play = state.play;
        let sections: [(&[Item], bool); 3] =
            [(&play.pre_tasks, false), (&play.tasks, true), (&play.post_tasks, false)];
        for (items, with_roles) in sections {
            if with_roles {
                for role in &play.roles {
                    if state.live(self, hosts).is_empty() {
                        break;
                    }
                    self.run_role_ref(state, role, &state.scope, hosts).await;
                }
            }
            self.run_items(state, items, &state.scope, hosts).await;
            self.flush_handlers(state).await;
            if with_roles && state.gate && !play.health_checks.is_empty() {
                let live = state.live(self, hosts);
                if !live.is_empty() {
                    for h in self.check_hosts(play, &live).await {
                        self.fail_host(
                            state,
                            &h,
                            "health checks",
                            "the host failed its health checks after the deploy",
                        );
                    }
                }
            }
            if state.end_batch.load(Ordering::SeqCst) {
                break;
            }
        }
    }

    /// Play `vars:` and `vars_files:` into every host's play layer.
    fn set_play_vars(&self, play: &Play, hosts: &[String]) -> Result<(), String> {
        let mut vars: VarMap = play.common.vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        for entry in &play.vars_files {
            let candidates: Vec<Value> = match &entry.value {
                Value::Array(list) => list.clone(),
                other => vec![other.clone()],
            };
            let mut loaded = false;
            for c in candidates {
                let Some(name) = c.as_str() else { continue };
                let name = self.render_play_str(name);
                let path = self.playbook_dir.join(&name);
                if !path.exists() {
                    continue;
                }
                let node = crate::yaml::parse_file(&path).map_err(|e| format!("{e}"))?;
                match node.to_json() {
                    Value::Object(m) => vars.extend(m),
                    Value::Null => {}
                    _ => return Err(format!("vars file `{}` must be a mapping", path.display())),
                }
                loaded = true;
                break;
            }
            if !loaded {
                return Err(format!("vars file {} was not found ({})", entry.value, entry.loc));
            }
        }
        for entry in &play.vars_prompt {
            let Some(name) = entry.value.get("name").and_then(Value::as_str) else {
                return Err(format!("a `vars_prompt` entry needs `name` ({})", entry.loc));
            };
            let given = hosts
                .first()
                .and_then(|h| self.fleet.get(h))
                .is_some_and(|v| v.layer(Layer::Extra).get(name).is_some());
            if given {
                continue;
            }
            let default = entry.value.get("default").cloned().unwrap_or(Value::String(String::new()));
            let value = if std::io::stdin().is_terminal() {
                let prompt = entry.value.get("prompt").and_then(Value::as_str).unwrap_or(name);
                let private = entry.value.get("private").is_none_or(truthy);
                let shown_default =
                    default.as_str().filter(|d| !d.is_empty()).map(|d| format!(" [{d}]")).unwrap_or_default();
                let answer = if private {
                    rpassword::prompt_password(format!("{prompt}{shown_default}: ")).unwrap_or_default()
                } else {
                    eprint!("{prompt}{shown_default}: ");
                    let mut line = String::new();
                    let _ = std::io::stdin().read_line(&mut line);
                    line.trim_end_matches(['\n', '\r']).to_string()
                };
                if answer.is_empty() { default } else { Value::String(answer) }
            } else {
                default
            };
            vars.insert(name.to_string(), value);
        }
        for h in hosts {
            if let Some(v) = self.fleet.get(h) {
                self.fleet.insert(&v.with_layer(Layer::Play, vars.clone()));
            }
        }
        Ok(())
    }

    /// Renders a play-level string (name, hosts) as Ansible does, with the variables of the
    /// run so far (extra vars, `hostvars` with earlier plays' facts); left as is on error.
    pub(super) fn render_play_str(&self, text: &str) -> String {
        if !crate::template::is_template(text) {
            return text.to_string();
        }
        let Some(first) = self.fleet.hosts().first().and_then(|h| self.fleet.get(h)) else {
            return text.to_string();
        };
        match first.render(&Value::String(text.to_string())) {
            Ok(Value::String(s)) => s,
            Ok(other) => other.to_string(),
            Err(_) => text.to_string(),
        }
    }

    /// The setup module on every host of the batch, its facts stored as Ansible does
    /// (`ansible_facts.x` and `ansible_x`).
    async fn gather_facts(&self, state: &PlayState<'_>) {
        let Ok(def) = crate::modules::lookup("setup") else { return };
        let mut args = Map::new();
        if let Some(subset) = &state.play.gather_subset {
            args.insert("gather_subset".into(), subset.value.clone());
        }
        let task = crate::playbook::model::Task {
            common: Default::default(),
            action: crate::playbook::model::Action {
                name: crate::playbook::model::Spanned {
                    value: def.name.to_string(),
                    loc: state.play.loc.clone(),
                },
                args,
            },
            local: false,
            r#loop: None,
            loop_control: Default::default(),
            register: None,
            until: Vec::new(),
            retries: None,
            delay: None,
            changed_when: Vec::new(),
            failed_when: Vec::new(),
            notify: Vec::new(),
            listen: Vec::new(),
            loc: state.play.loc.clone(),
        };
        let mut scope = state.scope.clone();
        scope.tags.push("always".into());
        self.run_task_named(state, &task, &scope, &state.batch, "Gathering Facts").await;
    }
}

/// Stores facts a module returned under `ansible_facts` (merged) and as `ansible_<name>`.
pub(super) fn facts_vars(facts: &Map<String, Value>, existing: Option<&Value>) -> VarMap {
    let mut merged = match existing {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let mut out = VarMap::new();
    for (k, v) in facts {
        // Inside `ansible_facts` names go without the prefix (`ansible_facts.hostname`), as
        // Ansible files a module's `ansible_hostname` there.
        merged.insert(k.strip_prefix("ansible_").unwrap_or(k).to_string(), v.clone());
        let name = if k.starts_with("ansible_") { k.clone() } else { format!("ansible_{k}") };
        out.insert(name, v.clone());
    }
    out.insert("ansible_facts".into(), Value::Object(merged));
    out
}

/// `order:` of a play.
fn order_hosts(hosts: &mut [String], order: Option<&str>) {
    match order {
        Some("reverse_inventory") => hosts.reverse(),
        Some("sorted") => hosts.sort(),
        Some("reverse_sorted") => {
            hosts.sort();
            hosts.reverse();
        }
        Some("shuffle") => {
            // A cheap shuffle seeded from the clock: order only needs to vary between runs.
            let mut seed = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1;
            for i in (1..hosts.len()).rev() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                hosts.swap(i, (seed % (i as u64 + 1)) as usize);
            }
        }
        _ => {}
    }
}
