//! Serialization filters: `to_json`, `to_nice_json`, `from_json`, `to_yaml`, `to_nice_yaml`,
//! `from_yaml`, `b64encode`, `b64decode`. JSON is written the way Python's `json.dumps` writes
//! it (`", "` and `": "` separators, non-ASCII escaped), so output matches Ansible byte for byte.

use base64::Engine as _;
use minijinja::value::Kwargs;
use minijinja::{Environment, Error, Value};
use serde_json::Value as Json;

use super::{fail, json_of};
use crate::template::convert::to_mj;
use crate::template::yaml_shim;

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("to_json", to_json);
    env.add_filter("to_nice_json", to_nice_json);
    env.add_filter("from_json", from_json);
    env.add_filter("to_yaml", to_yaml);
    env.add_filter("to_nice_yaml", to_nice_yaml);
    env.add_filter("from_yaml", from_yaml);
    env.add_filter("b64encode", b64encode);
    env.add_filter("b64decode", b64decode);
}

/// `json.dumps(value)`: keys in their order, one line.
fn to_json(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    let sort_keys: Option<bool> = kwargs.get("sort_keys")?;
    let indent: Option<usize> = kwargs.get("indent")?;
    let ensure_ascii: Option<bool> = kwargs.get("ensure_ascii")?;
    kwargs.assert_all_used()?;
    let opts = JsonStyle {
        indent,
        sort_keys: sort_keys.unwrap_or(false),
        ensure_ascii: ensure_ascii.unwrap_or(true),
    };
    Ok(python_json(&json_of(value)?, &opts))
}

/// `json.dumps(value, indent=4, sort_keys=True, separators=(',', ': '))`.
fn to_nice_json(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    let sort_keys: Option<bool> = kwargs.get("sort_keys")?;
    let ensure_ascii: Option<bool> = kwargs.get("ensure_ascii")?;
    kwargs.assert_all_used()?;
    let opts = JsonStyle {
        indent: Some(indent.unwrap_or(4)),
        sort_keys: sort_keys.unwrap_or(true),
        ensure_ascii: ensure_ascii.unwrap_or(true),
    };
    Ok(python_json(&json_of(value)?, &opts))
}

fn from_json(text: &str) -> Result<Value, Error> {
    serde_json::from_str::<Json>(text).map(|v| to_mj(&v)).map_err(|e| fail(format!("from_json: {e}")))
}

/// YAML with keys sorted, as PyYAML's `safe_dump` (Ansible's default) writes them.
fn to_yaml(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    let _: Option<Value> = kwargs.get("default_flow_style")?;
    let _: Option<Value> = kwargs.get("width")?;
    kwargs.assert_all_used()?;
    Ok(yaml_shim::to_yaml_styled(&sorted(json_of(value)?), indent.unwrap_or(2), true))
}

/// Block-style YAML, keys sorted, 4-space indent.
fn to_nice_yaml(value: &Value, kwargs: Kwargs) -> Result<String, Error> {
    let indent: Option<usize> = kwargs.get("indent")?;
    let _: Option<Value> = kwargs.get("width")?;
    kwargs.assert_all_used()?;
    Ok(yaml_shim::to_yaml(&sorted(json_of(value)?), indent.unwrap_or(4)))
}

fn from_yaml(text: &str) -> Result<Value, Error> {
    yaml_shim::parse(text).map(|v| to_mj(&v)).map_err(|e| fail(format!("from_yaml: {e}")))
}

fn b64encode(value: &Value) -> String {
    let text = value.as_str().map_or_else(|| crate::template::format::display(value), str::to_string);
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}

