//! How to reach one host and escalate on it, decided from its variables and the command
//! line, with Ansible's precedence: a host's `ansible_*` variables win over the flags
//! (`-u`, `-c`, `--private-key`, `-T`), which win over `~/.ssh/config` and the defaults.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::connection::ssh::{HostKeyPolicy, SshOptions, apply_args};
use crate::connection::{Become, BecomeMethod, ConnectSpec, Secret};
use crate::template::TemplateError;
use crate::vars::{HostVars, get};

/// What the command line (or a play) says about connections, below the host's own vars.
#[derive(Debug, Clone, Default)]
pub struct ConnDefaults {
    /// `-c`: `ssh` or `local`.
    pub connection: Option<String>,
    /// `-u`.
    pub user: Option<String>,
    /// A play's `port:` keyword.
    pub port: Option<u16>,
    /// `--private-key`.
    pub private_key: Option<PathBuf>,
    /// `-T`: connect timeout.
    pub timeout: Duration,
    /// `--known-hosts`.
    pub known_hosts: Option<PathBuf>,
    /// `--host-key-checking`.
    pub host_key_policy: Option<HostKeyPolicy>,
    /// Per-command deadline (a task's `timeout:`), when any.
    pub command_timeout: Option<Duration>,
}

/// Privilege escalation asked for by `-b`/`--become-user`/`-K` or a play's `become*`.
#[derive(Debug, Clone, Default)]
pub struct BecomeDefaults {
    pub enabled: bool,
    pub user: Option<String>,
    pub method: Option<BecomeMethod>,
    pub password: Option<Secret>,
}

/// Everything decided for one host.
#[derive(Debug, Clone)]
pub struct HostConn {
    pub spec: ConnectSpec,
    pub connect_timeout: Duration,
    /// Options in `ansible_ssh_*_args` that Baton ignores, one sentence each.
    pub warnings: Vec<String>,
}

