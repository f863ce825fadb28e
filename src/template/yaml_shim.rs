//! Temporary YAML helpers for `to_yaml`/`from_yaml` until `crate::yaml` offers its parser and
//! emitter; then these become thin calls into it.

use serde_json::Value as Json;

/// Parses YAML text into JSON. JSON (a YAML subset) and flat `key: value` documents only.
pub fn parse(text: &str) -> Result<Json, String> {
    if let Ok(v) = serde_json::from_str::<Json>(text) {
        return Ok(v);
    }
    let mut map = serde_json::Map::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() || line.trim_start().starts_with('#') || line == "---" {
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            return Ok(scalar(text.trim()));
        };
        map.insert(k.trim().to_string(), scalar(v.trim()));
    }
    Ok(Json::Object(map))
}

fn scalar(s: &str) -> Json {
    if let Some(inner) = s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        return Json::String(inner.replace("''", "'"));
    }
    if let Ok(v) = serde_json::from_str::<Json>(s) {
        return v;
    }
    match s {
        "" | "~" | "null" | "Null" | "NULL" => Json::Null,
        "yes" | "Yes" | "true" | "True" | "on" | "On" => Json::Bool(true),
        "no" | "No" | "false" | "False" | "off" | "Off" => Json::Bool(false),
        _ => Json::String(s.to_string()),
    }
}

/// Block-style YAML with `indent` spaces per nested mapping (lists sit at their key's column,
/// as PyYAML writes them).
pub fn to_yaml(value: &Json, indent: usize) -> String {
    to_yaml_styled(value, indent, false)
}

/// With `flow_leaves`, collections holding only scalars are written inline (`[1, 2]`,
/// `{a: 1}`), as PyYAML's default `default_flow_style=None` does for `to_yaml`.
pub fn to_yaml_styled(value: &Json, indent: usize, flow_leaves: bool) -> String {
    let mut out = String::new();
    if flow_leaves && is_leaf_collection(value) {
        out.push_str(&flow(value));
        out.push('\n');
        return out;
    }
    match value {
        Json::Object(m) if !m.is_empty() => write_map(value, indent, flow_leaves, 0, &mut out),
        Json::Array(a) if !a.is_empty() => write_seq(value, indent, flow_leaves, 0, &mut out),
        other => {
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
    out
}

fn is_leaf_collection(v: &Json) -> bool {
    match v {
        Json::Array(a) => !a.is_empty() && a.iter().all(|i| !matches!(i, Json::Array(_) | Json::Object(_))),
        Json::Object(m) => {
            !m.is_empty() && m.values().all(|i| !matches!(i, Json::Array(_) | Json::Object(_)))
        }
        _ => false,
    }
}

fn flow(v: &Json) -> String {
    match v {
        Json::Array(a) => format!("[{}]", a.iter().map(flow).collect::<Vec<_>>().join(", ")),
        Json::Object(m) => {
            format!(
                "{{{}}}",
                m.iter()
                    .map(|(k, v)| format!("{}: {}", quote_flow(k), flow(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        Json::String(s) => quote_flow(s),
        other => inline(other),
    }
}

fn quote_flow(s: &str) -> String {
    if s.contains([',', '[', ']', '{', '}']) && !s.contains('\n') {
        return format!("'{}'", s.replace('\'', "''"));
    }
    quote_str(s)
}

fn write_map(value: &Json, indent: usize, flow_leaves: bool, col: usize, out: &mut String) {
    let Json::Object(map) = value else { return };
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push_str(&" ".repeat(col));
        }
        out.push_str(&quote_str(k));
        out.push(':');
        write_child(v, indent, flow_leaves, col, col + indent, out);
    }
}

fn write_seq(value: &Json, indent: usize, flow_leaves: bool, col: usize, out: &mut String) {
    let Json::Array(items) = value else { return };
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(&" ".repeat(col));
        }
        out.push('-');
        // PyYAML pads the dash to the indent width before a nested collection.
        let pad = " ".repeat(indent.max(2) - 1);
        if flow_leaves && is_leaf_collection(v) {
            out.push(' ');
            out.push_str(&flow(v));
            out.push('\n');
            continue;
        }
        match v {
            Json::Object(m) if !m.is_empty() => {
                out.push_str(&pad);
                write_map(v, indent, flow_leaves, col + indent.max(2), out);
            }
            Json::Array(a) if !a.is_empty() => {
                out.push_str(&pad);
                write_seq(v, indent, flow_leaves, col + indent.max(2), out);
            }
            other => {
                out.push(' ');
                out.push_str(&inline(other));
                out.push('\n');
            }
        }
    }
}

fn write_child(v: &Json, indent: usize, flow_leaves: bool, col: usize, child_col: usize, out: &mut String) {
    if flow_leaves && is_leaf_collection(v) {
        out.push(' ');
        out.push_str(&flow(v));
        out.push('\n');
        return;
    }
    match v {
        Json::Object(m) if !m.is_empty() => {
            out.push('\n');
            out.push_str(&" ".repeat(child_col));
            write_map(v, indent, flow_leaves, child_col, out);
        }
        Json::Array(a) if !a.is_empty() => {
            out.push('\n');
            out.push_str(&" ".repeat(col));
            write_seq(v, indent, flow_leaves, col, out);
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn inline(v: &Json) -> String {
    match v {
        Json::Null => "null".to_string(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::String(s) => quote_str(s),
        Json::Array(_) => "[]".to_string(),
        Json::Object(_) => "{}".to_string(),
    }
}

/// Quotes a string only when plain YAML would read it as something else.
fn quote_str(s: &str) -> String {
    if s.contains('\n') || s.chars().any(|c| c.is_control()) {
        return serde_json::to_string(s).unwrap_or_default();
    }
    let reserved = matches!(scalar(s), Json::Bool(_) | Json::Null | Json::Number(_));
    let special = s.is_empty()
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@`".contains(c))
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':');
    if reserved || special { format!("'{}'", s.replace('\'', "''")) } else { s.to_string() }
}

/// Parses a whole YAML file, errors as [`crate::source::SourceError`] pointing into it.
pub(crate) fn parse_source(
    file: &std::sync::Arc<crate::source::SourceFile>,
) -> Result<Json, crate::source::SourceError> {
    parse(&file.text).map_err(|e| {
        let loc = crate::source::SourceLoc::new(file.clone(), 0, 1);
        crate::source::SourceError::new(&loc, format!("invalid YAML: {e}"), "here")
    })
}
