//! Baton: agentless fleet deployment and configuration.
//!
//! The crate is laid out as the pipeline a run goes through:
//!
//! - [`source`] and [`yaml`]: user files loaded with source positions, so every error points at a line.
//! - [`inventory`]: hosts, groups and their variables (Ansible's INI, YAML and script inventories).
//! - [`vars`] and [`template`]: per-host variables resolved lazily through minijinja.
//! - [`connection`]: one `Connection` trait, with local and SSH implementations.
//! - [`modules`]: what a task does on a host (command, shell, raw, ping, ...).
//! - [`run`]: the engine; it emits one stream of [`event::Event`]s.
//! - [`report`]: consumers of that stream (terminal output, recap).
//! - [`lab`]: a fleet of real OpenSSH hosts on this machine, for tests and for trying Baton out.
//! - [`cli`]: the command line that drives all of the above.

pub mod cli;
pub mod connection;
pub mod event;
pub mod inventory;
pub mod lab;
pub mod modules;
pub mod playbook;
pub mod report;
pub mod run;
pub mod source;
pub mod template;
pub mod vars;
pub mod yaml;
