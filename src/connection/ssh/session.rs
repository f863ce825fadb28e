//! [`SshConnection`]: one russh session per host, kept for the whole run; one channel per
//! command; one SFTP session (opened on first use) for every transfer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::future::BoxFuture;
use russh::client::{self, Handle};
use russh_sftp::client::SftpSession;
use tokio::net::TcpStream;

use super::auth::authenticate;
use super::channel::ChannelProcess;
use super::handler::{Client, Findings, Negotiated};
use super::known_hosts::{GLOBAL_KNOWN_HOSTS, KnownHosts, lookup_name};
use super::options::{Resolved, SshOptions, jump_options, resolve};
use super::sftp;
use super::ssh_config::SshConfig;
use crate::connection::drive::drive_with_timeout;
use crate::connection::{
    Become, Command, ConnError, Connection, ExecOutput, PutOptions, PutSource, r#become,
};

/// A logged-in SSH session to one host.
pub struct SshConnection {
    handle: Handle<Client>,
    resolved: Resolved,
    negotiated: Negotiated,
    sftp: tokio::sync::Mutex<Option<Arc<SftpSession>>>,
    /// The session this one is tunnelled through (ProxyJump); kept alive with it.
    _jump: Option<Arc<SshConnection>>,
    closed: AtomicBool,
}

impl std::fmt::Debug for SshConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshConnection")
            .field("host", &self.resolved.label())
            .field("user", &self.resolved.user)
            .field("negotiated", &self.negotiated)
            .finish_non_exhaustive()
    }
}

impl SshConnection {
    /// Connects and logs in, reading `~/.ssh/config` (unless told otherwise) for what `opts`
    /// leaves unset. Fails with `Connect`/`Timeout` (host not reachable), `HostKeyMismatch`/
    /// `HostKeyUnknown` (host key refused) or `Auth` (login refused).
    pub async fn connect(opts: &SshOptions) -> Result<SshConnection, ConnError> {
        let config = SshConfig::load(&opts.ssh_config);
        connect_resolved(resolve(opts, &config)).await
    }

    /// The settings the connection was made with.
    pub fn resolved(&self) -> &Resolved {
        &self.resolved
    }

    /// Key exchange, host key, cipher and MAC the session negotiated.
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    fn label(&self) -> String {
        self.resolved.label()
    }

    fn check_open(&self) -> Result<(), ConnError> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(self.lost("the connection was closed"));
        }
        if self.handle.is_closed() {
            return Err(self.lost("the server closed the connection"));
        }
        Ok(())
    }

    fn lost(&self, reason: impl std::fmt::Display) -> ConnError {
        ConnError::Lost { host: self.label(), reason: reason.to_string() }
    }

    /// The SFTP session, opened on first use and shared by every transfer after.
    pub(super) async fn sftp(&self) -> Result<Arc<SftpSession>, ConnError> {
        let mut slot = self.sftp.lock().await;
        if let Some(s) = slot.as_ref() {
            return Ok(s.clone());
        }
        let channel = self.handle.channel_open_session().await.map_err(|e| self.lost(e))?;
        channel.request_subsystem(true, "sftp").await.map_err(|e| self.lost(e))?;
        let session = SftpSession::new(channel.into_stream()).await.map_err(|e| ConnError::Transfer {
            path: String::new(),
            reason: format!("cannot start sftp on {}: {e}", self.label()),
        })?;
        // Large writes on a slow link: give each request more than the default 10 s.
        session.set_timeout(120);
        let session = Arc::new(session);
        *slot = Some(session.clone());
        Ok(session)
    }

    /// Runs a command as the login user and fails with its stderr if it exits non-zero.
    pub(super) async fn run_ok(&self, line: String, path: &str) -> Result<String, ConnError> {
        let out = self.exec(&Command::new(line)).await?;
        if !out.success() {
            return Err(ConnError::Transfer {
                path: path.to_string(),
                reason: out.stderr_str().trim().to_string(),
            });
        }
        Ok(out.stdout_str())
    }
}

