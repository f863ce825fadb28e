//! Writes JSON values as block-style YAML that any YAML reader (ours, PyYAML, YAML 1.1 or
//! 1.2) reads back as the same value: strings that would read as something else (`yes`,
//! `1.0`, `null`, `~`, ` padded`, `a: b`) are quoted, empty collections are `{}` and `[]`.

use serde_json::Value as Json;

use super::NodeValue;
use super::scalar::resolve_plain;

/// The whole value as a YAML document (no `---`), ending with a newline. `indent` is the
/// number of spaces per nesting level (at least 1; 2 is usual).
pub fn to_yaml(value: &Json, indent: usize) -> String {
    let mut out = String::new();
    let indent = indent.max(1);
    match value {
        Json::Object(m) if !m.is_empty() => map(&mut out, m, 0, indent),
        Json::Array(a) if !a.is_empty() => seq(&mut out, a, 0, indent),
        scalar => {
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
    out
}

/// A scalar or empty collection, written on one line.
fn inline(value: &Json) -> String {
    match value {
        Json::Null => "null".to_string(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => number(n),
        Json::String(s) => string(s),
        Json::Array(_) => "[]".to_string(),
        Json::Object(_) => "{}".to_string(),
    }
}

fn is_block(value: &Json) -> bool {
    match value {
        Json::Array(a) => !a.is_empty(),
        Json::Object(m) => !m.is_empty(),
        _ => false,
    }
}

fn map(out: &mut String, m: &serde_json::Map<String, Json>, col: usize, indent: usize) {
    for (i, (k, v)) in m.iter().enumerate() {
        // The first key of a mapping inside a list item sits right after `- `.
        if i > 0 || !out.ends_with("- ") {
            pad(out, col);
        }
        out.push_str(&string(k));
        out.push(':');
        value_after_key(out, v, col, indent);
    }
}

fn seq(out: &mut String, a: &[Json], col: usize, indent: usize) {
    for (i, v) in a.iter().enumerate() {
        if i > 0 || !out.ends_with("- ") {
            pad(out, col);
        }
        out.push_str("- ");
        match v {
            Json::Object(m) if !m.is_empty() => map(out, m, col + 2, indent),
            Json::Array(inner) if !inner.is_empty() => seq(out, inner, col + 2, indent),
            scalar => {
                out.push_str(&inline(scalar));
                out.push('\n');
            }
        }
    }
}

fn value_after_key(out: &mut String, v: &Json, col: usize, indent: usize) {
    if !is_block(v) {
        out.push(' ');
        out.push_str(&inline(v));
        out.push('\n');
        return;
    }
    out.push('\n');
    match v {
        Json::Object(m) => map(out, m, col + indent, indent),
        Json::Array(a) => seq(out, a, col + indent, indent),
        _ => {}
    }
}

fn pad(out: &mut String, col: usize) {
    out.extend(std::iter::repeat_n(' ', col));
}

/// Numbers as YAML 1.1 and 1.2 both read them: floats always have a dot and a signed
/// exponent (`1.0e+20`; PyYAML reads `1e20` as a string).
fn number(n: &serde_json::Number) -> String {
    if n.is_f64() {
        let text = n.to_string();
        let (mantissa, exponent) = match text.find(['e', 'E']) {
            Some(i) => (&text[..i], Some(&text[i + 1..])),
            None => (text.as_str(), None),
        };
        let mantissa = if mantissa.contains('.') { mantissa.to_string() } else { format!("{mantissa}.0") };
        return match exponent {
            Some(e) if e.starts_with(['-', '+']) => format!("{mantissa}e{e}"),
            Some(e) => format!("{mantissa}e+{e}"),
            None => mantissa,
        };
    }
    n.to_string()
}

/// A string, plain when it reads back as the same string, quoted otherwise.
pub fn string(s: &str) -> String {
    if needs_double_quotes(s) {
        double_quoted(s)
    } else if needs_quotes(s) {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        s.to_string()
    }
}

fn needs_double_quotes(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() || c == '\u{feff}' || c == '\u{2028}' || c == '\u{2029}' || c == '\u{85}')
}

fn needs_quotes(s: &str) -> bool {
    if s.is_empty() || s.starts_with([' ', '\t']) || s.ends_with([' ', '\t']) {
        return true;
    }
    // Anything our core-schema reader or a YAML 1.1 reader would not read as this string.
    if !matches!(resolve_plain(s), NodeValue::Str(_)) || looks_like_yaml11_scalar(s) {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        // `-`, `?` and `:` start a plain scalar only when followed by a non-space; keep it simple.
        return true;
    }
    s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.contains(['\n', '\r'])
        || s == "<<"
        || s.starts_with("---")
        || s.starts_with("...")
}

/// YAML 1.1 spellings PyYAML resolves to non-strings: booleans, `0777` octal, `1_000`,
/// sexagesimal `1:20`, and float forms the 1.2 core schema lacks.
fn looks_like_yaml11_scalar(s: &str) -> bool {
    const BOOLS: &[&str] =
        &["y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"];
    if BOOLS.contains(&s) || s == "=" {
        return true;
    }
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    !body.is_empty()
        && body.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && body.chars().all(|c| c.is_ascii_hexdigit() || "_:.xXoObB+-eE".contains(c))
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() || matches!(c, '\u{feff}' | '\u{2028}' | '\u{2029}' | '\u{85}') => {
                let code = u32::from(c);
                if code <= 0xff {
                    out.push_str(&format!("\\x{code:02x}"));
                } else {
                    out.push_str(&format!("\\u{code:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
