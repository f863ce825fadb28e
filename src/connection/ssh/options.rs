//! What an SSH connection needs to know, as given (inventory vars, ssh args) and as resolved
//! (with `~/.ssh/config` and defaults filled in).
//!
//! Precedence follows OpenSSH: what the user set for Baton (Ansible's vars become command-line
//! options for `ssh`) wins over `~/.ssh/config`, which wins over built-in defaults.

use std::path::PathBuf;
use std::time::Duration;

use super::ssh_config::{HostConfig, SshConfig};
use crate::connection::Secret;

/// How unknown and changed host keys are treated (OpenSSH's `StrictHostKeyChecking`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostKeyPolicy {
    /// Only keys already in known_hosts are accepted.
    #[default]
    Strict,
    /// Unknown hosts are accepted and their key recorded; changed keys are still refused.
    AcceptNew,
    /// Every key is accepted (no protection against a man in the middle).
    Off,
}

impl HostKeyPolicy {
    /// Parses OpenSSH's and Baton's spellings: `yes`/`strict`/`ask`, `accept-new`, `no`/`off`.
    pub fn parse(value: &str) -> Option<HostKeyPolicy> {
        match value.trim().to_ascii_lowercase().as_str() {
            "yes" | "true" | "strict" | "ask" => Some(HostKeyPolicy::Strict),
            "accept-new" | "accept_new" => Some(HostKeyPolicy::AcceptNew),
            "no" | "false" | "off" => Some(HostKeyPolicy::Off),
            _ => None,
        }
    }
}

/// One hop of `ProxyJump`: `[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpHost {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl JumpHost {
    /// Parses `[user@]host[:port]` or `ssh://[user@]host[:port]`.
    pub fn parse(spec: &str) -> Option<JumpHost> {
        let spec = spec.trim();
        let spec = spec.strip_prefix("ssh://").unwrap_or(spec);
        let (user, rest) = match spec.rsplit_once('@') {
            Some((u, r)) => (Some(u.to_string()), r),
            None => (None, spec),
        };
        let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
            // [v6addr]:port
            let (h, tail) = inner.split_once(']')?;
            let port = match tail.strip_prefix(':') {
                Some(p) => Some(p.parse().ok()?),
                None => None,
            };
            (h.to_string(), port)
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') => (h.to_string(), Some(p.parse().ok()?)),
                _ => (rest.to_string(), None),
            }
        };
        if host.is_empty() {
            return None;
        }
        Some(JumpHost { user, host, port })
    }

    /// Parses a comma-separated `ProxyJump` value; `none` means no jump.
    pub fn parse_list(value: &str) -> Option<Vec<JumpHost>> {
        if value.trim().eq_ignore_ascii_case("none") {
            return Some(Vec::new());
        }
        value.split(',').map(JumpHost::parse).collect()
    }
}

/// Which `ssh_config` file to read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SshConfigFile {
    /// `~/.ssh/config` when it exists.
    #[default]
    User,
    Path(PathBuf),
    None,
}

/// Everything the user can set for one SSH connection. `None`/empty means "not set here":
/// `~/.ssh/config` and then the defaults decide.
#[derive(Debug, Clone, Default)]
pub struct SshOptions {
    /// What to connect to, as the user wrote it (`ansible_host`, else the inventory name).
    /// `Host` patterns in `~/.ssh/config` match this; its `HostName` may replace it.
    pub host: String,
    pub port: Option<u16>,
    pub user: Option<String>,
    /// Private keys to offer, in order (`-i`, `ansible_ssh_private_key_file`).
    pub identity_files: Vec<PathBuf>,
    /// Offer only `identity_files`, not the agent's keys (`IdentitiesOnly`).
    pub identities_only: Option<bool>,
    /// Password authentication, tried after keys (`ansible_password`).
    pub password: Option<Secret>,
    /// known_hosts files; the first one receives keys recorded by `AcceptNew`.
    pub known_hosts: Vec<PathBuf>,
    pub host_key_policy: Option<HostKeyPolicy>,
    /// Deadline for TCP connect, key exchange and login (default 10 s).
    pub connect_timeout: Option<Duration>,
    /// Deadline for commands that do not set their own.
    pub command_timeout: Option<Duration>,
    /// `Some(vec![])` means `ProxyJump none`.
    pub proxy_jump: Option<Vec<JumpHost>>,
    /// Use the keys of the agent at `SSH_AUTH_SOCK` (default yes).
    pub use_agent: Option<bool>,
    pub ssh_config: SshConfigFile,
}

