//! The one stream of events the engine emits. Terminal output, the recap and JSON lines are
//! consumers of it ([`crate::report`]); nothing in the engine prints.

use std::time::Duration;

use serde::Serialize;

/// How a task ended on one host, in Ansible's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Changed,
    Failed,
    Skipped,
    Unreachable,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Changed => "changed",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Unreachable => "unreachable",
        }
    }
}

/// The result of one task (or ad-hoc module call) on one host, shaped like Ansible's:
/// `rc`, `stdout`, `stderr`, `msg`, plus module-specific keys in `data`.
#[derive(Debug, Clone, Serialize)]
pub struct TaskResult {
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rc: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg: Option<String>,
    /// Everything else the module returns (`ping: pong`, `diff`, ...).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl TaskResult {
    pub fn new(status: Status) -> TaskResult {
        TaskResult { status, rc: None, stdout: None, stderr: None, msg: None, data: serde_json::Map::new() }
    }

    pub fn failed(msg: impl Into<String>) -> TaskResult {
        TaskResult { msg: Some(msg.into()), ..TaskResult::new(Status::Failed) }
    }

    /// The result as Ansible's `register` would see it (`changed`, `failed`, `rc`,
    /// `stdout_lines`, ...).
    pub fn to_registered(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("changed".into(), (self.status == Status::Changed).into());
        m.insert("failed".into(), (self.status == Status::Failed).into());
        if self.status == Status::Skipped {
            m.insert("skipped".into(), true.into());
        }
        if self.status == Status::Unreachable {
            m.insert("unreachable".into(), true.into());
        }
        if let Some(rc) = self.rc {
            m.insert("rc".into(), rc.into());
        }
        for (key, text) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            if let Some(text) = text {
                m.insert(key.into(), text.clone().into());
                let lines: Vec<serde_json::Value> = text.lines().map(|l| l.to_string().into()).collect();
                m.insert(format!("{key}_lines"), lines.into());
            }
        }
        if let Some(msg) = &self.msg {
            m.insert("msg".into(), msg.clone().into());
        }
        for (k, v) in &self.data {
            m.insert(k.clone(), v.clone());
        }
        serde_json::Value::Object(m)
    }
}

/// Per-host totals for the recap.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct HostStats {
    pub ok: u32,
    pub changed: u32,
    pub unreachable: u32,
    pub failed: u32,
    pub skipped: u32,
    pub rescued: u32,
    pub ignored: u32,
}

impl HostStats {
    /// Counts one result the way Ansible's recap does: `changed` also counts as `ok`.
    pub fn count(&mut self, status: Status) {
        match status {
            Status::Ok => self.ok += 1,
            Status::Changed => {
                self.ok += 1;
                self.changed += 1;
            }
            Status::Failed => self.failed += 1,
            Status::Skipped => self.skipped += 1,
            Status::Unreachable => self.unreachable += 1,
        }
    }
}

/// Everything the engine tells the outside world.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A run begins on these hosts.
    RunStarted { kind: String, hosts: Vec<String> },
    /// A play begins (playbook runs); `hosts` are the hosts it selected.
    PlayStarted { name: String, hosts: Vec<String> },
    /// A task (or the ad-hoc module) begins; `handler` when it runs as a notified handler.
    TaskStarted {
        name: String,
        hosts: usize,
        #[serde(skip_serializing_if = "std::ops::Not::not", default)]
        handler: bool,
    },
    /// Work starts on one host.
    HostStarted { host: String, task: String },
    /// A host finished the task.
    HostResult {
        host: String,
        task: String,
        result: TaskResult,
        #[serde(serialize_with = "as_secs")]
        duration: Duration,
    },
    /// One item of a looped task finished on a host (the task's own `host_result` follows).
    ItemResult { host: String, task: String, item: serde_json::Value, result: TaskResult },
    /// A failure that `ignore_errors` turned into a note; counted as `ignored`.
    Ignored { host: String, task: String },
    /// A connection to a host was opened; `detail` says how (for SSH: the key exchange, host
    /// key, cipher and MAC it negotiated).
    Connected { host: String, detail: String },
    /// A host could not be reached (connect, auth, host key, timeout).
    HostUnreachable { host: String, task: String, reason: String },
    /// A health check finished on a host (after a batch, before the rollout, or in a canary
    /// hold); `detail` is the probe's last answer.
    HealthCheck { host: String, check: String, passed: bool, attempts: u32, detail: String },
    /// Where a rollout left the fleet: hosts updated, failed, rolled back and never touched.
    Rollout {
        updated: Vec<String>,
        failed: Vec<String>,
        rolled_back: Vec<String>,
        untouched: Vec<String>,
        /// Why the rollout stopped early, if it did.
        #[serde(skip_serializing_if = "Option::is_none")]
        stopped: Option<String>,
    },
    /// A warning that does not stop the run (ignored ssh option, empty pattern, ...).
    Warning { host: Option<String>, message: String },
    /// The run ended; totals per host in inventory order.
    RunFinished {
        stats: Vec<(String, HostStats)>,
        #[serde(serialize_with = "as_secs")]
        duration: Duration,
    },
}

fn as_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Something that consumes events. The engine holds one and calls it for every event, in
/// order; implementations must not block for long.
pub trait EventSink: Send + Sync {
    fn emit(&self, event: &Event);
}

/// Fans one event out to several sinks (for example terminal output and JSON lines).
pub struct Fanout(pub Vec<Box<dyn EventSink>>);

impl EventSink for Fanout {
    fn emit(&self, event: &Event) {
        for sink in &self.0 {
            sink.emit(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_result_has_lines() {
        let mut r = TaskResult::new(Status::Changed);
        r.rc = Some(0);
        r.stdout = Some("a\nb\n".into());
        let v = r.to_registered();
        assert_eq!(v["changed"], true);
        assert_eq!(v["stdout_lines"], serde_json::json!(["a", "b"]));
    }

    #[test]
    fn changed_counts_as_ok_in_recap() {
        let mut s = HostStats::default();
        s.count(Status::Changed);
        s.count(Status::Ok);
        assert_eq!((s.ok, s.changed), (2, 1));
    }
}
