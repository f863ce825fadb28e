//! How Baton reaches a host: one [`Connection`] per host for the whole run.
//!
//! Two implementations: [`local`] (tokio::process on the controller) and [`ssh`] (russh: one
//! session per host, one channel per command). Everything above this layer (modules, the engine)
//! sees only the trait, so a module never knows which one it runs over.

pub mod r#become;
mod drive;
pub mod error;
pub mod local;
pub mod quote;
mod random;
pub mod ssh;
mod transfer;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use error::ConnError;
pub use transfer::stdin_put_script;

/// Privilege escalation for one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Become {
    /// `sudo` or `su`.
    pub method: BecomeMethod,
    /// Target user (Ansible's `become_user`, default `root`).
    pub user: String,
    /// Password for the prompt, if one is needed. Never printed or logged.
    pub password: Option<Secret>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BecomeMethod {
    Sudo,
    Su,
}

/// A string that never shows in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl Secret {
    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(********)")
    }
}

/// One command to run on a host.
///
/// `cmd` is a shell command line, run by `/bin/sh -c` on the host (the caller quotes its
/// arguments with [`quote::quote`]). `env` and `cwd` apply to that command only.
#[derive(Debug, Clone, Default)]
pub struct Command {
    pub cmd: String,
    pub stdin: Option<Vec<u8>>,
    pub env: Vec<(String, String)>,
    pub cwd: Option<String>,
    pub r#become: Option<Become>,
    /// Per-command deadline; `None` means wait as long as it takes.
    pub timeout: Option<Duration>,
}

impl Command {
    pub fn new(cmd: impl Into<String>) -> Command {
        Command { cmd: cmd.into(), ..Command::default() }
    }
}

/// What a command left behind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    /// Exit status; `None` when the command died of a signal.
    pub rc: Option<i32>,
    /// Signal name (`KILL`, `TERM`, ...) when the command died of one.
    pub signal: Option<String>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl ExecOutput {
    pub fn success(&self) -> bool {
        self.rc == Some(0)
    }
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// Where the bytes of an upload come from.
#[derive(Debug, Clone)]
pub enum PutSource {
    Bytes(Vec<u8>),
    /// A file on the controller, streamed (so a 50 MB upload is not held in memory).
    File(PathBuf),
}

/// How an uploaded file lands at its destination.
#[derive(Debug, Clone, Default)]
pub struct PutOptions {
    /// Octal mode set on the temp file before the rename.
    pub mode: Option<u32>,
    pub owner: Option<String>,
    pub group: Option<String>,
    pub r#become: Option<Become>,
}

/// A live link to one host.
///
/// Uploads are atomic: the bytes go to a temp file beside the destination, which is then
/// renamed over it, so a reader sees the old file or the new one, never a part.
#[async_trait]
pub trait Connection: Send + Sync {
    /// Runs a command to the end and returns its output and exit status.
    async fn exec(&self, cmd: &Command) -> Result<ExecOutput, ConnError>;
    /// Writes a file on the host atomically (temp file + rename).
    async fn put(&self, src: PutSource, dest: &str, opts: &PutOptions) -> Result<(), ConnError>;
    /// Reads a whole file from the host.
    async fn get(&self, src: &str, r#become: Option<&Become>) -> Result<Vec<u8>, ConnError>;
    /// Ends the session. Further calls fail.
    async fn close(&self) -> Result<(), ConnError>;
    /// How the link was made, for `-vv` and the benchmark (SSH: the negotiated algorithms).
    fn describe(&self) -> String {
        "local".to_string()
    }
}

/// How to reach one host.
#[derive(Debug, Clone)]
pub enum ConnectSpec {
    /// Run on the controller (`ansible_connection: local`).
    Local,
    Ssh(Box<ssh::SshOptions>),
}

/// Opens the connection a host's settings ask for. SSH errors say why the host is unreachable
/// (`Connect`, `Timeout`, `HostKeyMismatch`, `HostKeyUnknown`, `Auth`).
pub async fn connect(spec: ConnectSpec) -> Result<Arc<dyn Connection>, ConnError> {
    match spec {
        ConnectSpec::Local => Ok(Arc::new(local::LocalConnection::new())),
        ConnectSpec::Ssh(opts) => Ok(Arc::new(ssh::SshConnection::connect(&opts).await?)),
    }
}
