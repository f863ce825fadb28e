//! Baton's rollout keywords on a play (beyond Ansible): `rollout:` (failure budget, pauses,
//! canary, what to do on failure, the deploy lock), `health_checks:` (probes that gate every
//! batch) and `rollback:` (tasks that undo a batch). Parsed into types here, with unknown
//! keys refused; string fields are templates, rendered per host when the checks run.
//!
//! ```yaml
//! - hosts: web
//!   serial: [1, "50%"]
//!   rollout:
//!     max_failed: 1          # failures tolerated over the whole rollout (or "10%")
//!     pause: 5               # seconds between batches
//!     batch_deadline: 300    # a batch (tasks + checks) must finish within this
//!     check_before: true     # refuse to start on an unhealthy fleet
//!     on_failure: rollback   # or stop (the default)
//!     rollback_scope: all    # or batch (the default): also undo the batches already done
//!     canary: { hold: 30, confirm: false }
//!     lock: myapp            # refuse to run beside another rollout of myapp
//!     version: "{{ app_version }}"   # recorded in each host's audit log
//!   health_checks:
//!     - name: app answers
//!       http: { url: "http://{{ ansible_host }}:8080/health", status: [200], body: "ok" }
//!       success_threshold: 2
//!     - tcp: { port: 8080 }
//!       from: host
//!   rollback:
//!     - command: /srv/app/bin/switch-back
//! ```

use serde::Deserialize;
use serde_json::Value;

/// Where a probe runs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ProbeFrom {
    /// The machine running Baton (through the load balancer's view of the network).
    #[default]
    Controller,
    /// The host itself, over its SSH connection.
    Host,
}

/// An expected HTTP status: one code or a list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StatusList {
    One(u16),
    Many(Vec<u16>),
}

impl StatusList {
    pub fn codes(&self) -> Vec<u16> {
        match self {
            StatusList::One(c) => vec![*c],
            StatusList::Many(c) => c.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpProbe {
    pub url: String,
    #[serde(default)]
    pub method: Option<String>,
    /// Statuses that pass (default 200).
    #[serde(default)]
    pub status: Option<StatusList>,
    /// A regular expression the body must match.
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub headers: indexmap::IndexMap<String, String>,
    /// Check TLS certificates (default yes).
    #[serde(default)]
    pub validate_certs: Option<bool>,
    /// Seconds one try may take (default 5).
    #[serde(default)]
    pub timeout: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpProbe {
    /// Default: the host's `ansible_host` (from the controller) or 127.0.0.1 (from the host).
    #[serde(default)]
    pub host: Option<String>,
    /// A number or a template.
    pub port: Value,
    #[serde(default)]
    pub timeout: Option<f64>,
}

fn one() -> f64 {
    1.0
}
fn one_u() -> u32 {
    1
}
fn three() -> u32 {
    3
}
fn sixty() -> f64 {
    60.0
}

/// One health check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub http: Option<HttpProbe>,
    #[serde(default)]
    pub tcp: Option<TcpProbe>,
    /// A shell command; exit 0 passes. Runs on the host unless `from: controller`.
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default)]
    pub from: Option<ProbeFrom>,
    /// Seconds between tries.
    #[serde(default = "one")]
    pub interval: f64,
    /// Seconds to wait before the first try (readiness delay).
    #[serde(default)]
    pub initial_delay: f64,
    /// Passes in a row needed.
    #[serde(default = "one_u")]
    pub success_threshold: u32,
    /// Failures in a row that fail the check.
    #[serde(default = "three")]
    pub failure_threshold: u32,
    /// Seconds after which the check fails whatever happened.
    #[serde(default = "sixty")]
    pub deadline: f64,
}

impl HealthCheck {
    /// Checks the one-probe rule; the message is for the user.
    pub fn validate(&self) -> Result<(), String> {
        let probes = [self.http.is_some(), self.tcp.is_some(), self.command.is_some()];
        match probes.iter().filter(|p| **p).count() {
            1 => Ok(()),
            0 => Err("a health check needs one probe: `http`, `tcp` or `command`".into()),
            _ => Err("a health check has exactly one probe: `http`, `tcp` or `command`".into()),
        }
    }

