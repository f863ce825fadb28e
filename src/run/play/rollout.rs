//! Rollouts: batches gated by health checks, with a fleet-wide failure budget, pauses, a
//! progress deadline per batch, a canary hold, rollback on failure, a deploy lock per
//! application and an audit record on every host touched.
//!
//! A play without `rollout:` or `health_checks:` runs its batches as Ansible does.

use std::collections::HashSet;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Value, json};

use super::Engine;
use super::block::as_text;
use super::play_run::{BatchShape, Failure};
use super::probe::{self, Try};
use crate::connection::Connection;
use crate::connection::local::LocalConnection;
use crate::connection::quote::quote;
use crate::event::{Event, Status, TaskResult};
use crate::playbook::model::Play;
use crate::playbook::rollout::{HealthCheck, OnFailure, ProbeFrom, RollbackScope};
use crate::run::host_conn;
use crate::vars::HostVars;

/// What the rollout has done so far, for the summary.
#[derive(Default)]
struct Tally {
    updated: Vec<String>,
    failed: Vec<String>,
    rolled_back: Vec<String>,
    stopped: Option<String>,
}

impl Engine {
    /// Runs the play's batches: plainly, or as a gated rollout when the play asks for one.
    pub(super) async fn run_batches(
        &self,
        play: &Play,
        hosts: &[String],
        batches: Vec<Vec<String>>,
        shape: &BatchShape,
    ) -> bool {
        if play.rollout.is_none() && play.health_checks.is_empty() {
            return self.run_plain_batches(play, hosts, batches, shape).await;
        }
        let policy = play.rollout.clone().unwrap_or_default();
        let mut tally = Tally::default();
        let budget = match policy.max_failed.as_ref().map(|b| b.allowed(hosts.len())).transpose() {
            Ok(b) => b.unwrap_or(0),
            Err(msg) => {
                tally.stopped = Some(msg);
                self.summarize(hosts, &tally);
                return false;
            }
        };
        if let Some(lock) = &policy.lock
            && let Err(msg) = self.acquire_locks(lock, hosts).await
        {
            tally.stopped = Some(msg);
            self.summarize(hosts, &tally);
            return false;
        }
        if policy.check_before && !play.health_checks.is_empty() {
            let bad = self.check_hosts(play, hosts).await;
            if !bad.is_empty() {
                tally.stopped = Some(format!(
                    "the fleet is unhealthy before the rollout ({}): nothing was deployed",
                    bad.join(", ")
                ));
                self.finish_rollout(play, hosts, &policy, &tally).await;
                return false;
            }
        }
        let total = batches.len();
        for (index, batch) in batches.iter().enumerate() {
            if self.interrupted() {
                tally.stopped = Some("interrupted: no new batch was started".into());
                break;
            }
            if index > 0 && policy.pause > 0.0 {
                tokio::time::sleep(Duration::from_secs_f64(policy.pause)).await;
            }
            let mut state = self.batch_state(play, hosts, batch, shape);
            state.gate = true;
            let run = self.run_batch(&state);
            let in_time = match policy.batch_deadline {
                Some(limit) => tokio::time::timeout(Duration::from_secs_f64(limit), run).await.is_ok(),
                None => {
                    run.await;
                    true
                }
            };
            if !in_time {
                for h in state.live(self, batch) {
                    self.fail_host(
                        &state,
                        &h,
                        "rollout",
                        &format!(
                            "the batch did not finish within its deadline of {}s",
                            policy.batch_deadline.unwrap_or_default()
                        ),
                    );
                }
            }
            // The health gate ran inside the batch, between `tasks` and `post_tasks`.
            let ok_hosts: Vec<String> = state.live(self, batch);
            let batch_failed: Vec<String> =
                batch.iter().filter(|h| state.failure(h).is_some()).cloned().collect();
            tally.updated.extend(batch.iter().filter(|h| state.failure(h).is_none()).cloned());
            tally.failed.extend(batch_failed.iter().cloned());
            self.retire_failed(&state);
            let mut stop = None;
            if tally.failed.len() > budget {
                stop = Some(format!(
                    "{} host(s) failed ({}), more than the budget of {budget}",
                    tally.failed.len(),
                    tally.failed.join(", ")
                ));
            } else if state.abort.load(Ordering::SeqCst) {
                stop = Some("the play was aborted (any_errors_fatal or max_fail_percentage)".into());
            } else if index == 0
                && index + 1 < total
                && let Some(canary) = &policy.canary
                && let Err(why) = self.canary_hold(play, &ok_hosts, canary.hold, canary.confirm).await
            {
                for h in why.hosts.iter().filter(|h| ok_hosts.contains(h)) {
                    tally.updated.retain(|u| u != h);
                    tally.failed.push(h.clone());
                    self.kill(h);
                }
                stop = Some(why.message);
            }
            if let Some(why) = stop {
                tally.stopped = Some(why);
                if policy.on_failure == OnFailure::Rollback {
                    let mut targets: Vec<String> = batch.clone();
                    if policy.rollback_scope == RollbackScope::All {
                        targets = tally.updated.iter().chain(tally.failed.iter()).cloned().collect();
                    }
                    tally.rolled_back = self.roll_back(play, hosts, &targets, shape).await;
                }
                break;
            }
            if state.end_play.load(Ordering::SeqCst) {
                break;
            }
        }
        if self.interrupted() && tally.stopped.is_none() {
            tally.stopped = Some("interrupted".into());
        }
        self.finish_rollout(play, hosts, &policy, &tally).await;
        tally.stopped.is_none()
    }

