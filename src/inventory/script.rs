//! Executable inventory scripts: `SCRIPT --list` prints JSON groups
//! (`{"web": {"hosts": [...], "vars": {...}, "children": [...]}, "_meta": {"hostvars": {...}}}`);
//! without `_meta`, `SCRIPT --host NAME` is asked for each host's variables.

use std::path::Path;
use std::process::Command;

use serde_json::Value as Json;

use super::error::InventoryError;
use super::model::Data;

/// Runs the script and reads its answer into `data`.
pub fn parse(data: &mut Data, path: &Path) -> Result<(), InventoryError> {
    let fail = |message: String| InventoryError::Script { path: path.display().to_string(), message };
    let listed = run(path, &["--list"]).map_err(fail)?;
    let root: Json =
        serde_json::from_str(&listed).map_err(|e| fail(format!("`--list` did not print valid JSON: {e}")))?;
    let Json::Object(groups) = root else {
        return Err(fail(format!("`--list` must print a JSON object, got {}", kind(&root))));
    };
    let mut meta: Option<serde_json::Map<String, Json>> = None;
    let mut hosts: Vec<String> = Vec::new();
    for (name, value) in groups {
        if name == "_meta" {
            match value.get("hostvars") {
                Some(Json::Object(hv)) => meta = Some(hv.clone()),
                Some(other) => {
                    return Err(fail(format!("`_meta.hostvars` must be an object, got {}", kind(other))));
                }
                None => return Err(fail("`_meta` has no `hostvars`".to_string())),
            }
            continue;
        }
        group(data, &name, value, &mut hosts).map_err(fail)?;
    }
    for host in &hosts {
        let vars = match &meta {
            Some(all) => all.get(host).cloned().unwrap_or(Json::Object(serde_json::Map::new())),
            None => host_vars(path, host).map_err(fail)?,
        };
        let Json::Object(vars) = vars else {
            return Err(fail(format!(
                "the variables of host `{host}` must be an object, got {}",
                kind(&vars)
            )));
        };
        for (k, v) in vars {
            data.set_variable(host, &k, v).map_err(fail)?;
        }
    }
    Ok(())
}

/// One group of the `--list` answer.
fn group(data: &mut Data, name: &str, value: Json, hosts: &mut Vec<String>) -> Result<(), String> {
    data.add_group(name);
    let value = match value {
        Json::Object(m) if ["hosts", "vars", "children"].iter().any(|k| m.contains_key(*k)) => m,
        // Old formats Ansible still reads: a bare host list, or a mapping of vars for a host
        // named like the group.
        Json::Object(m) => {
            let mut fixed = serde_json::Map::new();
            fixed.insert("hosts".into(), Json::Array(vec![Json::String(name.to_string())]));
            fixed.insert("vars".into(), Json::Object(m));
            fixed
        }
        other => {
            let mut fixed = serde_json::Map::new();
            fixed.insert("hosts".into(), other);
            fixed
        }
    };
    if let Some(list) = value.get("hosts") {
        let Json::Array(list) = list else {
            return Err(format!("`{name}.hosts` must be a list, got {}", kind(list)));
        };
        for h in list {
            let Json::String(h) = h else {
                return Err(format!("`{name}.hosts` must hold host names, got `{h}`"));
            };
            if !hosts.contains(h) {
                hosts.push(h.clone());
            }
            data.add_host(h, Some(name), None)?;
        }
    }
    if let Some(vars) = value.get("vars") {
        let Json::Object(vars) = vars else {
            return Err(format!("`{name}.vars` must be an object, got {}", kind(vars)));
        };
        for (k, v) in vars {
            data.set_variable(name, k, v.clone())?;
        }
    }
    if let Some(children) = value.get("children") {
        let Json::Array(children) = children else {
            return Err(format!("`{name}.children` must be a list, got {}", kind(children)));
        };
        for c in children {
            let Json::String(c) = c else {
                return Err(format!("`{name}.children` must hold group names, got `{c}`"));
            };
            data.add_group(c);
            data.add_child(name, c)?;
        }
    }
    Ok(())
}

fn host_vars(path: &Path, host: &str) -> Result<Json, String> {
    let out = run(path, &["--host", host])?;
    if out.trim().is_empty() {
        return Ok(Json::Object(serde_json::Map::new()));
    }
    serde_json::from_str(&out).map_err(|e| format!("`--host {host}` did not print valid JSON: {e}"))
}

/// Runs the script; its stdout, or an error with its exit code and stderr.
fn run(path: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new(path).args(args).output().map_err(|e| format!("cannot run it: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let code = output.status.code().map_or("a signal".to_string(), |c| format!("exit code {c}"));
        return Err(format!(
            "`{}` ended with {code}{}",
            args.join(" "),
            if stderr.trim().is_empty() { String::new() } else { format!(": {}", stderr.trim()) }
        ));
    }
    String::from_utf8(output.stdout).map_err(|_| format!("`{}` printed invalid UTF-8", args.join(" ")))
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}
