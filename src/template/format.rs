//! How values print inside a larger string, the way Ansible (Python) prints them:
//! `True`, `False`, `None`, `['a', 1]`, `{'k': True}`. Strings and numbers print as themselves.

use minijinja::Value;
use minijinja::value::ValueKind;

/// The text `{{ value }}` produces in the middle of a string.
pub fn display(value: &Value) -> String {
    match value.kind() {
        ValueKind::String => value.as_str().unwrap_or_default().to_string(),
        ValueKind::Bool | ValueKind::None | ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => {
            repr(value)
        }
        _ => value.to_string(),
    }
}

/// Python's `repr` of a value.
pub fn repr(value: &Value) -> String {
    match value.kind() {
        ValueKind::None | ValueKind::Undefined => "None".to_string(),
        ValueKind::Bool => if value.is_true() { "True" } else { "False" }.to_string(),
        ValueKind::String => py_str_repr(value.as_str().unwrap_or_default()),
        ValueKind::Seq | ValueKind::Iterable => {
            let items: Vec<String> =
                value.try_iter().map(|it| it.map(|v| repr(&v)).collect()).unwrap_or_default();
            format!("[{}]", items.join(", "))
        }
        ValueKind::Map => {
            let Ok(keys) = value.try_iter() else { return "{}".to_string() };
            let items: Vec<String> = keys
                .map(|k| {
                    let v = value.get_item(&k).unwrap_or_default();
                    format!("{}: {}", repr(&k), repr(&v))
                })
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        _ => value.to_string(),
    }
}

fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod unit {
    use super::*;
    use serde_json::json;

    #[test]
    fn prints_like_python() {
        let v = Value::from_serialize(json!({"a": true, "b": [1, "x", null]}));
        assert_eq!(display(&v), "{'a': True, 'b': [1, 'x', None]}");
        assert_eq!(display(&Value::from(false)), "False");
        assert_eq!(display(&Value::from("it's")), "it's");
        assert_eq!(repr(&Value::from("it's")), "\"it's\"");
        assert_eq!(display(&Value::from(1.5)), "1.5");
    }
}
