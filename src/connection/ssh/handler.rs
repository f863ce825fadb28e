//! The russh client handler: checks the server's host key against known_hosts (the russh
//! examples accept every key; Baton never does unless the policy is `Off`) and records which
//! algorithms the key exchange settled on.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use russh::client;
use russh::keys::{PublicKey, PublicKeyOrCertificate};

use super::known_hosts::{self, KnownHosts, Verdict};
use super::options::HostKeyPolicy;
use crate::connection::ConnError;

/// The algorithms a session uses, for diagnostics and benchmarks against OpenSSH.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Negotiated {
    pub kex: String,
    pub host_key: String,
    pub cipher: String,
    pub mac: String,
}

impl std::fmt::Display for Negotiated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "kex {}, host key {}, cipher {}, mac {}", self.kex, self.host_key, self.cipher, self.mac)
    }
}

/// What the handler learns during the handshake, read back by the connecting code.
#[derive(Debug, Default)]
pub struct Findings {
    /// Why the host key was refused, when it was.
    pub refusal: Mutex<Option<ConnError>>,
    pub negotiated: Mutex<Negotiated>,
}

pub struct Client {
    /// `host` or `host:port`, for messages.
    pub label: String,
    /// The name known_hosts is searched under (`[host]:port` off port 22).
    pub lookup: String,
    pub known: Arc<KnownHosts>,
    /// Files searched; the first one receives keys accepted under `AcceptNew`.
    pub known_paths: Vec<PathBuf>,
    pub policy: HostKeyPolicy,
    pub findings: Arc<Findings>,
}

impl Client {
    fn refuse(&self, error: ConnError) -> Result<bool, russh::Error> {
        if let Ok(mut slot) = self.findings.refusal.lock() {
            *slot = Some(error);
        }
        Ok(false)
    }

    fn first_path(&self) -> String {
        self.known_paths.first().map(|p| p.display().to_string()).unwrap_or_else(|| "known_hosts".into())
    }
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(&mut self, presented: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        let key = match presented {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(cert) => PublicKey::new(cert.public_key().clone(), ""),
        };
        if self.policy == HostKeyPolicy::Off {
            return Ok(true);
        }
        let key_type = known_hosts::key_type(&key);
        let actual = known_hosts::fingerprint(&key);
        match self.known.check(&self.lookup, &key) {
            Verdict::Known => Ok(true),
            Verdict::Mismatch { expected, path } => self.refuse(ConnError::HostKeyMismatch {
                host: self.label.clone(),
                path: path.display().to_string(),
                key_type,
                expected,
                actual,
            }),
            Verdict::Revoked { path } => self.refuse(ConnError::Connect {
                host: self.label.clone(),
                reason: format!("its host key {key_type} {actual} is marked @revoked in {}", path.display()),
            }),
            Verdict::Unknown if self.policy == HostKeyPolicy::AcceptNew => {
                let Some(path) = self.known_paths.first() else {
                    return Ok(true);
                };
                match known_hosts::append(path, &self.lookup, &key) {
                    Ok(()) => Ok(true),
                    Err(e) => self.refuse(ConnError::Connect {
                        host: self.label.clone(),
                        reason: format!("cannot record its host key in {}: {e}", path.display()),
                    }),
                }
            }
            Verdict::Unknown => self.refuse(ConnError::HostKeyUnknown {
                host: self.label.clone(),
                path: self.first_path(),
                key_type,
                fingerprint: actual,
            }),
        }
    }

    async fn kex_done(
        &mut self,
        _shared_secret: Option<&[u8]>,
        names: &russh::Names,
        _session: &mut client::Session,
    ) -> Result<(), Self::Error> {
        if let Ok(mut n) = self.findings.negotiated.lock() {
            *n = Negotiated {
                kex: names.kex.as_ref().to_string(),
                host_key: names.key.as_str().to_string(),
                cipher: names.cipher.as_ref().to_string(),
                mac: names.client_mac.as_ref().to_string(),
            };
        }
        Ok(())
    }
}
