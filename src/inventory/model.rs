//! The inventory's data: hosts, groups, their own variables and the group tree, built up the
//! way Ansible's `InventoryData` is (same insertion orders, same `all`/`ungrouped` rules,
//! same group depth), so every output and host order matches `ansible-inventory`.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use indexmap::IndexMap;
use serde_json::Value as Json;

/// Variables by name, in definition order.
pub type VarMap = IndexMap<String, Json>;

/// Names Ansible treats as the controller itself when they are not in the inventory.
pub const LOCALHOST_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// One host as the inventory sources define it.
#[derive(Debug, Clone, Default)]
pub struct Host {
    pub name: String,
    /// The host's own variables from the inventory sources (not group vars, not host_vars/).
    pub vars: VarMap,
    /// Groups the host was put in directly (not their ancestors).
    pub groups: Vec<String>,
    /// True for the implicit `localhost` that exists without being in the inventory.
    pub implicit: bool,
    /// The inventory source that first defined the host (`inventory_file`).
    pub source: Option<PathBuf>,
}

/// One group: its own variables, direct hosts and child groups, in definition order.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub vars: VarMap,
    pub hosts: Vec<String>,
    pub children: Vec<String>,
    pub parents: Vec<String>,
    /// `ansible_group_priority` (default 1): among groups of the same depth, a higher
    /// priority's vars are applied later and win.
    pub priority: i64,
}

impl Group {
    fn new(name: &str) -> Group {
        Group {
            name: name.to_string(),
            vars: VarMap::new(),
            hosts: Vec::new(),
            children: Vec::new(),
            parents: Vec::new(),
            priority: 1,
        }
    }
}

/// Hosts and groups while sources are being read, with Ansible's `InventoryData` operations.
#[derive(Debug, Clone)]
pub struct Data {
    pub hosts: IndexMap<String, Host>,
    pub groups: IndexMap<String, Group>,
    /// The source file being read (recorded on hosts as `inventory_file`).
    pub current_source: Option<PathBuf>,
    pub warnings: Vec<String>,
}

impl Default for Data {
    fn default() -> Data {
        let mut data = Data {
            hosts: IndexMap::new(),
            groups: IndexMap::new(),
            current_source: None,
            warnings: Vec::new(),
        };
        data.add_group("all");
        data.add_group("ungrouped");
        // Cannot fail: both groups exist and there is no cycle yet.
        let _ = data.add_child("all", "ungrouped");
        data
    }
}

impl Data {
    /// Adds a group if it is new; returns its name.
    pub fn add_group(&mut self, name: &str) -> String {
        if !self.groups.contains_key(name) {
            self.groups.insert(name.to_string(), Group::new(name));
        }
        name.to_string()
    }

    /// Adds a host if it is new (a port is recorded only then, as in Ansible) and puts it in
    /// `group` if given.
    pub fn add_host(&mut self, name: &str, group: Option<&str>, port: Option<u16>) -> Result<(), String> {
        if name.is_empty() {
            return Err("a host name cannot be empty".to_string());
        }
        if let Some(g) = group
            && !self.groups.contains_key(g)
        {
            return Err(format!("unknown group `{g}`"));
        }
        if !self.hosts.contains_key(name) {
            let mut host =
                Host { name: name.to_string(), source: self.current_source.clone(), ..Host::default() };
            if let Some(port) = port {
                host.vars.insert("ansible_port".to_string(), Json::from(port));
            }
            self.hosts.insert(name.to_string(), host);
        }
        if let Some(g) = group {
            self.put_host_in_group(name, g);
        }
        Ok(())
    }

    fn put_host_in_group(&mut self, host: &str, group: &str) {
        if let Some(g) = self.groups.get_mut(group)
            && !g.hosts.iter().any(|h| h == host)
        {
            g.hosts.push(host.to_string());
            if let Some(h) = self.hosts.get_mut(host)
                && !h.groups.iter().any(|x| x == group)
            {
                h.groups.push(group.to_string());
            }
        }
    }

    /// Sets a variable on a group or host (a group wins if both have the name, as in Ansible).
    /// `ansible_group_priority` on a group sets its priority instead of a variable.
    pub fn set_variable(&mut self, entity: &str, key: &str, value: Json) -> Result<(), String> {
        if let Some(g) = self.groups.get_mut(entity) {
            if key == "ansible_group_priority" {
                if let Some(p) = priority_of(&value)? {
                    g.priority = p;
                }
                return Ok(());
            }
            g.vars.insert(key.to_string(), value);
            return Ok(());
        }
        if let Some(h) = self.hosts.get_mut(entity) {
            h.vars.insert(key.to_string(), value);
            return Ok(());
        }
        Err(format!("`{entity}` is neither a known group nor a known host"))
    }

