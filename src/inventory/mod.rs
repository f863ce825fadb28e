//! Hosts, groups and their variables, read from Ansible inventories: INI and YAML files,
//! directories of them, executable scripts and `-i 'a,b,'` host lists, plus `group_vars/`
//! and `host_vars/` beside each source.
//!
//! The goal is to be indistinguishable from Ansible: the same hosts in the same order, the
//! same group tree (`all`, `ungrouped`), the same variable precedence, the same host
//! patterns, and the same `ansible-inventory --list/--graph/--host` output (checked against
//! the real tool in `tests/inventory_compat.rs`).
//!
//! ```no_run
//! use baton::inventory::Inventory;
//! let inv = Inventory::load(&["inventories/local.ini".to_string()])?;
//! let web = inv.select_with_limit("web:&prod", Some("!web3"))?;
//! for w in &web.warnings { eprintln!("warning: {w}"); }
//! for host in &web.hosts {
//!     let vars = inv.host_vars(host); // raw values; templating happens in `vars`
//!     println!("{host} {:?} {:?}", inv.host_groups(host), vars.get("ansible_host"));
//! }
//! # Ok::<(), baton::inventory::InventoryError>(())
//! ```
//!
//! Known differences from Ansible: YAML files are read with YAML 1.2 scalars (`yes`/`no` stay
//! strings, where Ansible's PyYAML makes them booleans); inventory plugin configurations and
//! TOML inventories are not supported; a source that cannot be parsed is an error, not a
//! warning.

mod address;
mod dir;
mod error;
mod ini;
mod literal;
mod load;
mod model;
mod output;
mod pattern;
mod pyrepr;
mod range;
mod script;
mod shlex;
mod vars_files;
mod yaml;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::PathBuf;

use indexmap::IndexMap;
use serde_json::Value as Json;

pub use error::InventoryError;
pub use literal::ini_value;
pub use load::SourceKind;
pub use model::{Group, Host, LOCALHOST_NAMES, VarMap};
pub use output::sorted as sorted_json;
pub use pattern::{Selection, split as split_pattern};
pub use range::expand as expand_host_range;

use model::Data;
use vars_files::VarsDir;

/// A loaded inventory. Built once per run; every query is read-only.
#[derive(Debug, Clone)]
pub struct Inventory {
    data: Data,
    /// `group_vars/`/`host_vars/` per source directory, in source order.
    vars_dirs: Vec<VarsDir>,
    depths: HashMap<String, usize>,
    /// `localhost` & co. when the inventory does not define them (`ansible_connection=local`).
    implicit: IndexMap<String, Host>,
    sources: Vec<String>,
}

impl Inventory {
    /// Reads every `-i` source in order (files, directories, scripts, `a,b,` host lists).
    pub fn load(sources: &[String]) -> Result<Inventory, InventoryError> {
        let mut data = Data::default();
        let mut dirs: Vec<PathBuf> = Vec::new();
        for s in sources {
            if let Some(dir) = load::source(&mut data, s)? {
                let dir = dir.canonicalize().unwrap_or(dir);
                if !dirs.contains(&dir) {
                    dirs.push(dir);
                }
            }
        }
        Inventory::finish(data, &dirs, sources.to_vec())
    }

    /// An inventory from text, for tests and embedded inventories; `name`'s extension picks
    /// the format (`.yml`/`.yaml`/`.json`: YAML, otherwise INI). No `group_vars/` are read.
    pub fn from_text(name: &str, text: &str) -> Result<Inventory, InventoryError> {
        let mut data = Data::default();
        load::text_source(&mut data, name, text)?;
        Inventory::finish(data, &[], vec![name.to_string()])
    }

    fn finish(mut data: Data, dirs: &[PathBuf], sources: Vec<String>) -> Result<Inventory, InventoryError> {
        data.reconcile();
        let depths = data.depths();
        let host_names: Vec<&str> = data.hosts.keys().map(String::as_str).chain(LOCALHOST_NAMES).collect();
        let mut vars_dirs = Vec::new();
        for dir in dirs {
            let v = VarsDir::load(dir, data.groups.keys().map(String::as_str), host_names.iter().copied())?;
            vars_dirs.push(v);
        }
        let mut implicit = IndexMap::new();
        for name in LOCALHOST_NAMES {
            if !data.hosts.contains_key(name) {
                let mut vars = VarMap::new();
                vars.insert("ansible_connection".into(), Json::from("local"));
                implicit.insert(
                    name.to_string(),
                    Host { name: name.to_string(), vars, implicit: true, ..Host::default() },
                );
            }
        }
        Ok(Inventory { data, vars_dirs, depths, implicit, sources })
    }