impl SshOptions {
    pub fn new(host: impl Into<String>) -> SshOptions {
        SshOptions { host: host.into(), ..SshOptions::default() }
    }
}

/// The settings a connection is made with, every value decided.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The name the user gave (for messages and `%n`).
    pub alias: String,
    /// Where to connect (after `HostName`); known_hosts is searched under this name.
    pub hostname: String,
    pub port: u16,
    pub user: String,
    pub identity_files: Vec<PathBuf>,
    /// True when the identity files came from defaults, so missing ones are skipped quietly.
    pub default_identities: bool,
    pub identities_only: bool,
    pub password: Option<Secret>,
    pub known_hosts: Vec<PathBuf>,
    pub policy: HostKeyPolicy,
    pub connect_timeout: Duration,
    pub command_timeout: Option<Duration>,
    pub jumps: Vec<JumpHost>,
    pub use_agent: bool,
}

impl Resolved {
    /// `host:port` as shown in messages.
    pub fn label(&self) -> String {
        if self.port == 22 { self.hostname.clone() } else { format!("{}:{}", self.hostname, self.port) }
    }
}

/// Default connect timeout, as in Ansible's `timeout` setting.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Fills in `opts` from the ssh_config entry for its host and from the defaults.
pub fn resolve(opts: &SshOptions, config: &SshConfig) -> Resolved {
    let hc: HostConfig = config.query(&opts.host);
    let hostname = hc
        .hostname
        .clone()
        .map(|h| h.replace("%h", &opts.host).replace("%%", "%"))
        .unwrap_or_else(|| opts.host.clone());
    let port = opts.port.or(hc.port).unwrap_or(22);
    let user = opts.user.clone().or(hc.user.clone()).unwrap_or_else(local_user);
    let expand = |p: &PathBuf| expand_path(&p.to_string_lossy(), &hostname, &user, port, &opts.host);
    let mut identity_files: Vec<PathBuf> = opts.identity_files.iter().map(expand).collect();
    identity_files.extend(hc.identity_files.iter().map(expand));
    let default_identities = identity_files.is_empty();
    if default_identities {
        identity_files = ["id_ed25519", "id_ecdsa", "id_rsa"]
            .iter()
            .filter_map(|n| dirs::home_dir().map(|h| h.join(".ssh").join(n)))
            .collect();
    }
    let known_hosts: Vec<PathBuf> = if !opts.known_hosts.is_empty() {
        opts.known_hosts.iter().map(expand).collect()
    } else if !hc.known_hosts.is_empty() {
        hc.known_hosts.iter().map(expand).collect()
    } else {
        ["known_hosts", "known_hosts2"]
            .iter()
            .filter_map(|n| dirs::home_dir().map(|h| h.join(".ssh").join(n)))
            .collect()
    };
    Resolved {
        alias: opts.host.clone(),
        hostname,
        port,
        user,
        identity_files,
        default_identities,
        identities_only: opts.identities_only.or(hc.identities_only).unwrap_or(false),
        password: opts.password.clone(),
        known_hosts,
        policy: opts.host_key_policy.or(hc.host_key_policy).unwrap_or_default(),
        connect_timeout: opts.connect_timeout.or(hc.connect_timeout).unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        command_timeout: opts.command_timeout,
        jumps: opts.proxy_jump.clone().or(hc.proxy_jump.clone()).unwrap_or_default(),
        use_agent: opts.use_agent.unwrap_or(true),
    }
}