    /// Marks a host failed for the rollout itself (deadline, health checks).
    pub(super) fn fail_host(
        &self,
        state: &super::play_run::PlayState<'_>,
        host: &str,
        task: &str,
        msg: &str,
    ) {
        self.count(host, Status::Failed);
        self.sink.emit(&Event::HostResult {
            host: host.to_string(),
            task: task.to_string(),
            result: TaskResult::failed(msg.to_string()),
            duration: Duration::ZERO,
        });
        state.fail(
            host,
            Failure {
                task: json!({"name": task}),
                result: json!({"failed": true, "msg": msg}),
                unreachable: false,
            },
        );
    }

    /// Lock release, audit records and the summary.
    async fn finish_rollout(
        &self,
        play: &Play,
        hosts: &[String],
        policy: &crate::playbook::rollout::Rollout,
        tally: &Tally,
    ) {
        let touched: Vec<String> = tally.updated.iter().chain(tally.failed.iter()).cloned().collect();
        let version = match (&policy.version, hosts.first().and_then(|h| self.fleet.get(h))) {
            (Some(v), Some(vars)) => {
                vars.render(&Value::String(v.clone())).map(|v| as_text(&v)).unwrap_or_else(|_| v.clone())
            }
            (Some(v), None) => v.clone(),
            (None, _) => String::new(),
        };
        let play_name =
            play.common.name.as_ref().map_or_else(|| play.hosts.value.to_string(), |n| n.value.clone());
        let records = touched.iter().map(|h| {
            let result = if tally.rolled_back.contains(h) {
                "rolled_back"
            } else if tally.failed.contains(h) {
                "failed"
            } else {
                "updated"
            };
            let record = json!({
                "time": crate::run::play::rollout::now_rfc3339(),
                "user": crate::connection::ssh::options::local_user(),
                "playbook": self.playbook_file.clone().unwrap_or_default(),
                "play": play_name,
                "version": version,
                "result": result,
                "lock": policy.lock,
            });
            async move {
                let line = format!(
                    "mkdir -p /var/lib/baton && printf '%s\\n' {} >> /var/lib/baton/audit.jsonl",
                    quote(&record.to_string())
                );
                if let Err(e) = self.host_exec(h, &line).await {
                    self.warn(Some(h), format!("could not write the audit record: {e}"));
                }
            }
        });
        join_all(records).await;
        if let Some(lock) = &policy.lock {
            self.release_locks(lock, hosts).await;
        }
        self.summarize(hosts, tally);
    }

