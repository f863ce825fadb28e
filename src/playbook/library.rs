//! Where custom modules (executables speaking Ansible's WANT_JSON protocol) are found for a
//! task: `library/` beside the file that names it (a playbook, or a role's task file, whose
//! role keeps its modules in `library/` one level up), `modules/` in the current directory
//! (the project's own), and the directories in `BATON_LIBRARY` / `ANSIBLE_LIBRARY`.

use std::path::{Path, PathBuf};

/// The directories searched for a task written in `file`, in order.
pub fn search_dirs(file: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = file.parent() {
        dirs.push(dir.join("library"));
        if let Some(up) = dir.parent() {
            dirs.push(up.join("library"));
        }
    }
    if let Ok(cwd) = std::env::current_dir() {
        dirs.push(cwd.join("modules"));
    }
    for var in ["BATON_LIBRARY", "ANSIBLE_LIBRARY"] {
        if let Ok(list) = std::env::var(var) {
            dirs.extend(list.split(':').filter(|p| !p.is_empty()).map(PathBuf::from));
        }
    }
    dirs
}

/// The custom module called `name` for a task written in `file`, if there is one.
pub fn find(name: &str, file: &Path) -> Option<PathBuf> {
    if name.contains('/') || name.is_empty() {
        return None;
    }
    search_dirs(file).into_iter().map(|d| d.join(name)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
