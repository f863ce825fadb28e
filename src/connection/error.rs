//! Errors of the connection layer.

/// Why talking to a host failed. `Unreachable`-class errors (connect, auth, host key, timeout)
/// make a host UNREACHABLE; the others fail only the task at hand.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("cannot connect to {host}: {reason}")]
    Connect { host: String, reason: String },
    #[error("authentication as `{user}` on {host} failed: {reason}")]
    Auth { host: String, user: String, reason: String },
    #[error(
        "host key for {host} does not match known_hosts ({path}): expected {key_type} {expected}, got {key_type} {actual}"
    )]
    HostKeyMismatch { host: String, path: String, key_type: String, expected: String, actual: String },
    #[error(
        "host key for {host} ({key_type} {fingerprint}) is not in {path} and StrictHostKeyChecking is strict"
    )]
    HostKeyUnknown { host: String, path: String, key_type: String, fingerprint: String },
    #[error("timed out after {secs}s {what}")]
    Timeout { what: String, secs: u64 },
    /// A command ran past its own deadline; the host is still fine.
    #[error("command timed out after {secs}s: `{cmd}`")]
    CommandTimeout { cmd: String, secs: u64 },
    #[error("become failed: {0}")]
    Become(String),
    /// A command or setting Baton refuses to send (an invalid environment variable name, ...).
    #[error("invalid {what}: {reason}")]
    Invalid { what: String, reason: String },
    #[error("file transfer failed for `{path}`: {reason}")]
    Transfer { path: String, reason: String },
    #[error("the connection to {host} was lost: {reason}")]
    Lost { host: String, reason: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl ConnError {
    /// True when the host itself could not be reached, as opposed to one command failing.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            ConnError::Connect { .. }
                | ConnError::Auth { .. }
                | ConnError::HostKeyMismatch { .. }
                | ConnError::HostKeyUnknown { .. }
                | ConnError::Timeout { .. }
                | ConnError::Lost { .. }
        )
    }
}