    fn summarize(&self, hosts: &[String], tally: &Tally) {
        if tally.stopped.is_some() {
            self.stopped.store(true, Ordering::SeqCst);
        }
        let seen: HashSet<&String> = tally.updated.iter().chain(tally.failed.iter()).collect();
        let untouched: Vec<String> = hosts.iter().filter(|h| !seen.contains(h)).cloned().collect();
        self.sink.emit(&Event::Rollout {
            updated: tally.updated.iter().filter(|h| !tally.rolled_back.contains(h)).cloned().collect(),
            failed: tally.failed.clone(),
            rolled_back: tally.rolled_back.clone(),
            untouched,
            stopped: tally.stopped.clone(),
        });
    }

    /// Runs the play's `rollback:` tasks on `targets`; returns the hosts where they succeeded.
    async fn roll_back(
        &self,
        play: &Play,
        hosts: &[String],
        targets: &[String],
        shape: &BatchShape,
    ) -> Vec<String> {
        if play.rollback.is_empty() {
            self.warn(None, "on_failure is `rollback` but the play has no `rollback:` tasks");
            return Vec::new();
        }
        // Failed hosts were retired from the run; the rollback brings them back for itself.
        self.revive(targets);
        let state = self.batch_state(play, hosts, targets, shape);
        self.register_handlers(&state, &play.handlers, &state.scope);
        let mut scope = state.scope.clone();
        scope.tags.push("always".into());
        self.run_items(&state, &play.rollback, &scope, targets).await;
        self.flush_handlers(&state).await;
        // No health gate here: the checks describe the new version, and the rollback's job
        // is the old one (`baton rollback` runs the gates, with the version it is given).
        let ok: Vec<String> = targets.iter().filter(|h| state.failure(h).is_none()).cloned().collect();
        self.retire_failed(&state);
        for h in targets {
            self.kill(h);
        }
        ok
    }

    fn revive(&self, hosts: &[String]) {
        let mut dead = self.dead.lock().unwrap_or_else(|e| e.into_inner());
        for h in hosts {
            dead.remove(h);
        }
    }

    /// Keeps checking the canary batch for `hold` seconds; asks to go on when `confirm`.
    async fn canary_hold(&self, play: &Play, hosts: &[String], hold: f64, confirm: bool) -> Result<(), Stop> {
        let started = Instant::now();
        while started.elapsed().as_secs_f64() < hold && !self.interrupted() {
            let bad = self.check_hosts(play, hosts).await;
            if !bad.is_empty() {
                return Err(Stop {
                    message: format!(
                        "the canary failed its health checks during the hold ({})",
                        bad.join(", ")
                    ),
                    hosts: bad,
                });
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        if confirm && std::io::stdin().is_terminal() {
            let mut err = std::io::stderr();
            let _ = write!(err, "Canary healthy on {}. Continue the rollout? [y/N]: ", hosts.join(", "));
            let _ = err.flush();
            let mut line = String::new();
            let _ = std::io::stdin().lock().read_line(&mut line);
            if !matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
                return Err(Stop {
                    message: "stopped after the canary by the operator".into(),
                    hosts: Vec::new(),
                });
            }
        }
        Ok(())
    }

    /// Runs every health check on `hosts` (hosts in parallel); returns the unhealthy hosts.
    pub(super) async fn check_hosts(&self, play: &Play, hosts: &[String]) -> Vec<String> {
        self.sink.emit(&Event::TaskStarted {
            name: "health checks".into(),
            hosts: hosts.len(),
            handler: false,
        });
        let local: Arc<dyn Connection> = Arc::new(LocalConnection::new());
        let runs = hosts.iter().map(|h| {
            let local = local.clone();
            async move {
                for check in &play.health_checks {
                    let (passed, attempts, detail) = self.run_check(check, h, local.as_ref()).await;
                    self.sink.emit(&Event::HealthCheck {
                        host: h.clone(),
                        check: check.label(),
                        passed,
                        attempts,
                        detail,
                    });
                    if !passed {
                        return Some(h.clone());
                    }
                }
                None
            }
        });
        join_all(runs).await.into_iter().flatten().collect()
    }

    /// One check on one host, with its thresholds and deadline.
    async fn run_check(
        &self,
        check: &HealthCheck,
        host: &str,
        local: &dyn Connection,
    ) -> (bool, u32, String) {
        let Some(vars) = self.fleet.get(host) else { return (false, 0, format!("unknown host `{host}`")) };
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs_f64(check.initial_delay.max(0.0))).await;
        let (mut passes, mut fails, mut attempts) = (0u32, 0u32, 0u32);
        loop {
            attempts += 1;
            let t = self.try_check(check, host, &vars, local).await;
            let last = t.detail;
            if t.passed {
                passes += 1;
                fails = 0;
                if passes >= check.success_threshold.max(1) {
                    return (true, attempts, last);
                }
            } else {
                fails += 1;
                passes = 0;
                if fails >= check.failure_threshold.max(1) {
                    return (false, attempts, last);
                }
            }
            if started.elapsed().as_secs_f64() >= check.deadline {
                return (
                    false,
                    attempts,
                    format!("deadline of {}s passed; last answer: {last}", check.deadline),
                );
            }
            tokio::time::sleep(Duration::from_secs_f64(check.interval.max(0.05))).await;
        }
    }

