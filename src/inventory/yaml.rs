//! Ansible's YAML inventory format:
//!
//! ```yaml
//! all:
//!   vars: { ntp: 10.0.0.1 }
//!   children:
//!     web:
//!       hosts:
//!         web[01:03].example.com: { http_port: 8080 }
//!         web9:2222:
//! ```
//!
//! A group is a mapping with `hosts`, `vars` and `children` (each a mapping, or a bare name);
//! anything else is skipped with a warning, as Ansible does. Unlike Ansible (PyYAML, YAML
//! 1.1), `yes`/`no`/`on`/`off` are strings here; see [`crate::yaml`].

use super::error::InventoryError;
use super::ini::expand_host_pattern;
use super::model::Data;
use crate::yaml::{Node, NodeValue};

/// Reads an already parsed YAML inventory document.
pub fn parse_root(data: &mut Data, root: &Node) -> Result<(), InventoryError> {
    let Some(map) = root.as_map() else {
        let message = if root.is_null() {
            "this YAML inventory is empty".to_string()
        } else {
            format!("a YAML inventory must be a mapping of groups, found {}", root.kind())
        };
        return Err(InventoryError::at(&root.loc, message, "expected `all:` or group names here"));
    };
    if let Some(plugin) = root.get("plugin") {
        return Err(InventoryError::at_with_help(
            &plugin.loc,
            "inventory plugin configuration files are not supported",
            "a plugin configuration",
            "Baton reads INI, YAML and script inventories",
        ));
    }
    for (name, value) in map {
        group(data, name, value)?;
    }
    Ok(())
}

fn name_of(node: &Node, what: &str) -> Result<String, InventoryError> {
    match &node.value {
        NodeValue::Str(s) => Ok(s.clone()),
        _ => Err(InventoryError::at_with_help(
            &node.loc,
            format!("{what} must be a string, found {}", node.kind()),
            "not a string",
            "enclose numbers in quotes",
        )),
    }
}

/// One group entry; returns the group's name.
fn group(data: &mut Data, name_node: &Node, value: &Node) -> Result<Option<String>, InventoryError> {
    let name = name_of(name_node, "a group name")?;
    let entries = match &value.value {
        NodeValue::Null => None,
        NodeValue::Map(m) => Some(m),
        _ => {
            data.warnings.push(format!(
                "skipping `{name}` as it is not a valid group definition ({})",
                value.loc.short()
            ));
            return Ok(None);
        }
    };
    data.add_group(&name);
    let Some(entries) = entries else { return Ok(Some(name)) };
    for (key_node, section) in entries {
        let key = key_node.scalar_text().unwrap_or_default();
        let known = matches!(key.as_str(), "vars" | "children" | "hosts");
        // A bare name stands for a mapping with that one key: `children: web`.
        let bare;
        let section = match &section.value {
            NodeValue::Str(s) if known => {
                bare = Node {
                    loc: section.loc.clone(),
                    value: NodeValue::Map(vec![(
                        Node { loc: section.loc.clone(), value: NodeValue::Str(s.clone()) },
                        Node { loc: section.loc.clone(), value: NodeValue::Null },
                    )]),
                };
                &bare
            }
            _ => section,
        };
        let pairs = match &section.value {
            NodeValue::Map(pairs) => pairs,
            NodeValue::Null => continue,
            _ if known => {
                return Err(InventoryError::at(
                    &section.loc,
                    format!(
                        "invalid `{key}` entry for group `{name}`: it must be a mapping, found {}",
                        section.kind()
                    ),
                    "expected a mapping",
                ));
            }
            _ => {
                data.warnings.push(format!("skipping key `{key}` in group `{name}` as it is not a mapping"));
                continue;
            }
        };
        match key.as_str() {
            "vars" => {
                for (k, v) in pairs {
                    data.set_variable(&name, &k.key_string(), v.to_json())
                        .map_err(|m| InventoryError::at(&k.loc, m, "here"))?;
                }
            }
            "children" => {
                for (child_name, child) in pairs {
                    if let Some(child) = group(data, child_name, child)? {
                        data.add_child(&name, &child).map_err(|m| InventoryError::at(&child_name.loc, m, "here"))?;
                    }
                }
            }
            "hosts" => {
                for (pattern_node, vars) in pairs {
                    hosts(data, &name, pattern_node, vars)?;
                }
            }
            other => data.warnings.push(format!(
                "skipping unexpected key `{other}` in group `{name}`, only `vars`, `children` and `hosts` are valid"
            )),
        }
    }
    Ok(Some(name))
}

fn hosts(data: &mut Data, group: &str, pattern_node: &Node, vars: &Node) -> Result<(), InventoryError> {
    let pattern = name_of(pattern_node, "a host pattern")?;
    let (names, port) = expand_host_pattern(&pattern)
        .map_err(|m| InventoryError::at(&pattern_node.loc, m, "in this host"))?;
    let vars = match &vars.value {
        NodeValue::Null => &[][..],
        NodeValue::Map(pairs) => pairs.as_slice(),
        _ => {
            return Err(InventoryError::at(
                &vars.loc,
                format!("the variables of host `{pattern}` must be a mapping, found {}", vars.kind()),
                "expected a mapping",
            ));
        }
    };
    for host in names {
        data.add_host(&host, Some(group), port)
            .map_err(|m| InventoryError::at(&pattern_node.loc, m, "here"))?;
        for (k, v) in vars {
            data.set_variable(&host, &k.key_string(), v.to_json())
                .map_err(|m| InventoryError::at(&k.loc, m, "here"))?;
        }
    }
    Ok(())
}
