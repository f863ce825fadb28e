//! Ansible's INI inventory format:
//!
//! ```ini
//! lonely ansible_host=10.0.0.9          # before any section: in `ungrouped`
//! [web]
//! web[01:03].example.com:2222 tier='front end'
//! [web:vars]
//! http_port=8080
//! [dc:children]
//! web
//! ```
//!
//! Values (host line `k=v` words and `[group:vars]` lines alike) are read like Python
//! literals ([`super::literal`]): `8080` is a number, `'x'` the string `x`, `yes` a string.
//! On host lines the words are shell-split first, so `x="1"` is the number 1 (as in Ansible).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use regex::Regex;

use super::error::InventoryError;
use super::literal::ini_value;
use super::model::Data;
use super::{address, range, shlex};
use crate::source::{SourceFile, SourceLoc};

static SECTION: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$").ok());
static GROUP_NAME: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^([^:\]\s]+)\s*(?:#.*)?$").ok());

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Hosts,
    Children,
    Vars,
}

/// A group named in `[x:children]` or `[x:vars]` before it was defined.
struct Pending {
    state: State,
    loc: SourceLoc,
    parents: Vec<String>,
}

/// Reads one INI inventory file into `data`.
pub fn parse(data: &mut Data, file: &Arc<SourceFile>) -> Result<(), InventoryError> {
    let (Some(section_re), Some(group_re)) = (SECTION.as_ref(), GROUP_NAME.as_ref()) else {
        return Err(InventoryError::Invalid("internal error: INI patterns do not compile".into()));
    };
    let mut pending: HashMap<String, Pending> = HashMap::new();
    let mut pending_order: Vec<String> = Vec::new();
    let mut group = "ungrouped".to_string();
    let mut state = State::Hosts;
    let mut offset = 0;
    for raw in file.text.split_inclusive('\n') {
        let line_start = offset;
        offset += raw.len();
        let line = raw.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        let lead = raw.len() - raw.trim_start().len();
        let loc = SourceLoc::new(file.clone(), line_start + lead, line.len());
        if let Some(caps) = section_re.captures(line) {
            group = caps.get(1).map_or("", |m| m.as_str()).to_string();
            let kind = caps.get(2).map(|m| m.as_str());
            state = match kind {
                None | Some("hosts") => State::Hosts,
                Some("children") => State::Children,
                Some("vars") => State::Vars,
                Some(other) => {
                    return Err(InventoryError::at_with_help(
                        &loc,
                        format!("section `[{group}:{other}]` has unknown type `{other}`"),
                        "unknown section type",
                        "a section is `[group]`, `[group:vars]` or `[group:children]`",
                    ));
                }
            };
            if !data.groups.contains_key(&group) {
                if state == State::Vars && !pending.contains_key(&group) {
                    pending_order.push(group.clone());
                    pending.insert(group.clone(), Pending { state, loc: loc.clone(), parents: Vec::new() });
                }
                data.add_group(&group);
            }
            if state != State::Vars && pending.contains_key(&group) {
                match pending.get(&group).map(|p| p.state) {
                    Some(State::Children) => add_pending_children(data, &group, &mut pending, &loc)?,
                    Some(State::Vars) => {
                        pending.remove(&group);
                    }
                    _ => {}
                }
            }
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            return Err(InventoryError::at_with_help(
                &loc,
                format!("invalid section entry `{line}`"),
                "not a valid section",
                "a section has no spaces: `[group]`, `[group:vars]` or `[group:children]`",
            ));
        }
        match state {
            State::Hosts => host_line(data, line, &group, &loc)?,
            State::Vars => {
                let Some((k, v)) = line.split_once('=') else {
                    return Err(InventoryError::at(
                        &loc,
                        format!("expected key=value, got `{line}`"),
                        "not key=value",
                    ));
                };
                data.set_variable(&group, k.trim(), ini_value(v.trim()))
                    .map_err(|m| InventoryError::at(&loc, m, "here"))?;
            }
            State::Children => {
                let Some(child) =
                    group_re.captures(line).and_then(|c| c.get(1)).map(|m| m.as_str().to_string())
                else {
                    return Err(InventoryError::at(
                        &loc,
                        format!("expected a group name, got `{line}`"),
                        "not a group name",
                    ));
                };
                if data.groups.contains_key(&child) {
                    data.add_child(&group, &child).map_err(|m| InventoryError::at(&loc, m, "here"))?;
                } else if let Some(p) = pending.get_mut(&child) {
                    p.parents.push(group.clone());
                } else {
                    pending_order.push(child.clone());
                    pending
                        .insert(child, Pending { state: State::Children, loc, parents: vec![group.clone()] });
                }
            }
        }
    }
    for name in pending_order {
        if let Some(p) = pending.get(&name) {
            let message = match p.state {
                State::Vars => format!("section `[{name}:vars]` is for a group that is never defined"),
                _ => format!(
                    "section `[{}:children]` includes the undefined group `{name}`",
                    p.parents.last().map_or("?", String::as_str)
                ),
            };
            return Err(InventoryError::at_with_help(
                &p.loc,
                message,
                "undefined group",
                format!("define it with a `[{name}]` or `[{name}:children]` section"),
            ));
        }
    }
    Ok(())
}