    /// The `-i` sources this inventory was read from.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// Warnings met while loading (skipped YAML keys, a host and group with the same name).
    pub fn warnings(&self) -> &[String] {
        &self.data.warnings
    }

    /// Every host, in the order the sources first defined them (not the implicit localhost).
    pub fn hosts(&self) -> Vec<&str> {
        self.data.hosts.keys().map(String::as_str).collect()
    }

    /// Every group name in definition order, `all` and `ungrouped` first.
    pub fn groups(&self) -> Vec<&str> {
        self.data.groups.keys().map(String::as_str).collect()
    }

    pub fn group(&self, name: &str) -> Option<&Group> {
        self.data.groups.get(name)
    }

    /// A host of the inventory, or the implicit localhost for `localhost`, `127.0.0.1` and
    /// `::1` when the inventory does not define them.
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.data.hosts.get(name).or_else(|| self.implicit.get(name))
    }

    /// The host's groups for `group_names`: direct and inherited, sorted, without `all`
    /// (with `ungrouped` for an ungrouped host, as Ansible does).
    pub fn host_groups(&self, name: &str) -> Vec<String> {
        let mut groups: Vec<String> =
            self.data.host_groups_with_ancestors(name).into_iter().filter(|g| g != "all").collect();
        groups.sort();
        groups
    }

    /// The `groups` magic variable: every group (with `all` and `ungrouped`) and the hosts in
    /// it or its descendants.
    pub fn groups_map(&self) -> IndexMap<String, Vec<String>> {
        self.data.groups.keys().map(|g| (g.clone(), self.data.group_hosts(g))).collect()
    }

    /// The directory of the source that first defined the host (`inventory_dir`).
    pub fn inventory_dir(&self, host: &str) -> Option<String> {
        let file = self.data.hosts.get(host)?.source.as_ref()?;
        file.parent().map(|p| p.display().to_string())
    }

    /// The source file that first defined the host (`inventory_file`).
    pub fn inventory_file(&self, host: &str) -> Option<String> {
        Some(self.data.hosts.get(host)?.source.as_ref()?.display().to_string())
    }

    /// A host's variables from the inventory, merged in Ansible's order and not templated:
    /// `all`'s vars, then its other groups' (by depth, then `ansible_group_priority`, then
    /// name), then `group_vars/all`, then `group_vars/` of the other groups in that order,
    /// then the host's own inventory vars, then `host_vars/`. Empty for an unknown host.
    pub fn host_vars(&self, name: &str) -> VarMap {
        let mut out = VarMap::new();
        let Some(host) = self.host(name) else { return out };
        let groups = if host.implicit { Vec::new() } else { self.sorted_groups(name) };
        let mut apply = |vars: Option<&VarMap>| {
            for (k, v) in vars.into_iter().flatten() {
                out.insert(k.clone(), v.clone());
            }
        };
        apply(self.data.groups.get("all").map(|g| &g.vars));
        for g in &groups {
            apply(self.data.groups.get(g).map(|g| &g.vars));
        }
        for d in &self.vars_dirs {
            apply(d.groups.get("all"));
        }
        for d in &self.vars_dirs {
            for g in &groups {
                apply(d.groups.get(g));
            }
        }
        apply(Some(&host.vars));
        for d in &self.vars_dirs {
            apply(d.hosts.get(name));
        }
        out
    }

    /// A group's own variables plus its `group_vars/` files (what `--graph --vars` shows),
    /// with `ansible_group_priority` when it is not the default.
    pub fn group_vars(&self, name: &str) -> VarMap {
        let mut out = VarMap::new();
        let Some(group) = self.data.groups.get(name) else { return out };
        out.extend(group.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        for d in &self.vars_dirs {
            for (k, v) in d.groups.get(name).into_iter().flatten() {
                out.insert(k.clone(), v.clone());
            }
        }
        if group.priority != 1 {
            out.insert("ansible_group_priority".into(), Json::from(group.priority));
        }
        out
    }

    /// The host's groups other than `all`, in the order their variables apply.
    fn sorted_groups(&self, host: &str) -> Vec<String> {
        let mut groups: Vec<String> =
            self.data.host_groups_with_ancestors(host).into_iter().filter(|g| g != "all").collect();
        groups.sort_by_key(|g| {
            let depth = self.depths.get(g).copied().unwrap_or(0);
            let priority = self.data.groups.get(g).map_or(1, |g| g.priority);
            (depth, priority, g.clone())
        });
        groups
    }
}
