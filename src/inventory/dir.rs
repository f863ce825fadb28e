//! Inventory directories: every entry, sorted by name, is a source of its own (subdirectories
//! too), except the ones Ansible skips: hidden names, `group_vars`, `host_vars`,
//! `vars_plugins`, and names ending in one of `INVENTORY_IGNORE_EXTS` (editor backups,
//! docs, config files).

use std::path::{Path, PathBuf};

use super::error::InventoryError;

/// ansible-core's default `INVENTORY_IGNORE_EXTS`.
pub const IGNORED_EXTENSIONS: [&str; 12] =
    [".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry"];

/// Whether a directory entry is skipped when reading an inventory directory.
pub fn is_ignored(name: &str) -> bool {
    name.starts_with('.')
        || matches!(name, "host_vars" | "group_vars" | "vars_plugins")
        || IGNORED_EXTENSIONS.iter().any(|ext| name.ends_with(ext))
}

/// The entries of an inventory directory to read, in order.
pub fn entries(dir: &Path) -> Result<Vec<PathBuf>, InventoryError> {
    let read = std::fs::read_dir(dir)
        .map_err(|source| InventoryError::Read { path: dir.display().to_string(), source })?;
    let mut names: Vec<String> =
        read.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    Ok(names.into_iter().filter(|n| !is_ignored(n)).map(|n| dir.join(n)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignored_names() {
        for n in [
            ".git",
            "group_vars",
            "host_vars",
            "vars_plugins",
            "hosts~",
            "a.bak",
            "README.md",
            "x.cfg",
            "x.retry",
            "notes.txt",
            "x.orig",
        ] {
            assert!(is_ignored(n), "{n}");
        }
        for n in ["hosts", "prod.ini", "web.yml", "inv.json", "script.py", "x.toml"] {
            assert!(!is_ignored(n), "{n}");
        }
    }
}