/// Links a group that was pending in `[parent:children]` now that it is defined.
fn add_pending_children(
    data: &mut Data,
    group: &str,
    pending: &mut HashMap<String, Pending>,
    loc: &SourceLoc,
) -> Result<(), InventoryError> {
    let Some(p) = pending.remove(group) else { return Ok(()) };
    for parent in p.parents {
        data.add_child(&parent, group).map_err(|m| InventoryError::at(loc, m, "here"))?;
        if pending.get(&parent).is_some_and(|pp| pp.state == State::Children) {
            add_pending_children(data, &parent, pending, loc)?;
        }
    }
    Ok(())
}

/// `name[:port] k=v k=v ...`, where the name may hold ranges.
fn host_line(data: &mut Data, line: &str, group: &str, loc: &SourceLoc) -> Result<(), InventoryError> {
    let words = shlex::split(line)
        .map_err(|m| InventoryError::at(loc, format!("cannot parse host definition: {m}"), "here"))?;
    let Some((pattern, vars)) = words.split_first() else { return Ok(()) };
    let (hosts, port) =
        expand_host_pattern(pattern).map_err(|m| InventoryError::at(loc, m, "in this host"))?;
    let mut variables = Vec::new();
    for word in vars {
        let Some((k, v)) = word.split_once('=') else {
            return Err(InventoryError::at_with_help(
                loc,
                format!("expected key=value host variable assignment, got `{word}`"),
                "here",
                "host variables are written `name=value`; quote values that contain spaces",
            ));
        };
        variables.push((k.to_string(), ini_value(v)));
    }
    for host in hosts {
        data.add_host(&host, Some(group), port).map_err(|m| InventoryError::at(loc, m, "here"))?;
        for (k, v) in &variables {
            data.set_variable(&host, k, v.clone()).map_err(|m| InventoryError::at(loc, m, "here"))?;
        }
    }
    Ok(())
}

/// A host entry's names and port, as Ansible's INI plugin reads them: `host:port` only when
/// the host part is a valid name or address, then ranges expanded.
pub fn expand_host_pattern(pattern: &str) -> Result<(Vec<String>, Option<u16>), String> {
    let (name, port) = address::parse(pattern).unwrap_or_else(|| (pattern.to_string(), None));
    if pattern.trim().ends_with(':') && port.is_none() {
        return Err(format!(
            "invalid host pattern `{pattern}`: a trailing `:` is reserved for a port number"
        ));
    }
    let hosts = if range::has_range(&name) {
        range::expand(&name).map_err(|m| format!("invalid host range: {m}"))?
    } else {
        vec![name]
    };
    if hosts.iter().any(|h| h.trim() == "---") {
        return Err(format!(
            "invalid host pattern `{pattern}`: `---` is normally a sign this is a YAML file"
        ));
    }
    Ok((hosts, port))
}