/// The options for a jump host: its own name, user and port, and everything else (keys,
/// known_hosts, policy, timeouts) inherited from the connection that jumps through it.
pub fn jump_options(jump: &JumpHost, target: &Resolved) -> SshOptions {
    SshOptions {
        host: jump.host.clone(),
        port: jump.port,
        user: jump.user.clone(),
        identity_files: if target.default_identities { Vec::new() } else { target.identity_files.clone() },
        identities_only: Some(target.identities_only),
        password: None,
        known_hosts: target.known_hosts.clone(),
        host_key_policy: Some(target.policy),
        connect_timeout: Some(target.connect_timeout),
        command_timeout: None,
        // A jump host's own ProxyJump is not followed: the chain is the target's list.
        proxy_jump: Some(Vec::new()),
        use_agent: Some(target.use_agent),
        ssh_config: SshConfigFile::User,
    }
}

/// The local user's name, OpenSSH's default remote user.
pub fn local_user() -> String {
    std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "root".into())
}

/// Expands `~` and the `%` tokens OpenSSH allows in file names: `%h` host, `%r` remote user,
/// `%p` port, `%n` the name as given, `%u` local user, `%d` home, `%%`.
pub fn expand_path(path: &str, host: &str, user: &str, port: u16, alias: &str) -> PathBuf {
    let home = dirs::home_dir().map(|h| h.to_string_lossy().into_owned()).unwrap_or_default();
    let path = match path.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("{home}{rest}"),
        _ => path.to_string(),
    };
    let mut out = String::new();
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('h') => out.push_str(host),
            Some('r') => out.push_str(user),
            Some('p') => out.push_str(&port.to_string()),
            Some('n') => out.push_str(alias),
            Some('u') => out.push_str(&local_user()),
            Some('d') => out.push_str(&home),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    PathBuf::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jump_specs() {
        assert_eq!(
            JumpHost::parse("ops@bastion:2222"),
            Some(JumpHost { user: Some("ops".into()), host: "bastion".into(), port: Some(2222) })
        );
        assert_eq!(JumpHost::parse("bastion").unwrap().port, None);
        assert_eq!(JumpHost::parse("[::1]:22").unwrap().host, "::1");
        assert_eq!(JumpHost::parse("ssh://a@b:3").unwrap().port, Some(3));
        assert_eq!(JumpHost::parse_list("none"), Some(vec![]));
        assert_eq!(JumpHost::parse_list("a,b:2").unwrap().len(), 2);
        assert_eq!(JumpHost::parse("a:x"), None);
    }

    #[test]
    fn policies() {
        assert_eq!(HostKeyPolicy::parse("yes"), Some(HostKeyPolicy::Strict));
        assert_eq!(HostKeyPolicy::parse("accept-new"), Some(HostKeyPolicy::AcceptNew));
        assert_eq!(HostKeyPolicy::parse("off"), Some(HostKeyPolicy::Off));
        assert_eq!(HostKeyPolicy::parse("maybe"), None);
    }

    #[test]
    fn tokens_expand() {
        let p = expand_path("/keys/%r@%h:%p-%%", "web1", "deploy", 2222, "w");
        assert_eq!(p, PathBuf::from("/keys/deploy@web1:2222-%"));
    }

    #[test]
    fn explicit_options_win_over_ssh_config() {
        let config = SshConfig::parse(
            "Host web\n  HostName 10.0.0.5\n  User fromconfig\n  Port 2200\n  \
             StrictHostKeyChecking accept-new\n",
        );
        let mut opts = SshOptions::new("web");
        opts.user = Some("deploy".into());
        let r = resolve(&opts, &config);
        assert_eq!(r.hostname, "10.0.0.5");
        assert_eq!(r.user, "deploy");
        assert_eq!(r.port, 2200);
        assert_eq!(r.policy, HostKeyPolicy::AcceptNew);
        assert_eq!(r.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
        assert!(r.default_identities);
    }
}
