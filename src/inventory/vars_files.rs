//! `group_vars/` and `host_vars/` next to an inventory source, found the way Ansible's
//! `host_group_vars` plugin finds them: for a name, the first of `NAME`, `NAME.yml`,
//! `NAME.yaml`, `NAME.json` that exists; if it is a directory, every file in it (sorted,
//! recursing into subdirectories, skipping hidden files and `~` backups) with no extension
//! or one of those extensions. Files are merged in that order, a later top-level key
//! replacing an earlier one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::error::InventoryError;
use super::model::VarMap;
use crate::yaml::{self, NodeValue};

const EXTENSIONS: [&str; 4] = ["", ".yml", ".yaml", ".json"];

/// Variables found next to one inventory source.
#[derive(Debug, Clone, Default)]
pub struct VarsDir {
    pub groups: HashMap<String, VarMap>,
    pub hosts: HashMap<String, VarMap>,
}

impl VarsDir {
    /// Loads the files for every named group and host that has any.
    pub fn load<'a>(
        dir: &Path,
        groups: impl Iterator<Item = &'a str>,
        hosts: impl Iterator<Item = &'a str>,
    ) -> Result<VarsDir, InventoryError> {
        let mut out = VarsDir::default();
        for (sub, names, into) in [
            ("group_vars", groups.collect::<Vec<_>>(), &mut out.groups),
            ("host_vars", hosts.collect(), &mut out.hosts),
        ] {
            let base = dir.join(sub);
            if !base.is_dir() {
                continue;
            }
            for name in names {
                if name.starts_with('/') {
                    continue;
                }
                let vars = load_name(&base, name)?;
                if !vars.is_empty() {
                    into.insert(name.to_string(), vars);
                }
            }
        }
        Ok(out)
    }
}

/// The merged variables of `base/NAME*`.
fn load_name(base: &Path, name: &str) -> Result<VarMap, InventoryError> {
    let mut vars = VarMap::new();
    for file in find(base, name) {
        for (k, v) in load_file(&file)? {
            vars.insert(k, v);
        }
    }
    Ok(vars)
}

/// The files that hold `name`'s variables, in merge order.
pub fn find(base: &Path, name: &str) -> Vec<PathBuf> {
    for ext in EXTENSIONS {
        let path = base.join(format!("{name}{ext}"));
        if path.is_dir() {
            return dir_files(&path);
        }
        if path.exists() {
            return vec![path];
        }
    }
    Vec::new()
}

fn dir_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut names: Vec<String> =
        entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        let path = dir.join(&name);
        let ext = extension(&name);
        if path.is_dir() && ext.is_empty() {
            out.extend(dir_files(&path));
        } else if path.is_file() && EXTENSIONS.contains(&ext) {
            out.push(path);
        }
    }
    out
}

/// Python's `os.path.splitext` extension (a leading dot does not start one).
fn extension(name: &str) -> &str {
    let trimmed = name.trim_start_matches('.');
    match trimmed.rfind('.') {
        Some(i) => &trimmed[i..],
        None => "",
    }
}

/// One vars file: a mapping, or nothing for an empty file.
pub fn load_file(path: &Path) -> Result<VarMap, InventoryError> {
    let node = yaml::parse_file(path)?;
    match &node.value {
        NodeValue::Null => Ok(VarMap::new()),
        NodeValue::Map(pairs) => Ok(pairs.iter().map(|(k, v)| (k.key_string(), v.to_json())).collect()),
        _ => Err(InventoryError::at(
            &node.loc,
            format!("a variables file must be a mapping, found {}", node.kind()),
            "expected `name: value` pairs",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_name_wins_and_directories_merge_sorted() {
        let tmp = tempfile::tempdir().unwrap();
        let gv = tmp.path().join("group_vars");
        std::fs::create_dir_all(gv.join("web/sub")).unwrap();
        std::fs::write(gv.join("db"), "a: plain\n").unwrap();
        std::fs::write(gv.join("db.yml"), "a: yml\n").unwrap();
        std::fs::write(gv.join("web/b.yml"), "x: b\ny: b\n").unwrap();
        std::fs::write(gv.join("web/a.yaml"), "x: a\n").unwrap();
        std::fs::write(gv.join("web/sub/c.json"), "{\"z\": 1}").unwrap();
        std::fs::write(gv.join("web/notes.txt"), "ignored: true\n").unwrap();
        std::fs::write(gv.join("web/.hidden"), "ignored: true\n").unwrap();
        std::fs::write(gv.join("web/old.yml~"), "ignored: true\n").unwrap();
        let v = VarsDir::load(tmp.path(), ["db", "web", "none"].into_iter(), std::iter::empty()).unwrap();
        assert_eq!(v.groups["db"]["a"], "plain");
        assert_eq!(
            serde_json::to_value(&v.groups["web"]).unwrap(),
            serde_json::json!({"x": "b", "y": "b", "z": 1})
        );
        assert!(!v.groups.contains_key("none"));
    }

    #[test]
    fn a_list_file_is_an_error_with_position() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("host_vars")).unwrap();
        std::fs::write(tmp.path().join("host_vars/h1.yml"), "- a\n").unwrap();
        let err = VarsDir::load(tmp.path(), std::iter::empty(), ["h1"].into_iter()).unwrap_err();
        assert!(err.to_string().contains("must be a mapping"), "{err}");
    }

    #[test]
    fn extensions_like_python() {
        assert_eq!(extension("a.yml"), ".yml");
        assert_eq!(extension("a"), "");
        assert_eq!(extension(".bashrc"), "");
        assert_eq!(extension("a.b.json"), ".json");
    }
}
