//! The SSH connection (russh): one session per host, one channel per command, one SFTP session
//! for transfers.
//!
//! - [`options`]: what the user sets ([`SshOptions`]) and what a connection is made with
//!   ([`Resolved`], after `~/.ssh/config` and defaults).
//! - [`openssh_args`]: `ansible_ssh_common_args` / `ansible_ssh_extra_args`.
//! - [`ssh_config`], [`known_hosts`]: OpenSSH's files, read the way OpenSSH reads them.
//! - [`auth`], [`handler`], [`session`], [`channel`], [`sftp`]: the connection itself.

pub mod auth;
mod channel;
pub mod handler;
pub mod known_hosts;
pub mod openssh_args;
pub mod options;
mod pattern;
pub mod session;
mod sftp;
pub mod ssh_config;

pub use handler::Negotiated;
pub use openssh_args::apply_args;
pub use options::{HostKeyPolicy, JumpHost, Resolved, SshConfigFile, SshOptions};
pub use session::SshConnection;
