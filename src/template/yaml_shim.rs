//! Temporary YAML helpers for `to_yaml`/`from_yaml` and `-e @file.yml` until `crate::yaml`
//! offers its parser and emitter; then these become thin calls into it. The emitter copies
//! PyYAML's layout (what Ansible's `to_yaml`/`to_nice_yaml` print), which stays here.

use serde_json::Value as Json;

/// Parses YAML text into JSON (YAML 1.1 scalars as PyYAML reads them: `yes`/`no` are
/// booleans). The error carries the 1-based line and column when the parser knows them.
pub fn parse(text: &str) -> Result<Json, String> {
    parse_at(text).map_err(|(msg, at)| match at {
        Some((line, col)) => format!("{msg} at line {line} column {col}"),
        None => msg,
    })
}

type ParseFailure = (String, Option<(usize, usize)>);

enum Frame {
    Seq(Vec<Json>, usize),
    Map(serde_json::Map<String, Json>, Option<String>, usize),
}

fn parse_at(text: &str) -> Result<Json, ParseFailure> {
    use saphyr_parser::{Event, Parser, ScalarStyle};
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: std::collections::HashMap<usize, Json> = std::collections::HashMap::new();
    let mut root: Option<Json> = None;
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| {
            let m = e.marker();
            (e.info().to_string(), Some((m.line(), m.col() + 1)))
        })?;
        let at = Some((span.start.line(), span.start.col() + 1));
        let value = match event {
            Event::Scalar(v, style, anchor, tag) => {
                let is_str_tag = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let json = if style == ScalarStyle::Plain && !is_str_tag {
                    scalar(&v)
                } else {
                    Json::String(v.into_owned())
                };
                if anchor > 0 {
                    anchors.insert(anchor, json.clone());
                }
                json
            }
            Event::Alias(id) => anchors.get(&id).cloned().ok_or_else(|| ("unknown alias".to_string(), at))?,
            Event::SequenceStart(anchor, _) => {
                stack.push(Frame::Seq(Vec::new(), anchor));
                continue;
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Frame::Map(serde_json::Map::new(), None, anchor));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (json, anchor) = match stack.pop() {
                    Some(Frame::Seq(items, a)) => (Json::Array(items), a),
                    Some(Frame::Map(m, _, a)) => (Json::Object(m), a),
                    None => return Err(("unbalanced collection".to_string(), at)),
                };
                if anchor > 0 {
                    anchors.insert(anchor, json.clone());
                }
                json
            }
            Event::DocumentEnd => {
                if root.is_some() {
                    break;
                }
                continue;
            }
            _ => continue,
        };
        match stack.last_mut() {
            None => root = Some(value),
            Some(Frame::Seq(items, _)) => items.push(value),
            Some(Frame::Map(m, key, _)) => match key.take() {
                None => {
                    *key = Some(match value {
                        Json::String(s) => s,
                        other => other.to_string(),
                    })
                }
                Some(k) => {
                    m.insert(k, value);
                }
            },
        }
    }
    Ok(root.unwrap_or(Json::Null))
}

fn scalar(s: &str) -> Json {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Json::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Json::Bool(true);
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Json::Bool(false);
        }
        _ => {}
    }
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
        && let Ok(i) = s.replace('_', "").parse::<i64>()
    {
        return Json::from(i);
    }
    if let Some(hex) = s.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return Json::from(i);
    }
    if let Some(oct) = s.strip_prefix("0o")
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return Json::from(i);
    }
    let looks_float = digits.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && digits.chars().all(|c| c.is_ascii_digit() || "._eE+-".contains(c))
        && digits.contains(['.', 'e', 'E']);
    if looks_float
        && let Ok(f) = s.replace('_', "").parse::<f64>()
        && let Some(n) = serde_json::Number::from_f64(f)
    {
        return Json::Number(n);
    }
    Json::String(s.to_string())
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
    parse_at(&file.text).map_err(|(msg, at)| {
        let offset = at.map_or(0, |(line, col)| file.offset_of(line, col));
        let loc = crate::source::SourceLoc::new(file.clone(), offset, 1);
        crate::source::SourceError::new(&loc, format!("invalid YAML: {msg}"), "here")
    })
}

#[cfg(test)]
mod unit {
    use super::parse;
    use serde_json::json;

    #[test]
    fn parses_yaml_like_pyyaml() {
        let doc =
            "a: 1\nb: [x, 'yes', yes, ~, 1.5, 0x1f]\nc:\n  d: &anchor {e: f}\n  g: *anchor\n\"q\": \"on\"\n";
        assert_eq!(
            parse(doc).unwrap(),
            json!({"a": 1, "b": ["x", "yes", true, null, 1.5, 31], "c": {"d": {"e": "f"}, "g": {"e": "f"}}, "q": "on"})
        );
        assert_eq!(parse("- 1\n- two\n").unwrap(), json!([1, "two"]));
        assert_eq!(parse("").unwrap(), json!(null));
        assert_eq!(parse("1.2.3").unwrap(), json!("1.2.3"));
        assert!(parse("a: [1,\n").unwrap_err().contains("line"));
    }
}
