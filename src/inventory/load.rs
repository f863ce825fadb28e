//! Reading `-i` sources: decides what each one is (host list, directory, script, YAML or
//! INI file) the way Ansible's inventory plugins would accept it, and reads it into [`Data`].

use std::path::{Path, PathBuf};

use super::error::InventoryError;
use super::model::Data;
use super::{address, dir, ini, script, yaml};
use crate::source::SourceFile;
use crate::yaml as yaml_loader;

/// What a `-i` argument turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceKind {
    /// `-i 'a,b,'`: a comma-separated host list (no file by that name exists).
    HostList,
    Directory,
    Script,
    Yaml,
    Ini,
}

/// Reads one `-i` argument; returns the directory whose `group_vars/` and `host_vars/` belong
/// to it (none for a host list).
pub fn source(data: &mut Data, source: &str) -> Result<Option<PathBuf>, InventoryError> {
    if source.contains(',') && !Path::new(source).exists() {
        host_list(data, source)?;
        return Ok(None);
    }
    let path = absolute(&expand_home(source));
    if !path.exists() {
        return Err(InventoryError::NotFound(source.to_string()));
    }
    path_source(data, &path)?;
    Ok(Some(if path.is_dir() {
        path
    } else {
        path.parent().map_or_else(|| PathBuf::from("/"), Path::to_path_buf)
    }))
}

/// A file or directory source (directories recurse).
fn path_source(data: &mut Data, path: &Path) -> Result<(), InventoryError> {
    if path.is_dir() {
        for entry in dir::entries(path)? {
            path_source(data, &entry)?;
        }
        return Ok(());
    }
    data.current_source = Some(path.to_path_buf());
    let result = file_source(data, path);
    data.current_source = None;
    result
}

/// What kind of file `path` is: an executable starting with `#!` is a script; `.yml`,
/// `.yaml` and `.json` are YAML; a file without extension is YAML when it reads as a YAML
/// mapping and INI otherwise; anything else is INI.
pub fn file_kind(path: &Path, text: Option<&str>) -> SourceKind {
    if is_executable(path) && text.is_none_or(|t| t.starts_with("#!")) {
        return SourceKind::Script;
    }
    match path.extension().and_then(|e| e.to_str()) {
        Some("yml" | "yaml" | "json") => SourceKind::Yaml,
        None => match text.map(|t| yaml_loader::parse_named("probe", t)) {
            Some(Ok(node)) if node.as_map().is_some() => SourceKind::Yaml,
            _ => SourceKind::Ini,
        },
        Some(_) => SourceKind::Ini,
    }
}

fn file_source(data: &mut Data, path: &Path) -> Result<(), InventoryError> {
    if path.extension().is_some_and(|e| e == "toml") {
        return Err(InventoryError::Invalid(format!(
            "`{}`: TOML inventories are not supported; use INI or YAML",
            path.display()
        )));
    }
    // Scripts may not be text; read the file only when it is not one.
    if is_executable(path) && starts_with_shebang(path) {
        return script::parse(data, path);
    }
    let file = SourceFile::read(path)
        .map_err(|source| InventoryError::Read { path: path.display().to_string(), source })?;
    match file_kind(path, Some(&file.text)) {
        SourceKind::Yaml => {
            let root = yaml_loader::parse_source(file.clone())?;
            // An empty `.yml` file is an empty inventory (Ansible's INI plugin accepts it).
            if root.is_null() {
                return Ok(());
            }
            yaml::parse_root(data, &root)
        }
        _ => ini::parse(data, &file),
    }
}

/// `-i 'a,b:2222,[::1]:23,'`: each name becomes an ungrouped host.
fn host_list(data: &mut Data, list: &str) -> Result<(), InventoryError> {
    for item in list.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (name, port) = address::parse(item).unwrap_or_else(|| (item.to_string(), None));
        if !data.hosts.contains_key(&name) {
            data.add_host(&name, Some("ungrouped"), port).map_err(InventoryError::Invalid)?;
        }
    }
    Ok(())
}

/// Reads an inventory from text (tests, embedded inventories); `name` decides the format
/// by its extension like a file name would.
pub fn text_source(data: &mut Data, name: &str, text: &str) -> Result<(), InventoryError> {
    let file = SourceFile::new(name, text.to_string());
    match file_kind(Path::new(name), Some(text)) {
        SourceKind::Yaml => {
            let root = yaml_loader::parse_source(file)?;
            if root.is_null() { Ok(()) } else { yaml::parse_root(data, &root) }
        }
        _ => ini::parse(data, &file),
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn starts_with_shebang(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 2];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && &head == b"#!"
}

fn expand_home(source: &str) -> PathBuf {
    match source.strip_prefix("~/") {
        Some(rest) => dirs::home_dir().map_or_else(|| PathBuf::from(source), |h| h.join(rest)),
        None => PathBuf::from(source),
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