    async fn try_check(
        &self,
        check: &HealthCheck,
        host: &str,
        vars: &HostVars,
        local: &dyn Connection,
    ) -> Try {
        let render = |s: &str| -> Result<String, String> {
            vars.render(&Value::String(s.to_string())).map(|v| as_text(&v)).map_err(|e| e.to_string())
        };
        let from = check.from();
        let conn: Arc<dyn Connection> = match from {
            ProbeFrom::Controller => {
                return self.try_on(check, host, vars, local, from, &render).await;
            }
            ProbeFrom::Host => match self.host_connection(host).await {
                Ok(c) => c,
                Err(e) => return Try { passed: false, detail: e },
            },
        };
        self.try_on(check, host, vars, conn.as_ref(), from, &render).await
    }

    async fn try_on(
        &self,
        check: &HealthCheck,
        host: &str,
        vars: &HostVars,
        conn: &dyn Connection,
        from: ProbeFrom,
        render: &dyn Fn(&str) -> Result<String, String>,
    ) -> Try {
        let fail = |detail: String| Try { passed: false, detail };
        if let Some(p) = &check.http {
            let url = match render(&p.url) {
                Ok(u) => u,
                Err(e) => return fail(e),
            };
            let mut headers = Vec::new();
            for (k, v) in &p.headers {
                match render(v) {
                    Ok(v) => headers.push((k.clone(), v)),
                    Err(e) => return fail(e),
                }
            }
            let mut p = p.clone();
            if let Some(body) = &p.body {
                match render(body) {
                    Ok(b) => p.body = Some(b),
                    Err(e) => return fail(e),
                }
            }
            if let Some(method) = &p.method {
                match render(method) {
                    Ok(m) => p.method = Some(m),
                    Err(e) => return fail(e),
                }
            }
            return probe::http(conn, &p, &url, &headers).await;
        }
        if let Some(t) = &check.tcp {
            let address = match (&t.host, from) {
                (Some(h), _) => render(h),
                (None, ProbeFrom::Host) => Ok("127.0.0.1".to_string()),
                (None, ProbeFrom::Controller) => match crate::vars::get(vars, "ansible_host") {
                    Ok(Some(v)) => Ok(as_text(&v)),
                    _ => Ok(host.to_string()),
                },
            };
            let address = match address {
                Ok(a) => a,
                Err(e) => return fail(e),
            };
            let port = match &t.port {
                Value::Number(n) => n.as_u64().map(|p| p as u16),
                Value::String(s) => render(s).ok().and_then(|p| p.trim().parse().ok()),
                _ => None,
            };
            let Some(port) = port else { return fail(format!("`port` {} is not a port number", t.port)) };
            return probe::tcp(from, conn, &address, port, t.timeout.unwrap_or(3.0)).await;
        }
        match check.command.as_deref().map(render) {
            Some(Ok(line)) => probe::command(conn, &line, check.deadline.min(30.0)).await,
            Some(Err(e)) => fail(e),
            None => fail("the check has no probe".into()),
        }
    }

