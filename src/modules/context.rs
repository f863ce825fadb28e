//! What a module gets to work with on one host.

use std::path::PathBuf;
use std::time::Duration;

use crate::connection::{Become, Command, ConnError, Connection, ExecOutput};
use crate::template::FileOptions;

/// Which search path a controller-side file is looked up in (Ansible's `files/`, `templates/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchKind {
    /// `copy`, `script`, `unarchive`, `assemble` sources: a role's `files/`, then `files/`
    /// beside the playbook, then the playbook's directory.
    Files,
    /// `template` sources: a role's `templates/`, then `templates/` beside the playbook.
    Templates,
}

/// What a module may ask of the controller side of the run. The engine implements it with
/// the play's search paths and the host's variables; [`Cwd`] is the plain stand-in used by
/// ad-hoc runs, where paths are relative to the current directory and nothing is templated.
pub trait Controller: Send + Sync {
    /// Finds a controller-side file named in a task (`src: app.conf`). Absolute paths are
    /// returned as they are; relative ones are searched as [`SearchKind`] says.
    fn find(&self, kind: SearchKind, name: &str) -> Result<PathBuf, String>;
    /// Renders template text (read from `path`, for messages and `template_path`) with the
    /// host's variables and the file's whitespace settings.
    fn render(&self, path: &std::path::Path, text: &str, opts: &FileOptions) -> Result<String, String>;
}

/// Paths relative to the current directory; templates render with no variables but the
/// Ansible built-ins, which is what `baton run -m template` can offer.
#[derive(Debug, Default, Clone, Copy)]
pub struct Cwd;

impl Controller for Cwd {
    fn find(&self, _kind: SearchKind, name: &str) -> Result<PathBuf, String> {
        let path = PathBuf::from(name);
        if path.exists() {
            Ok(path)
        } else {
            Err(format!("could not find or access `{name}` on the controller"))
        }
    }

    fn render(&self, path: &std::path::Path, text: &str, opts: &FileOptions) -> Result<String, String> {
        let templater = crate::template::Templater::new();
        let vars = minijinja::Value::from_serialize(serde_json::Map::new());
        templater.render_file_with(&path.display().to_string(), text, &vars, opts).map_err(|e| e.to_string())
    }
}

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
    /// Controller-side files and templating.
    pub controller: &'a dyn Controller,
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
