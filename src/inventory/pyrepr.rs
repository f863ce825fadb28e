//! Python's `str()`/`repr()` of JSON values, which `ansible-inventory --graph --vars` prints
//! (`{port = 8080}`, `{tags = ['a', 'b']}`, `{on = True}`).

use serde_json::Value as Json;

/// `str(value)`: strings as they are, everything else as `repr`.
pub fn py_str(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => py_repr(other),
    }
}

/// `repr(value)`.
pub fn py_repr(value: &Json) -> String {
    match value {
        Json::Null => "None".to_string(),
        Json::Bool(true) => "True".to_string(),
        Json::Bool(false) => "False".to_string(),
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (None, None, Some(f)) => float(f),
            _ => n.to_string(),
        },
        Json::String(s) => string(s),
        Json::Array(items) => format!("[{}]", items.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Json::Object(m) => format!(
            "{{{}}}",
            m.iter().map(|(k, v)| format!("{}: {}", string(k), py_repr(v))).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Python's float repr: shortest round-trip digits, scientific below 1e-4 and from 1e16.
fn float(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if f == 0.0 || (-4..16).contains(&exp) {
        let s = format!("{f}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
}

/// A quoted string the way Python picks quotes and escapes.
fn string(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn like_python() {
        assert_eq!(py_str(&json!("a b")), "a b");
        assert_eq!(py_str(&json!([1, "two", true, null])), "[1, 'two', True, None]");
        assert_eq!(py_str(&json!({"a": {"b": "it's"}})), "{'a': {'b': \"it's\"}}");
        assert_eq!(py_str(&json!(1.0)), "1.0");
        assert_eq!(py_str(&json!(0.1)), "0.1");
        assert_eq!(py_str(&json!(1e20)), "1e+20");
        assert_eq!(py_str(&json!(1.5e-5)), "1.5e-05");
        assert_eq!(py_str(&json!(123456.789)), "123456.789");
        assert_eq!(py_repr(&json!("a\nb\\")), "'a\\nb\\\\'");
        assert_eq!(py_repr(&json!("both ' and \"")), "'both \\' and \"'");
    }
}