    /// The pooled connection to a host, with the command line's settings.
    async fn host_connection(&self, host: &str) -> Result<Arc<dyn Connection>, String> {
        let vars = self.fleet.get(host).ok_or_else(|| format!("unknown host `{host}`"))?;
        let hc = host_conn::resolve(host, &vars, &self.opts.conn).map_err(|e| e.to_string())?;
        let key = super::pool::Pool::key(host, &self.opts.conn);
        self.pool.get(&key, hc.spec, hc.connect_timeout + Duration::from_secs(1)).await.0
    }

    /// Runs a shell line on a host as the rollout's own bookkeeping (locks, audit), with the
    /// command line's become settings.
    async fn host_exec(&self, host: &str, line: &str) -> Result<crate::connection::ExecOutput, String> {
        let vars = self.fleet.get(host).ok_or_else(|| format!("unknown host `{host}`"))?;
        let conn = self.host_connection(host).await?;
        let mut cmd = crate::connection::Command::new(line);
        cmd.r#become = host_conn::resolve_become(&vars, &self.opts.r#become).map_err(|e| e.to_string())?;
        cmd.timeout = Some(Duration::from_secs(30));
        conn.exec(&cmd).await.map_err(|e| e.to_string())
    }

    /// Takes the deploy lock `name` on every host (an atomic `mkdir`), or none of them.
    async fn acquire_locks(&self, name: &str, hosts: &[String]) -> Result<(), String> {
        let dir = lock_dir(name);
        let owner = json!({
            "user": crate::connection::ssh::options::local_user(),
            "since": now_rfc3339(),
            "playbook": self.playbook_file.clone().unwrap_or_default(),
        })
        .to_string();
        let breaking = if self.opts.break_lock { format!("rm -rf {dir}; ") } else { String::new() };
        let line = format!(
            "{breaking}if mkdir -p /var/lock 2>/dev/null && mkdir {dir} 2>/dev/null; then printf '%s\\n' {} > {dir}/owner; \
             else echo \"locked: $(cat {dir}/owner 2>/dev/null)\"; exit 3; fi",
            quote(&owner)
        );
        let results = join_all(hosts.iter().map(|h| {
            let line = line.clone();
            async move { (h.clone(), self.host_exec(h, &line).await) }
        }))
        .await;
        let mut taken = Vec::new();
        let mut refused = Vec::new();
        for (h, r) in results {
            match r {
                Ok(out) if out.success() => taken.push(h),
                Ok(out) => refused.push(format!("{h} ({})", out.stdout_str().trim())),
                Err(e) => refused.push(format!("{h} ({e})")),
            }
        }
        if refused.is_empty() {
            return Ok(());
        }
        self.release_locks(name, &taken).await;
        Err(format!(
            "the deploy lock `{name}` is held on {}; another rollout is running, or rerun with --break-lock to remove a stale lock",
            refused.join(", ")
        ))
    }

    async fn release_locks(&self, name: &str, hosts: &[String]) {
        let line = format!("rm -rf {}", lock_dir(name));
        join_all(hosts.iter().map(|h| {
            let line = line.clone();
            async move {
                if let Err(e) = self.host_exec(h, &line).await {
                    self.warn(Some(h), format!("could not release the deploy lock: {e}"));
                }
            }
        }))
        .await;
    }
}

/// Why a canary hold ended the rollout.
struct Stop {
    message: String,
    hosts: Vec<String>,
}

fn lock_dir(name: &str) -> String {
    let safe: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    format!("/var/lock/baton-{safe}.lock")
}

/// The current UTC time as `2026-11-22T15:04:05Z`.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_359_845), "2026-11-22T15:04:05Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn lock_names_are_safe_paths() {
        assert_eq!(lock_dir("my app/../x"), "/var/lock/baton-my_app_.._x.lock");
    }
}