    /// Makes `child` (a group) a child of `group`, refusing cycles.
    pub fn add_child(&mut self, group: &str, child: &str) -> Result<(), String> {
        if !self.groups.contains_key(group) {
            return Err(format!("`{group}` is not a known group"));
        }
        if !self.groups.contains_key(child) {
            if self.hosts.contains_key(child) {
                self.put_host_in_group(child, group);
                return Ok(());
            }
            return Err(format!("`{child}` is not a known host nor group"));
        }
        if group == child {
            return Err(format!("group `{group}` cannot be a child of itself"));
        }
        if self.groups.get(group).is_some_and(|g| g.children.iter().any(|c| c == child)) {
            return Ok(());
        }
        if self.ancestors(group).contains(child) {
            return Err(format!(
                "adding group `{child}` as a child of `{group}` creates a recursive dependency loop"
            ));
        }
        if let Some(g) = self.groups.get_mut(group) {
            g.children.push(child.to_string());
        }
        if let Some(c) = self.groups.get_mut(child)
            && !c.parents.iter().any(|p| p == group)
        {
            c.parents.push(group.to_string());
        }
        Ok(())
    }

    /// Every group above `group` (parents, their parents, ...).
    pub fn ancestors(&self, group: &str) -> HashSet<String> {
        let mut seen = HashSet::new();
        let mut todo: Vec<&str> = vec![group];
        while let Some(g) = todo.pop() {
            for p in self.groups.get(g).map(|g| g.parents.as_slice()).unwrap_or_default() {
                if seen.insert(p.clone()) {
                    todo.push(p);
                }
            }
        }
        seen
    }

    /// A host's groups: the ones it is in directly and all their ancestors.
    pub fn host_groups_with_ancestors(&self, host: &str) -> HashSet<String> {
        let mut out = HashSet::new();
        for g in self.hosts.get(host).map(|h| h.groups.as_slice()).unwrap_or_default() {
            out.insert(g.clone());
            out.extend(self.ancestors(g));
        }
        out
    }

    /// Ansible's `reconcile_inventory`: top-level groups go under `all`; a host in no group
    /// goes to `ungrouped`, and leaves it once it is in another group.
    pub fn reconcile(&mut self) {
        let orphans: Vec<String> = self
            .groups
            .values()
            .filter(|g| g.name != "all" && g.parents.is_empty())
            .map(|g| g.name.clone())
            .collect();
        for g in orphans {
            let _ = self.add_child("all", &g);
        }
        let names: Vec<String> = self.hosts.keys().cloned().collect();
        for name in names {
            let groups = self.host_groups_with_ancestors(&name);
            if groups.contains("ungrouped") {
                if groups.iter().any(|g| g != "all" && g != "ungrouped") {
                    self.remove_host_from_group(&name, "ungrouped");
                }
            } else if groups.is_empty() || (groups.len() == 1 && groups.contains("all")) {
                self.put_host_in_group(&name, "ungrouped");
            }
        }
        let hosts: HashSet<&String> = self.hosts.keys().collect();
        let mut clashes: Vec<&String> = self.groups.keys().filter(|g| hosts.contains(g)).collect();
        clashes.sort();
        let clashes: Vec<String> = clashes.into_iter().cloned().collect();
        for c in clashes {
            self.warnings.push(format!("found both group and host with same name: {c}"));
        }
    }

    fn remove_host_from_group(&mut self, host: &str, group: &str) {
        if let Some(g) = self.groups.get_mut(group) {
            g.hosts.retain(|h| h != host);
        }
        if let Some(h) = self.hosts.get_mut(host) {
            h.groups.retain(|g| g != group);
        }
    }

    /// Group depth as Ansible computes it: `all` is 0, any other group is one more than its
    /// deepest parent (the longest path down from `all`).
    pub fn depths(&self) -> HashMap<String, usize> {
        let mut depth: HashMap<String, usize> = HashMap::new();
        // Relax edges from the top in breadth-first layers; the graph has no cycles.
        let mut layer: Vec<String> =
            self.groups.values().filter(|g| g.parents.is_empty()).map(|g| g.name.clone()).collect();
        for g in &layer {
            depth.insert(g.clone(), 0);
        }
        let mut rounds = 0;
        while !layer.is_empty() && rounds <= self.groups.len() {
            rounds += 1;
            let mut next = Vec::new();
            for g in &layer {
                let d = depth.get(g).copied().unwrap_or(0);
                for c in self.groups.get(g).map(|g| g.children.as_slice()).unwrap_or_default() {
                    if depth.get(c).is_none_or(|&cd| cd < d + 1) {
                        depth.insert(c.clone(), d + 1);
                        next.push(c.clone());
                    }
                }
            }
            layer = next;
        }
        depth
    }