    /// Where this check runs: `command` defaults to the host, the others to the controller.
    pub fn from(&self) -> ProbeFrom {
        self.from.unwrap_or(if self.command.is_some() { ProbeFrom::Host } else { ProbeFrom::Controller })
    }

    pub fn label(&self) -> String {
        if let Some(n) = &self.name {
            return n.clone();
        }
        if let Some(h) = &self.http {
            return format!("http {}", h.url);
        }
        if let Some(t) = &self.tcp {
            return format!("tcp {}", t.port);
        }
        format!("command {}", self.command.as_deref().unwrap_or_default())
    }
}

/// `max_failed`: a count or a percentage of the play's hosts.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Budget {
    Count(u64),
    Text(String),
}

impl Budget {
    /// How many failed hosts are tolerated out of `total`.
    pub fn allowed(&self, total: usize) -> Result<usize, String> {
        match self {
            Budget::Count(n) => Ok(*n as usize),
            Budget::Text(t) => match t.trim().strip_suffix('%') {
                Some(p) => {
                    let pct: f64 =
                        p.trim().parse().map_err(|_| format!("`max_failed: {t}` is not a percentage"))?;
                    Ok((total as f64 * pct / 100.0).floor() as usize)
                }
                None => t.trim().parse().map_err(|_| format!("`max_failed: {t}` is not a number")),
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    #[default]
    Stop,
    Rollback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RollbackScope {
    /// Only the batch that failed.
    #[default]
    Batch,
    /// Every host already updated.
    All,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Canary {
    /// Seconds the health checks must keep passing on the first batch before going on.
    #[serde(default)]
    pub hold: f64,
    /// Ask before going on (on a terminal only).
    #[serde(default)]
    pub confirm: bool,
}

/// The `rollout:` keyword.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rollout {
    #[serde(default)]
    pub max_failed: Option<Budget>,
    #[serde(default)]
    pub pause: f64,
    #[serde(default)]
    pub batch_deadline: Option<f64>,
    #[serde(default)]
    pub check_before: bool,
    #[serde(default)]
    pub on_failure: OnFailure,
    #[serde(default)]
    pub rollback_scope: RollbackScope,
    #[serde(default)]
    pub canary: Option<Canary>,
    #[serde(default)]
    pub lock: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn checks_parse_with_defaults_and_refuse_unknown_keys() {
        let c: HealthCheck =
            serde_json::from_value(json!({"http": {"url": "http://x/h", "status": [200, 204]}})).unwrap();
        assert_eq!((c.interval, c.success_threshold, c.failure_threshold, c.deadline), (1.0, 1, 3, 60.0));
        assert_eq!(c.from(), ProbeFrom::Controller);
        assert_eq!(c.http.unwrap().status.unwrap().codes(), [200, 204]);
        let c: HealthCheck = serde_json::from_value(json!({"command": "true"})).unwrap();
        assert_eq!(c.from(), ProbeFrom::Host);
        let err =
            serde_json::from_value::<HealthCheck>(json!({"http": {"url": "u"}, "intervall": 2})).unwrap_err();
        assert!(err.to_string().contains("unknown field `intervall`"), "{err}");
        let two: HealthCheck =
            serde_json::from_value(json!({"command": "true", "tcp": {"port": 1}})).unwrap();
        assert!(two.validate().is_err());
    }

    #[test]
    fn budgets() {
        assert_eq!(Budget::Count(2).allowed(10).unwrap(), 2);
        assert_eq!(Budget::Text("25%".into()).allowed(10).unwrap(), 2);
        assert!(Budget::Text("x".into()).allowed(10).is_err());
        let r: Rollout = serde_json::from_value(
            json!({"on_failure": "rollback", "rollback_scope": "all", "canary": {"hold": 5}}),
        )
        .unwrap();
        assert_eq!((r.on_failure, r.rollback_scope), (OnFailure::Rollback, RollbackScope::All));
    }
}