fn b64decode(text: &str) -> Result<String, Error> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim().as_bytes())
        .map_err(|e| fail(format!("b64decode: {e}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn sorted(value: Json) -> Json {
    match value {
        Json::Object(map) => {
            let mut entries: Vec<(String, Json)> = map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(entries.into_iter().collect())
        }
        Json::Array(items) => Json::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// How Python's `json.dumps` was asked to write.
pub struct JsonStyle {
    pub indent: Option<usize>,
    pub sort_keys: bool,
    pub ensure_ascii: bool,
}

/// JSON text exactly as Python's `json.dumps` writes it with these options.
pub fn python_json(value: &Json, style: &JsonStyle) -> String {
    let mut out = String::new();
    write_json(value, style, 0, &mut out);
    out
}

fn write_json(value: &Json, style: &JsonStyle, depth: usize, out: &mut String) {
    let (item_sep, newline) = match style.indent {
        Some(_) => (",", true),
        None => (", ", false),
    };
    let pad = |out: &mut String, d: usize| {
        if let Some(n) = style.indent {
            out.push('\n');
            out.push_str(&" ".repeat(n * d));
        }
    };
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => out.push_str(&i.to_string()),
            (_, Some(u), _) => out.push_str(&u.to_string()),
            (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 1e16 => out.push_str(&format!("{f:.1}")),
            _ => out.push_str(&n.to_string()),
        },
        Json::String(s) => write_json_str(s, style.ensure_ascii, out),
        Json::Array(items) if items.is_empty() => out.push_str("[]"),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                if newline {
                    pad(out, depth + 1);
                }
                write_json(item, style, depth + 1, out);
            }
            if newline {
                pad(out, depth);
            }
            out.push(']');
        }
        Json::Object(map) if map.is_empty() => out.push_str("{}"),
        Json::Object(map) => {
            let mut entries: Vec<(&String, &Json)> = map.iter().collect();
            if style.sort_keys {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                if newline {
                    pad(out, depth + 1);
                }
                write_json_str(k, style.ensure_ascii, out);
                out.push_str(": ");
                write_json(v, style, depth + 1, out);
            }
            if newline {
                pad(out, depth);
            }
            out.push('}');
        }
    }
}

fn write_json_str(s: &str, ensure_ascii: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (ensure_ascii && !c.is_ascii()) => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod unit {
    use crate::template::filters::eval;
    use serde_json::json;

    #[test]
    fn to_json_like_python() {
        assert_eq!(eval("{'b':1,'a':[1,2]} | to_json"), json!("{\"b\": 1, \"a\": [1, 2]}"));
        assert_eq!(eval("'a' | to_json"), json!("\"a\""));
        assert_eq!(eval("'é' | to_json"), json!("\"\\u00e9\""));
        assert_eq!(eval("none | to_json"), json!("null"));
        assert_eq!(eval("2.0 | to_json"), json!("2.0"));
    }

    #[test]
    fn to_nice_json_sorts_and_indents_four() {
        assert_eq!(
            eval("{'b':1,'a':{'z':1,'y':2}} | to_nice_json"),
            json!("{\n    \"a\": {\n        \"y\": 2,\n        \"z\": 1\n    },\n    \"b\": 1\n}")
        );
        assert_eq!(eval("[] | to_nice_json"), json!("[]"));
        assert_eq!(eval("{'a':[1]} | to_nice_json(indent=2)"), json!("{\n  \"a\": [\n    1\n  ]\n}"));
    }

    #[test]
    fn from_json_round_trip() {
        assert_eq!(eval("'{\"a\": [1, true]}' | from_json"), json!({"a": [1, true]}));
    }

    #[test]
    fn yaml_filters() {
        assert_eq!(
            eval("{'b':1,'a':[1,2],'d':{},'e':[],'n':none,'t':'yes','s':'x y'} | to_nice_yaml"),
            json!("a:\n- 1\n- 2\nb: 1\nd: {}\ne: []\nn: null\ns: x y\nt: 'yes'\n")
        );
        assert_eq!(eval("'a: 1' | from_yaml"), json!({"a": 1}));
        // Pinned against ansible-core 2.19: `to_yaml` writes scalar-only collections inline.
        assert_eq!(eval("{'a': 1} | to_yaml"), json!("{a: 1}\n"));
        assert_eq!(eval("[1, 2] | to_yaml"), json!("[1, 2]\n"));
        assert_eq!(
            eval("{'a': {'b': 1, 'c': [1, {'d': 2}]}, 'e': []} | to_yaml"),
            json!("a:\n  b: 1\n  c:\n  - 1\n  - {d: 2}\ne: []\n")
        );
        assert_eq!(eval("'yes' | to_yaml"), json!("'yes'\n"));
        assert_eq!(eval("[{'a': 1}] | to_yaml"), json!("- {a: 1}\n"));
        assert_eq!(eval("{'a': 'x: y', 'b': ''} | to_yaml"), json!("{a: 'x: y', b: ''}\n"));
        assert_eq!(eval("{'x': {'y': 'z'}} | to_nice_yaml"), json!("x:\n    y: z\n"));
        // Pinned against ansible-core 2.19 (PyYAML, indent 4).
        assert_eq!(
            eval("[{'a':1,'b':[1,2]}, 'x'] | to_nice_yaml"),
            json!("-   a: 1\n    b:\n    - 1\n    - 2\n- x\n")
        );
        assert_eq!(
            eval("{'a': {'b': [1, {'c': 2}]}} | to_nice_yaml"),
            json!("a:\n    b:\n    - 1\n    -   c: 2\n")
        );
    }

    #[test]
    fn base64() {
        assert_eq!(eval("'a' | b64encode"), json!("YQ=="));
        assert_eq!(eval("'YQ==' | b64decode"), json!("a"));
        assert_eq!(eval("'héllo' | b64encode | b64decode"), json!("héllo"));
    }
}