    /// The hosts of a group and of all its descendants, breadth first, without duplicates
    /// (Ansible's `Group.get_hosts`); the implicit localhost is never in a group.
    pub fn group_hosts(&self, group: &str) -> Vec<String> {
        let mut order: Vec<&str> = vec![group];
        let mut seen_groups: HashSet<&str> = HashSet::from([group]);
        let mut i = 0;
        while let Some(g) = order.get(i).copied() {
            i += 1;
            for c in self.groups.get(g).map(|g| g.children.as_slice()).unwrap_or_default() {
                if seen_groups.insert(c) {
                    order.push(c);
                }
            }
        }
        let mut seen_hosts: HashSet<&str> = HashSet::new();
        let mut out = Vec::new();
        for g in order {
            for h in self.groups.get(g).map(|g| g.hosts.as_slice()).unwrap_or_default() {
                if seen_hosts.insert(h) {
                    out.push(h.clone());
                }
            }
        }
        out
    }
}

/// `ansible_group_priority` as Python's `int()` reads it; null is ignored.
fn priority_of(value: &Json) -> Result<Option<i64>, String> {
    let bad = || format!("`ansible_group_priority` must be an integer, got `{value}`");
    match value {
        Json::Null => Ok(None),
        Json::Bool(b) => Ok(Some(i64::from(*b))),
        Json::Number(n) => {
            n.as_i64().or_else(|| n.as_f64().map(|f| f.trunc() as i64)).map(Some).ok_or_else(bad)
        }
        Json::String(s) => s.trim().parse::<i64>().map(Some).map_err(|_| bad()),
        Json::Array(_) | Json::Object(_) => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_and_ungrouped_exist_from_the_start() {
        let d = Data::default();
        assert_eq!(d.groups.keys().collect::<Vec<_>>(), ["all", "ungrouped"]);
        assert_eq!(d.groups["all"].children, ["ungrouped"]);
    }

    #[test]
    fn reconcile_moves_hosts_out_of_ungrouped() {
        let mut d = Data::default();
        d.add_host("a", Some("ungrouped"), None).unwrap();
        d.add_group("web");
        d.add_host("a", Some("web"), None).unwrap();
        d.add_host("b", None, None).unwrap();
        d.reconcile();
        assert_eq!(d.groups["ungrouped"].hosts, ["b"]);
        assert_eq!(d.groups["all"].children, ["ungrouped", "web"]);
    }

    #[test]
    fn cycles_are_refused() {
        let mut d = Data::default();
        d.add_group("a");
        d.add_group("b");
        d.add_child("a", "b").unwrap();
        assert!(d.add_child("b", "a").unwrap_err().contains("loop"));
        assert!(d.add_child("a", "a").is_err());
    }

    #[test]
    fn depth_is_the_longest_path_from_all() {
        let mut d = Data::default();
        for g in ["top", "mid", "leaf"] {
            d.add_group(g);
        }
        d.add_child("top", "mid").unwrap();
        d.add_child("mid", "leaf").unwrap();
        d.add_child("all", "leaf").unwrap();
        d.reconcile();
        let depth = d.depths();
        assert_eq!(
            (depth["all"], depth["ungrouped"], depth["top"], depth["mid"], depth["leaf"]),
            (0, 1, 1, 2, 3)
        );
    }

    #[test]
    fn group_priority_is_not_a_variable() {
        let mut d = Data::default();
        d.add_group("g");
        d.set_variable("g", "ansible_group_priority", Json::from("7")).unwrap();
        assert_eq!(d.groups["g"].priority, 7);
        assert!(d.groups["g"].vars.is_empty());
        assert!(d.set_variable("g", "ansible_group_priority", Json::from("x")).is_err());
    }

    #[test]
    fn port_is_recorded_only_for_a_new_host() {
        let mut d = Data::default();
        d.add_host("h", None, None).unwrap();
        d.add_host("h", None, Some(22)).unwrap();
        assert!(d.hosts["h"].vars.is_empty());
    }
}
