//! What `ansible-inventory` prints, from our model: `--list` JSON, the `--graph` tree and
//! `--host` variables. Keys are sorted at every level (ansible-inventory's `sort_keys=True`).

use std::collections::HashSet;

use serde_json::{Map, Value as Json};

use super::Inventory;
use super::error::InventoryError;
use super::model::VarMap;
use super::pyrepr::py_str;

impl Inventory {
    /// `ansible-inventory --list`: groups with their direct `hosts` and `children` (empty
    /// keys and empty groups left out) and every host's merged variables in `_meta.hostvars`.
    pub fn to_list_json(&self) -> Json {
        let hosts = self.data.group_hosts("all");
        self.list_json(&hosts)
    }

    /// `ansible-inventory --list --limit PATTERN`: only the hosts the limit selects.
    pub fn to_list_json_with_limit(&self, limit: Option<&str>) -> Result<Json, InventoryError> {
        let Some(limit) = limit else { return Ok(self.to_list_json()) };
        let hosts = self.select_with_limit("all", Some(limit))?.hosts;
        Ok(self.list_json(&hosts))
    }

    fn list_json(&self, hosts: &[String]) -> Json {
        let available: HashSet<&str> = hosts.iter().map(String::as_str).collect();
        let mut results = Map::new();
        let mut seen = HashSet::new();
        self.format_group("all", &available, &mut seen, &mut results);
        let mut hostvars = Map::new();
        for h in hosts {
            let vars = self.host_vars(h);
            if !vars.is_empty() {
                hostvars.insert(h.clone(), Json::Object(vars.into_iter().collect()));
            }
        }
        let mut meta = Map::new();
        meta.insert("hostvars".into(), Json::Object(hostvars));
        meta.insert("profile".into(), Json::String("inventory_legacy".into()));
        results.insert("_meta".into(), Json::Object(meta));
        sorted(Json::Object(results))
    }

    fn format_group(
        &self,
        name: &str,
        available: &HashSet<&str>,
        seen: &mut HashSet<String>,
        results: &mut Map<String, Json>,
    ) {
        let Some(group) = self.data.groups.get(name) else { return };
        let mut entry = Map::new();
        if name != "all" {
            let hosts: Vec<Json> = group
                .hosts
                .iter()
                .filter(|h| available.contains(h.as_str()))
                .map(|h| Json::String(h.clone()))
                .collect();
            if !hosts.is_empty() {
                entry.insert("hosts".into(), Json::Array(hosts));
            }
        }
        let mut children = Vec::new();
        for child in &group.children {
            children.push(Json::String(child.clone()));
            if !seen.contains(child) {
                self.format_group(child, available, seen, results);
                seen.insert(child.clone());
            }
        }
        if !children.is_empty() {
            entry.insert("children".into(), Json::Array(children));
        }
        if !entry.is_empty() {
            results.insert(name.to_string(), Json::Object(entry));
        }
    }

    /// `ansible-inventory --graph [GROUP] [--vars]`, ending with a newline.
    pub fn graph(&self, group: Option<&str>, with_vars: bool) -> Result<String, InventoryError> {
        let start = group.unwrap_or("all");
        if !self.data.groups.contains_key(start) {
            return Err(InventoryError::UnknownGroup(start.to_string()));
        }
        let mut lines = Vec::new();
        self.graph_group(start, 0, with_vars, &mut lines);
        let mut out = lines.join("\n");
        out.push('\n');
        Ok(out)
    }

    fn graph_group(&self, name: &str, depth: usize, with_vars: bool, lines: &mut Vec<String>) {
        let Some(group) = self.data.groups.get(name) else { return };
        lines.push(graph_line(&format!("@{name}:"), depth));
        for child in &group.children {
            self.graph_group(child, depth + 1, with_vars, lines);
        }
        if name != "all" {
            for h in &group.hosts {
                lines.push(graph_line(h, depth + 1));
                if with_vars {
                    show_vars(&self.host_vars(h), depth + 2, lines);
                }
            }
        }
        if with_vars {
            show_vars(&self.group_vars(name), depth + 1, lines);
        }
    }

    /// `ansible-inventory --host NAME`: the host's merged variables, keys sorted.
    pub fn host_json(&self, name: &str) -> Result<Json, InventoryError> {
        if self.host(name).is_none() {
            return Err(InventoryError::UnknownHost(name.to_string()));
        }
        Ok(sorted(Json::Object(self.host_vars(name).into_iter().collect())))
    }
}

fn graph_line(name: &str, depth: usize) -> String {
    if depth == 0 { name.to_string() } else { format!("{}--{name}", "  |".repeat(depth)) }
}

fn show_vars(vars: &VarMap, depth: usize, lines: &mut Vec<String>) {
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort();
    for k in names {
        if let Some(v) = vars.get(k) {
            lines.push(graph_line(&format!("{{{k} = {}}}", py_str(v)), depth));
        }
    }
}

/// The value with every object's keys sorted.
pub fn sorted(value: Json) -> Json {
    match value {
        Json::Object(m) => {
            let mut pairs: Vec<(String, Json)> = m.into_iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(pairs.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Json::Array(items) => Json::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}
