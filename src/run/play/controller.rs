//! The controller side of a task: files found in the role's and the playbook's search paths,
//! templates rendered with the host's variables (the `template` module, `with_fileglob`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;

use super::scope::RoleCtx;
use crate::modules::{Controller, SearchKind};
use crate::template::FileOptions;
use crate::vars::{HostVars, Layer};

pub struct TaskController {
    vars: HostVars,
    role: Option<Arc<RoleCtx>>,
    playbook_dir: PathBuf,
}

impl TaskController {
    pub fn new(vars: HostVars, role: Option<Arc<RoleCtx>>, playbook_dir: PathBuf) -> TaskController {
        TaskController { vars, role, playbook_dir }
    }
}

/// Where a relative name is looked for, in Ansible's order: the role's `files/` (or
/// `templates/`) and the role itself, then the playbook's `files/` and the playbook's
/// directory.
pub fn search_dirs(role: Option<&RoleCtx>, playbook_dir: &Path, kind: SearchKind) -> Vec<PathBuf> {
    let sub = match kind {
        SearchKind::Files => "files",
        SearchKind::Templates => "templates",
    };
    let mut dirs = Vec::new();
    if let Some(r) = role {
        dirs.push(r.dir.join(sub));
        dirs.push(r.dir.clone());
    }
    dirs.push(playbook_dir.join(sub));
    dirs.push(playbook_dir.to_path_buf());
    dirs
}

impl Controller for TaskController {
    fn find(&self, kind: SearchKind, name: &str) -> Result<PathBuf, String> {
        let path = Path::new(name);
        if path.is_absolute() {
            return if path.exists() {
                Ok(path.to_path_buf())
            } else {
                Err(format!("could not find or access `{name}` on the controller"))
            };
        }
        let dirs = search_dirs(self.role.as_deref(), &self.playbook_dir, kind);
        for d in &dirs {
            let candidate = d.join(name);
            if candidate.exists() {
                return Ok(candidate);
            }
        }
        let searched: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        Err(format!("could not find or access `{name}` on the controller (searched {})", searched.join(", ")))
    }

    fn render(&self, path: &Path, text: &str, opts: &FileOptions) -> Result<String, String> {
        let full = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let vars =
            self.vars.with_vars(Layer::Defaults, [("ansible_managed".to_string(), json!("Ansible managed"))]);
        let vars = vars.with_vars(
            Layer::Magic,
            [
                ("template_path".to_string(), json!(path.display().to_string())),
                ("template_fullpath".to_string(), json!(full.display().to_string())),
                ("template_host".to_string(), json!(hostname())),
                ("template_destpath".to_string(), json!("")),
            ],
        );
        self.vars
            .templater()
            .render_file_with(&path.display().to_string(), text, &vars.context(), opts)
            .map_err(|e| e.to_string())
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_string()).unwrap_or_default()
}