/// Why a host's connection settings are unusable.
#[derive(Debug, thiserror::Error)]
pub enum HostConnError {
    #[error(transparent)]
    Template(#[from] Box<TemplateError>),
    #[error("`{var}` must be {expected}, not `{value}`")]
    Bad { var: String, expected: &'static str, value: String },
}

impl From<TemplateError> for HostConnError {
    fn from(e: TemplateError) -> Self {
        HostConnError::Template(Box::new(e))
    }
}

/// The first of `names` the host defines, templated, as a string (numbers and booleans too).
fn var_str(vars: &HostVars, names: &[&str]) -> Result<Option<String>, HostConnError> {
    for name in names {
        match get(vars, name)? {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => return Ok(Some(s)),
            Some(Value::Number(n)) => return Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => return Ok(Some(b.to_string())),
            Some(other) => {
                return Err(HostConnError::Bad {
                    var: (*name).to_string(),
                    expected: "a string",
                    value: other.to_string(),
                });
            }
        }
    }
    Ok(None)
}

fn var_bool(vars: &HostVars, names: &[&str]) -> Result<Option<bool>, HostConnError> {
    for name in names {
        match get(vars, name)? {
            None | Some(Value::Null) => continue,
            Some(Value::Bool(b)) => return Ok(Some(b)),
            Some(v) => {
                let text = match &v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                return crate::template::templater::parse_bool_word(&text).map(Some).ok_or(
                    HostConnError::Bad { var: (*name).to_string(), expected: "a boolean", value: text },
                );
            }
        }
    }
    Ok(None)
}

fn var_secs(vars: &HostVars, names: &[&str]) -> Result<Option<Duration>, HostConnError> {
    match var_str(vars, names)? {
        None => Ok(None),
        Some(s) => s.trim().parse::<u64>().map(|n| Some(Duration::from_secs(n))).map_err(|_| {
            HostConnError::Bad { var: names[0].to_string(), expected: "a number of seconds", value: s }
        }),
    }
}

/// Decides how to connect to `host` from its variables and the defaults.
pub fn resolve(host: &str, vars: &HostVars, defaults: &ConnDefaults) -> Result<HostConn, HostConnError> {
    let connection = var_str(vars, &["ansible_connection"])?
        .or_else(|| defaults.connection.clone())
        .unwrap_or_else(|| "ssh".to_string());
    let connect_timeout =
        var_secs(vars, &["ansible_ssh_timeout", "ansible_timeout"])?.unwrap_or(defaults.timeout);
    match connection.as_str() {
        "local" => return Ok(HostConn { spec: ConnectSpec::Local, connect_timeout, warnings: Vec::new() }),
        "ssh" | "smart" | "paramiko" | "paramiko_ssh" | "ansible.builtin.ssh" => {}
        other => {
            return Err(HostConnError::Bad {
                var: "ansible_connection".into(),
                expected: "`ssh` or `local`",
                value: other.to_string(),
            });
        }
    }
    let address = var_str(vars, &["ansible_host", "ansible_ssh_host"])?.unwrap_or_else(|| host.to_string());
    let mut opts = SshOptions::new(address);
    if let Some(port) = var_str(vars, &["ansible_port", "ansible_ssh_port"])? {
        opts.port = Some(port.trim().parse().map_err(|_| HostConnError::Bad {
            var: "ansible_port".into(),
            expected: "a port number",
            value: port,
        })?);
    }
    if opts.port.is_none() {
        opts.port = defaults.port;
    }
    opts.user = var_str(vars, &["ansible_user", "ansible_ssh_user"])?.or_else(|| defaults.user.clone());
    let key = var_str(vars, &["ansible_ssh_private_key_file", "ansible_private_key_file"])?
        .map(PathBuf::from)
        .or_else(|| defaults.private_key.clone());
    opts.identity_files.extend(key);
    opts.password =
        var_str(vars, &["ansible_password", "ansible_ssh_pass", "ansible_ssh_password"])?.map(Secret);
    if let Some(file) = var_str(vars, &["ansible_ssh_known_hosts_file", "baton_known_hosts_file"])? {
        opts.known_hosts.push(PathBuf::from(file));
    }
    if let Some(check) = var_bool(vars, &["ansible_host_key_checking", "ansible_ssh_host_key_checking"])? {
        opts.host_key_policy = Some(if check { HostKeyPolicy::Strict } else { HostKeyPolicy::Off });
    }
    let mut warnings = Vec::new();
    for name in ["ansible_ssh_common_args", "ansible_ssh_extra_args", "ansible_ssh_args"] {
        if let Some(args) = var_str(vars, &[name])? {
            warnings.extend(apply_args(&mut opts, &args).into_iter().map(|w| format!("{w} (from `{name}`)")));
        }
    }
    // The flags come after the host's own settings: first value wins, as in OpenSSH.
    if opts.known_hosts.is_empty() {
        opts.known_hosts.extend(defaults.known_hosts.clone());
    }
    if opts.host_key_policy.is_none() {
        opts.host_key_policy = defaults.host_key_policy;
    }
    if opts.connect_timeout.is_none() {
        opts.connect_timeout = Some(connect_timeout);
    }
    opts.command_timeout = defaults.command_timeout;
    let connect_timeout = opts.connect_timeout.unwrap_or(connect_timeout);
    Ok(HostConn { spec: ConnectSpec::Ssh(Box::new(opts)), connect_timeout, warnings })
}

/// Decides privilege escalation for `host`: `ansible_become*` variables win over the flags
/// and play keywords in `defaults`. `None` when no escalation is wanted.
pub fn resolve_become(vars: &HostVars, defaults: &BecomeDefaults) -> Result<Option<Become>, HostConnError> {
    let enabled = var_bool(vars, &["ansible_become"])?.unwrap_or(defaults.enabled);
    if !enabled {
        return Ok(None);
    }
    let method = match var_str(vars, &["ansible_become_method"])? {
        None => defaults.method.unwrap_or(BecomeMethod::Sudo),
        Some(m) => match m.as_str() {
            "sudo" | "ansible.builtin.sudo" => BecomeMethod::Sudo,
            "su" | "ansible.builtin.su" => BecomeMethod::Su,
            _ => {
                return Err(HostConnError::Bad {
                    var: "ansible_become_method".into(),
                    expected: "`sudo` or `su`",
                    value: m,
                });
            }
        },
    };
    let user = var_str(vars, &["ansible_become_user"])?
        .or_else(|| defaults.user.clone())
        .unwrap_or_else(|| "root".to_string());
    let password = var_str(vars, &["ansible_become_password", "ansible_become_pass"])?
        .map(Secret)
        .or_else(|| defaults.password.clone());
    Ok(Some(Become { method, user, password }))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::template::Templater;
    use crate::vars::{Layer, VarMap};

    fn vars(pairs: Value) -> HostVars {
        let map: VarMap = pairs.as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        HostVars::new(Arc::new(Templater::new()), "web1").with_layer(Layer::Inventory, map)
    }

    fn ssh(conn: &HostConn) -> &SshOptions {
        match &conn.spec {
            ConnectSpec::Ssh(o) => o,
            ConnectSpec::Local => panic!("local"),
        }
    }

    #[test]
    fn host_vars_win_over_flags() {
        let defaults = ConnDefaults {
            user: Some("flaguser".into()),
            timeout: Duration::from_secs(10),
            private_key: Some("/flag/key".into()),
            ..ConnDefaults::default()
        };
        let v = vars(json!({"ansible_host": "10.0.0.5", "ansible_port": "2222", "ansible_user": "{{ who }}",
                            "who": "deploy"}));
        let c = resolve("web1", &v, &defaults).unwrap();
        let o = ssh(&c);
        assert_eq!((o.host.as_str(), o.port, o.user.as_deref()), ("10.0.0.5", Some(2222), Some("deploy")));
        assert_eq!(o.identity_files, [PathBuf::from("/flag/key")]);
        assert_eq!(c.connect_timeout, Duration::from_secs(10));
    }

    #[test]
    fn the_inventory_name_is_the_address_by_default_and_flags_fill_in() {
        let defaults =
            ConnDefaults { user: Some("u".into()), timeout: Duration::from_secs(3), ..Default::default() };
        let c = resolve("web1", &vars(json!({})), &defaults).unwrap();
        assert_eq!(ssh(&c).host, "web1");
        assert_eq!(ssh(&c).user.as_deref(), Some("u"));
        assert_eq!(c.connect_timeout, Duration::from_secs(3));
    }

    #[test]
    fn local_connection_and_ssh_args() {
        let c =
            resolve("x", &vars(json!({"ansible_connection": "local"})), &ConnDefaults::default()).unwrap();
        assert!(matches!(c.spec, ConnectSpec::Local));
        let v = vars(
            json!({"ansible_ssh_common_args": "-o UserKnownHostsFile=/k -o StrictHostKeyChecking=no -o ControlPersist=60s"}),
        );
        let c = resolve("x", &v, &ConnDefaults::default()).unwrap();
        assert_eq!(ssh(&c).known_hosts, [PathBuf::from("/k")]);
        assert_eq!(ssh(&c).host_key_policy, Some(HostKeyPolicy::Off));
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        let err = resolve("x", &vars(json!({"ansible_connection": "winrm"})), &ConnDefaults::default());
        assert!(err.unwrap_err().to_string().contains("`ssh` or `local`"));
    }

    #[test]
    fn become_vars_win_and_password_never_shows() {
        let d = BecomeDefaults { enabled: true, user: Some("app".into()), ..Default::default() };
        let b = resolve_become(&vars(json!({})), &d).unwrap().unwrap();
        assert_eq!((b.method, b.user.as_str()), (BecomeMethod::Sudo, "app"));
        let v = vars(json!({"ansible_become": "no"}));
        assert!(resolve_become(&v, &d).unwrap().is_none());
        let v = vars(
            json!({"ansible_become": true, "ansible_become_user": "op", "ansible_become_password": "pw"}),
        );
        let b = resolve_become(&v, &BecomeDefaults::default()).unwrap().unwrap();
        assert_eq!(b.user, "op");
        assert!(!format!("{b:?}").contains("pw"));
    }
}
