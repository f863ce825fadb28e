//! The playbook engine: plays run one after the other; within a play, each task runs on
//! every live host at once (Ansible's `linear` strategy, or each host on its own with
//! `strategy: free`), in batches when `serial` asks for them. Every outcome is an event.

mod actions;
mod batches;
mod block;
mod controller;
mod handlers;
mod host_task;
mod loop_batch;
mod loops;
mod play_run;
mod pool;
mod probe;
mod roles;
mod rollout;
mod scope;
pub mod tags;
mod task;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use indexmap::IndexMap;

pub use batches::batches;
use pool::Pool;

use crate::event::{Event, EventSink, HostStats, Status};
use crate::inventory::Inventory;
use crate::playbook::Playbook;
use crate::run::host_conn::{BecomeDefaults, ConnDefaults};
use crate::template::Templater;
use crate::vars::Fleet;

/// How the whole run behaves (ansible-playbook's flags).
#[derive(Debug, Clone, Default)]
pub struct PlayOptions {
    pub check: bool,
    pub diff: bool,
    pub tags: tags::TagFilter,
    pub forks: usize,
    pub start_at_task: Option<String>,
    pub force_handlers: bool,
    /// `--step`: confirm each task on the terminal.
    pub step: bool,
    /// `--break-lock`: remove a rollout's deploy lock left by another run.
    pub break_lock: bool,
    pub limit: Option<String>,
    pub verbosity: u8,
    pub conn: ConnDefaults,
    pub r#become: BecomeDefaults,
}

/// Everything a run shares across plays.
pub struct Engine {
    pub inventory: Inventory,
    pub fleet: Arc<Fleet>,
    pub templater: Arc<Templater>,
    pub sink: Arc<dyn EventSink>,
    pub opts: PlayOptions,
    pub playbook_dir: PathBuf,
    /// Extra role search directories (`--roles-path`).
    pub roles_path: Vec<PathBuf>,
    pool: Pool,
    stats: Mutex<IndexMap<String, HostStats>>,
    /// `--start-at-task`: true once the named task was reached.
    started: std::sync::atomic::AtomicBool,
    /// Hosts out of the run for good (unreachable or failed in an earlier play).
    dead: Mutex<HashSet<String>>,
    /// Roles already run in this play, with their parameters (a role runs once unless its
    /// parameters differ or it allows duplicates).
    roles_seen: Mutex<HashMap<String, Vec<String>>>,
    /// Set by Ctrl-C: commands in flight finish, nothing new starts.
    interrupted: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Set when a rollout stopped early (lock held, failure budget spent, canary refused).
    stopped: std::sync::atomic::AtomicBool,
    /// The playbook file, for audit records.
    pub playbook_file: Option<String>,
    /// Groups made at run time by `add_host` and `group_by`, with their hosts.
    dynamic: Mutex<IndexMap<String, Vec<String>>>,
    /// `--step` until the user answers `c` (continue without asking).
    stepping: std::sync::atomic::AtomicBool,
}

impl Engine {
    pub fn new(
        inventory: Inventory,
        fleet: Arc<Fleet>,
        templater: Arc<Templater>,
        sink: Arc<dyn EventSink>,
        opts: PlayOptions,
        playbook_dir: PathBuf,
    ) -> Engine {
        let started = opts.start_at_task.is_none();
        let stepping = std::sync::atomic::AtomicBool::new(opts.step);
        Engine {
            inventory,
            fleet,
            templater,
            sink,
            opts,
            playbook_dir,
            roles_path: Vec::new(),
            pool: Pool::default(),
            stats: Mutex::new(IndexMap::new()),
            started: std::sync::atomic::AtomicBool::new(started),
            dead: Mutex::new(HashSet::new()),
            roles_seen: Mutex::new(HashMap::new()),
            stepping,
            dynamic: Mutex::new(IndexMap::new()),
            interrupted: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
            playbook_file: None,
            stopped: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Runs every play in order; returns each host's totals.
    pub async fn run(&self, playbook: &Playbook) -> Vec<(String, HostStats)> {
        let started = Instant::now();
        let all: Vec<String> = self.inventory.hosts().into_iter().map(str::to_string).collect();
        self.sink.emit(&Event::RunStarted { kind: "playbook".into(), hosts: all });
        for play in &playbook.plays {
            if !self.run_play(play).await {
                break;
            }
        }
        self.pool.close_all().await;
        let stats: Vec<(String, HostStats)> = self
            .stats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.sink.emit(&Event::RunFinished { stats: stats.clone(), duration: started.elapsed() });
        stats
    }

    /// A flag that Ctrl-C handling sets to stop the run between commands.
    pub fn interrupt_flag(&self) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
        self.interrupted.clone()
    }

    /// Whether a rollout stopped before finishing (the exit code should say so).
    pub fn rollout_stopped(&self) -> bool {
        self.stopped.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn interrupted(&self) -> bool {
        self.interrupted.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn count(&self, host: &str, status: Status) {
        self.stats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(host.to_string())
            .or_default()
            .count(status);
    }

    fn stats_mut(&self, host: &str, f: impl FnOnce(&mut HostStats)) {
        f(self.stats.lock().unwrap_or_else(|e| e.into_inner()).entry(host.to_string()).or_default());
    }

    fn ensure_stats(&self, host: &str) {
        self.stats.lock().unwrap_or_else(|e| e.into_inner()).entry(host.to_string()).or_default();
    }

    fn is_dead(&self, host: &str) -> bool {
        self.dead.lock().unwrap_or_else(|e| e.into_inner()).contains(host)
    }

    fn kill(&self, host: &str) {
        self.dead.lock().unwrap_or_else(|e| e.into_inner()).insert(host.to_string());
    }

    /// `--step`: asks whether to run the task (y), skip it (n) or stop asking (c). Only on a
    /// terminal; elsewhere every task runs.
    fn step_confirms(&self, name: &str) -> bool {
        use std::io::{BufRead, IsTerminal, Write};
        if !self.stepping.load(std::sync::atomic::Ordering::SeqCst) || !std::io::stdin().is_terminal() {
            return true;
        }
        let mut err = std::io::stderr();
        let _ = write!(err, "Perform task: TASK: {name} (N)o/(y)es/(c)ontinue: ");
        let _ = err.flush();
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
        match line.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => true,
            "c" | "continue" => {
                self.stepping.store(false, std::sync::atomic::Ordering::SeqCst);
                true
            }
            _ => false,
        }
    }

    fn warn(&self, host: Option<&str>, message: impl Into<String>) {
        self.sink.emit(&Event::Warning { host: host.map(str::to_string), message: message.into() });
    }
}
