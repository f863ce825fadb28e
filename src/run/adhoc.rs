//! Ad-hoc runs: one module on many hosts, all at once (within the fork budget), each host's
//! result emitted as soon as it is known.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::connection::{Become, ConnError, Connection};
use crate::event::{Event, EventSink, HostStats, Status, TaskResult};
use crate::modules::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};

/// Opens the connection to one host (SSH or local), decided by the caller from the host's vars.
pub type Connector = Box<dyn FnOnce() -> BoxFuture<'static, Result<Arc<dyn Connection>, ConnError>> + Send>;

/// One host to run on, with everything already resolved for it.
pub struct Target {
    pub name: String,
    /// The module's arguments, templated with this host's variables.
    pub args: ModuleArgs,
    pub r#become: Option<Become>,
    pub connect: Connector,
    /// Deadline for connecting to this host (login included).
    pub connect_timeout: Duration,
    /// Why this host cannot run at all (its arguments or settings failed to template); it is
    /// reported as failed without connecting, and the other hosts carry on.
    pub error: Option<String>,
}

/// What to run and how.
pub struct AdhocJob {
    pub module: &'static ModuleDef,
    pub forks: usize,
    pub check_mode: bool,
}

/// Runs the job on every target and returns each host's totals in target order.
pub async fn run(job: AdhocJob, targets: Vec<Target>, sink: Arc<dyn EventSink>) -> Vec<(String, HostStats)> {
    let started = Instant::now();
    let task = format!("{} (ad-hoc)", job.module.name);
    let names: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
    sink.emit(&Event::RunStarted { kind: "adhoc".into(), hosts: names.clone() });
    sink.emit(&Event::TaskStarted { name: task.clone(), hosts: names.len(), handler: false });

    let gate = Arc::new(Semaphore::new(job.forks.max(1)));
    let job = Arc::new(job);
    let mut set = JoinSet::new();
    for (index, target) in targets.into_iter().enumerate() {
        let (gate, job, sink, task) = (gate.clone(), job.clone(), sink.clone(), task.clone());
        set.spawn(async move {
            // The semaphore is never closed, so acquiring only waits for a free slot.
            let _slot = gate.acquire_owned().await.ok();
            let status = run_one(&job, target, sink.as_ref(), &task).await;
            (index, status)
        });
    }
    let mut stats = vec![HostStats::default(); names.len()];
    while let Some(joined) = set.join_next().await {
        if let Ok((index, status)) = joined {
            stats[index].count(status);
        }
    }
    let stats: Vec<(String, HostStats)> = names.into_iter().zip(stats).collect();
    sink.emit(&Event::RunFinished { stats: stats.clone(), duration: started.elapsed() });
    stats
}

/// Connects, runs the module, emits the outcome, and closes the connection.
async fn run_one(job: &AdhocJob, target: Target, sink: &dyn EventSink, task: &str) -> Status {
    let host = target.name.clone();
    sink.emit(&Event::HostStarted { host: host.clone(), task: task.to_string() });
    let began = Instant::now();
    if let Some(msg) = target.error {
        sink.emit(&Event::HostResult {
            host: host.clone(),
            task: task.to_string(),
            result: TaskResult::failed(msg),
            duration: began.elapsed(),
        });
        return Status::Failed;
    }
    let unreachable = |reason: String| {
        sink.emit(&Event::HostUnreachable { host: host.clone(), task: task.to_string(), reason });
        Status::Unreachable
    };
    let limit = target.connect_timeout;
    let conn = match tokio::time::timeout(limit, (target.connect)()).await {
        Err(_) => {
            return unreachable(format!("timed out after {}s connecting", limit.as_secs()));
        }
        Ok(Err(e)) => return unreachable(e.to_string()),
        Ok(Ok(conn)) => conn,
    };
    let ctx = ModuleCtx {
        host: &host,
        conn: conn.as_ref(),
        r#become: target.r#become.clone(),
        check_mode: job.check_mode,
        diff: false,
        env: Vec::new(),
        timeout: None,
        controller: &crate::modules::context::Cwd,
    };
    let outcome = (job.module.run)(&ctx, target.args).await;
    let _ = conn.close().await;
    let result = match outcome {
        Ok(result) => result,
        Err(ModuleError::Conn(e)) if e.is_unreachable() => return unreachable(e.to_string()),
        Err(e) => TaskResult::failed(e.to_string()),
    };
    let status = result.status;
    sink.emit(&Event::HostResult {
        host: host.clone(),
        task: task.to_string(),
        result,
        duration: began.elapsed(),
    });
    status
}
