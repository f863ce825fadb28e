//! What a module gets to work with on one host.

use std::time::Duration;

use crate::connection::{Become, Command, ConnError, Connection, ExecOutput};

/// The host a module acts on, and how: the connection plus per-task settings.
pub struct ModuleCtx<'a> {
    pub host: &'a str,
    pub conn: &'a dyn Connection,
    pub r#become: Option<Become>,
    /// Ansible's check mode: report what would change, change nothing.
    pub check_mode: bool,
    /// Ansible's diff mode: report before/after of what changes.
    pub diff: bool,
    /// Per-task environment (Ansible's `environment:`).
    pub env: Vec<(String, String)>,
    pub timeout: Option<Duration>,
}

impl ModuleCtx<'_> {
    /// Runs a shell command line with the task's become, environment and timeout.
    pub async fn exec(&self, cmd: impl Into<String>) -> Result<ExecOutput, ConnError> {
        self.exec_with(Command { cmd: cmd.into(), ..Command::default() }).await
    }

    /// Runs a prepared command, filling in what the task sets and the command does not.
    pub async fn exec_with(&self, mut cmd: Command) -> Result<ExecOutput, ConnError> {
        if cmd.r#become.is_none() {
            cmd.r#become = self.r#become.clone();
        }
        if cmd.timeout.is_none() {
            cmd.timeout = self.timeout;
        }
        let mut env = self.env.clone();
        env.append(&mut cmd.env);
        cmd.env = env;
        self.conn.exec(&cmd).await
    }
}
