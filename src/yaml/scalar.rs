//! How a plain (unquoted) scalar is read: the YAML 1.2 core schema.
//!
//! Unlike PyYAML (YAML 1.1), `yes`/`no`/`on`/`off`/`y`/`n` stay strings here, so a country code
//! `NO` or a flag value `on` is never silently turned into a boolean. Places that expect a
//! boolean accept those spellings through [`parse_bool_str`].

use super::NodeValue;

/// Resolves a plain scalar to null, bool, int, float or string.
pub fn resolve_plain(text: &str) -> NodeValue {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return NodeValue::Null,
        "true" | "True" | "TRUE" => return NodeValue::Bool(true),
        "false" | "False" | "FALSE" => return NodeValue::Bool(false),
        _ => {}
    }
    if let Some(v) = parse_int(text) {
        return v;
    }
    if let Some(f) = parse_float(text) {
        return NodeValue::Float(f);
    }
    NodeValue::Str(text.to_string())
}

/// Decimal (`-12`), hex (`0x1F`) and octal (`0o17`) integers. A decimal too large for `i64`
/// stays a string rather than losing digits.
fn parse_int(text: &str) -> Option<NodeValue> {
    if let Some(hex) = text.strip_prefix("0x") {
        if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Some(
                i64::from_str_radix(hex, 16)
                    .map_or_else(|_| NodeValue::Str(text.to_string()), NodeValue::Int),
            );
        }
        return None;
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if !oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return Some(
                i64::from_str_radix(oct, 8).map_or_else(|_| NodeValue::Str(text.to_string()), NodeValue::Int),
            );
        }
        return None;
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse::<i64>().map_or_else(|_| NodeValue::Str(text.to_string()), NodeValue::Int))
}

/// `1.5`, `-.5`, `1e3`, `2.`, `.inf`, `-.Inf`, `.nan`.
fn parse_float(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let negative = text.starts_with('-');
    match unsigned {
        ".inf" | ".Inf" | ".INF" => return Some(if negative { f64::NEG_INFINITY } else { f64::INFINITY }),
        ".nan" | ".NaN" | ".NAN" if unsigned.len() == text.len() => return Some(f64::NAN),
        _ => {}
    }
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac_part {
        // `.5` and `2.` are floats, a lone `.` is not.
        Some(f) => all_digits(int_part) && all_digits(f) && !(int_part.is_empty() && f.is_empty()),
        // Plain digits are integers (handled before), so without a dot an exponent is needed.
        None => !int_part.is_empty() && all_digits(int_part) && exponent.is_some(),
    };
    if !mantissa_ok {
        return None;
    }
    if let Some(e) = exponent {
        let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
        if digits.is_empty() || !all_digits(digits) {
            return None;
        }
    }
    text.parse::<f64>().ok()
}

/// Ansible's boolean spellings (`yes`/`no`/`on`/`off`/`true`/`false`/`y`/`n`/`t`/`f`/`1`/`0`,
/// any case, as `ansible.module_utils.parsing.convert_bool`), for options that expect a boolean but were given a string.
pub fn parse_bool_str(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "yes" | "on" | "true" | "y" | "1" | "t" => Some(true),
        "no" | "off" | "false" | "n" | "0" | "f" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> NodeValue {
        resolve_plain(s)
    }

    #[test]
    fn nulls_and_bools() {
        for s in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(r(s), NodeValue::Null, "{s}");
        }
        assert_eq!(r("true"), NodeValue::Bool(true));
        assert_eq!(r("FALSE"), NodeValue::Bool(false));
        assert_eq!(r("tRUE"), NodeValue::Str("tRUE".into()));
    }

    #[test]
    fn yaml_11_booleans_stay_strings() {
        for s in ["yes", "no", "on", "off", "y", "n", "NO", "Yes"] {
            assert_eq!(r(s), NodeValue::Str(s.into()), "{s}");
        }
    }

    #[test]
    fn integers() {
        assert_eq!(r("0"), NodeValue::Int(0));
        assert_eq!(r("-12"), NodeValue::Int(-12));
        assert_eq!(r("+7"), NodeValue::Int(7));
        assert_eq!(r("0x1F"), NodeValue::Int(31));
        assert_eq!(r("0o17"), NodeValue::Int(15));
        assert_eq!(r("0x"), NodeValue::Str("0x".into()));
        assert_eq!(r("0o8"), NodeValue::Str("0o8".into()));
        assert_eq!(r("99999999999999999999"), NodeValue::Str("99999999999999999999".into()));
        assert_eq!(r("1_000"), NodeValue::Str("1_000".into()));
    }

    #[test]
    fn floats() {
        assert_eq!(r("1.5"), NodeValue::Float(1.5));
        assert_eq!(r("-.5"), NodeValue::Float(-0.5));
        assert_eq!(r("2."), NodeValue::Float(2.0));
        assert_eq!(r("1e3"), NodeValue::Float(1000.0));
        assert_eq!(r("1.0e-2"), NodeValue::Float(0.01));
        assert_eq!(r(".inf"), NodeValue::Float(f64::INFINITY));
        assert_eq!(r("-.Inf"), NodeValue::Float(f64::NEG_INFINITY));
        assert!(matches!(r(".nan"), NodeValue::Float(f) if f.is_nan()));
        for s in [".", "-.", "1e", "e3", "1.2.3", "-.nan", "1.5x", "inf", "nan"] {
            assert_eq!(r(s), NodeValue::Str(s.into()), "{s}");
        }
    }

    #[test]
    fn ansible_boolean_spellings() {
        for s in ["yes", "YES", "on", "true", "True", "y", "1"] {
            assert_eq!(parse_bool_str(s), Some(true), "{s}");
        }
        for s in ["no", "Off", "false", "N", "0"] {
            assert_eq!(parse_bool_str(s), Some(false), "{s}");
        }
        assert_eq!(parse_bool_str("maybe"), None);
    }
}