/// Connects with fully resolved settings (possibly through jump hosts).
fn connect_resolved(r: Resolved) -> BoxFuture<'static, Result<SshConnection, ConnError>> {
    Box::pin(async move {
        let jump = match r.jumps.split_last() {
            None => None,
            Some((last, before)) => {
                let mut opts = jump_options(last, &r);
                opts.proxy_jump = Some(before.to_vec());
                let config = SshConfig::load(&opts.ssh_config);
                Some(Arc::new(connect_resolved(resolve(&opts, &config)).await?))
            }
        };
        let limit = r.connect_timeout;
        match tokio::time::timeout(limit, handshake(&r, jump.as_deref())).await {
            Ok(Ok((handle, negotiated))) => Ok(SshConnection {
                handle,
                resolved: r,
                negotiated,
                sftp: tokio::sync::Mutex::new(None),
                _jump: jump,
                closed: AtomicBool::new(false),
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(ConnError::Timeout {
                what: format!("connecting to {}", r.label()),
                secs: limit.as_secs(),
            }),
        }
    })
}

/// TCP (or a tunnel through `jump`), key exchange with host key check, then login.
async fn handshake(
    r: &Resolved,
    jump: Option<&SshConnection>,
) -> Result<(Handle<Client>, Negotiated), ConnError> {
    let mut paths = r.known_hosts.clone();
    paths.push(GLOBAL_KNOWN_HOSTS.into());
    let known = Arc::new(KnownHosts::load(&paths));
    let lookup = lookup_name(&r.hostname, r.port);
    let findings = Arc::new(Findings::default());
    let handler = Client {
        label: r.label(),
        lookup: lookup.clone(),
        known: known.clone(),
        known_paths: r.known_hosts.clone(),
        policy: r.policy,
        findings: findings.clone(),
    };
    let config = Arc::new(client_config(&known, &lookup));
    let connect_error = |reason: String| ConnError::Connect { host: r.label(), reason };
    let result = match jump {
        None => {
            let tcp = TcpStream::connect((r.hostname.as_str(), r.port))
                .await
                .map_err(|e| connect_error(e.to_string()))?;
            let _ = tcp.set_nodelay(true);
            client::connect_stream(config, tcp, handler).await
        }
        Some(jump) => {
            let channel = jump
                .handle
                .channel_open_direct_tcpip(r.hostname.as_str(), u32::from(r.port), "127.0.0.1", 0)
                .await
                .map_err(|e| connect_error(format!("jump host {} cannot reach it: {e}", jump.label())))?;
            client::connect_stream(config, channel.into_stream(), handler).await
        }
    };
    let mut handle = match result {
        Ok(handle) => handle,
        Err(e) => {
            let refusal = findings.refusal.lock().ok().and_then(|mut s| s.take());
            return Err(refusal.unwrap_or_else(|| connect_error(handshake_reason(&e))));
        }
    };
    authenticate(&mut handle, r).await?;
    let negotiated = findings.negotiated.lock().map(|n| n.clone()).unwrap_or_default();
    Ok((handle, negotiated))
}

fn handshake_reason(e: &russh::Error) -> String {
    match e {
        russh::Error::Disconnect | russh::Error::HUP => {
            "the server closed the connection during the handshake".into()
        }
        other => format!("ssh handshake failed: {other}"),
    }
}

/// russh's defaults (algorithms untouched: the hybrid post-quantum `mlkem768x25519-sha256`
/// first, OpenSSH 10's default, then `curve25519-sha256`; AEAD ciphers; no SHA-1 key
/// exchange), except that host key algorithms already recorded
/// for this host in known_hosts are asked for first, as OpenSSH does, so a host known by its
/// ECDSA key is not refused for offering ed25519.
fn client_config(known: &KnownHosts, lookup: &str) -> client::Config {
    let mut config = client::Config {
        keepalive_interval: Some(Duration::from_secs(30)),
        keepalive_max: 3,
        nodelay: true,
        ..client::Config::default()
    };
    let recorded = known.algorithms_for(lookup);
    if !recorded.is_empty() {
        let is_recorded =
            |a: &russh::keys::Algorithm| recorded.iter().any(|k| k == a || (is_rsa(k) && is_rsa(a)));
        let (mut first, rest): (Vec<_>, Vec<_>) =
            config.preferred.key.iter().cloned().partition(|a| is_recorded(a));
        first.extend(rest);
        config.preferred.key = first.into();
    }
    config
}

fn is_rsa(a: &russh::keys::Algorithm) -> bool {
    matches!(a, russh::keys::Algorithm::Rsa { .. })
}

#[async_trait]
impl Connection for SshConnection {
    async fn exec(&self, cmd: &Command) -> Result<ExecOutput, ConnError> {
        self.check_open()?;
        let timeout = cmd.timeout.or(self.resolved.command_timeout);
        let prepared = match timeout {
            // The host kills it a second after we give up on it.
            Some(limit) => r#become::prepare(&Command {
                cmd: r#become::with_deadline(&cmd.cmd, limit.as_secs() + 1),
                ..cmd.clone()
            })?,
            None => r#become::prepare(cmd)?,
        };
        let channel = self.handle.channel_open_session().await.map_err(|e| self.lost(e))?;
        channel.exec(true, prepared.line.as_bytes()).await.map_err(|e| self.lost(e))?;
        let mut proc = ChannelProcess::new(channel, self.label());
        let out = drive_with_timeout(&mut proc, prepared.watch, cmd.stdin.clone(), timeout, &cmd.cmd).await?;
        if out.rc.is_none() && out.signal.is_none() {
            return Err(self.lost("the command ended without an exit status"));
        }
        Ok(out)
    }

    async fn put(&self, src: PutSource, dest: &str, opts: &PutOptions) -> Result<(), ConnError> {
        self.check_open()?;
        match &opts.r#become {
            None => sftp::put_direct(self, src, dest, opts).await,
            Some(b) => sftp::put_become(self, src, dest, opts, b).await,
        }
    }

    async fn get(&self, src: &str, r#become: Option<&Become>) -> Result<Vec<u8>, ConnError> {
        self.check_open()?;
        match r#become {
            None => sftp::get(self, src).await,
            Some(b) => crate::connection::transfer::read_as(self, src, b).await,
        }
    }

    fn describe(&self) -> String {
        format!("ssh {}@{}: {}", self.resolved.user, self.label(), self.negotiated)
    }

    async fn close(&self) -> Result<(), ConnError> {
        if self.closed.swap(true, Ordering::Relaxed) {
            return Ok(());
        }
        if let Some(s) = self.sftp.lock().await.take() {
            let _ = s.close().await;
        }
        let _ = self.handle.disconnect(russh::Disconnect::ByApplication, "", "en").await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Speed is never bought by offering weaker algorithms: the key exchange a host gets is
    /// the strongest both sides know, post-quantum hybrid first.
    #[test]
    fn the_strongest_key_exchange_is_offered_first_and_no_weak_one_at_all() {
        let config = client_config(&KnownHosts::default(), "web1");
        let kex: Vec<&str> = config.preferred.kex.iter().map(|k| k.as_ref()).collect();
        assert_eq!(kex.first(), Some(&"mlkem768x25519-sha256"), "{kex:?}");
        assert_eq!(kex.get(1), Some(&"curve25519-sha256"), "{kex:?}");
        assert!(!kex.iter().any(|k| k.ends_with("sha1") || *k == "none"), "{kex:?}");
        let ciphers: Vec<&str> = config.preferred.cipher.iter().map(|c| c.as_ref()).collect();
        assert!(!ciphers.iter().any(|c| c.contains("cbc") || *c == "none"), "{ciphers:?}");
    }
}
