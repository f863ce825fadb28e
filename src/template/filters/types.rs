//! Type conversions with Ansible's (Python's) leniency: `bool`, `int`, `float`, `string`,
//! plus `mandatory` and `ternary`.

use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Environment, Error, ErrorKind, Value};

use super::fail;
use crate::template::format;

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("bool", to_bool);
    env.add_filter("int", to_int);
    env.add_filter("float", to_float);
    env.add_filter("string", to_string);
    env.add_filter("mandatory", mandatory);
    env.add_filter("ternary", ternary);
    env.add_filter("type_debug", type_debug);
}

/// Ansible's `bool`: `yes`/`on`/`true`/`1` (any case) and the number 1 are true; everything
/// else, including unknown words and `None`, is false.
pub fn to_bool(value: &Value) -> bool {
    match value.kind() {
        ValueKind::Bool => value.is_true(),
        ValueKind::String => {
            matches!(value.as_str().unwrap_or_default().to_lowercase().as_str(), "yes" | "on" | "1" | "true")
        }
        ValueKind::Number => f64::try_from(value.clone()).is_ok_and(|f| f == 1.0),
        _ => false,
    }
}

/// Jinja's `int`: strings are parsed (`'3.7'` gives 3 through float), anything unparsable
/// gives `default` (0). `base` applies to strings.
fn to_int(value: &Value, default: Option<Value>, base: Option<u32>, kwargs: Kwargs) -> Result<Value, Error> {
    let default = match default {
        Some(d) => Some(d),
        None => kwargs.get("default")?,
    };
    let base = match base {
        Some(b) => Some(b),
        None => kwargs.get("base")?,
    };
    kwargs.assert_all_used()?;
    let fallback = default.unwrap_or(Value::from(0));
    Ok(match value.kind() {
        ValueKind::Bool => Value::from(i64::from(value.is_true())),
        ValueKind::Number => match i64::try_from(value.clone()) {
            Ok(i) => Value::from(i),
            Err(_) => match f64::try_from(value.clone()) {
                Ok(f) if f.is_finite() => Value::from(f.trunc() as i64),
                _ => fallback,
            },
        },
        ValueKind::String => {
            let s = value.as_str().unwrap_or_default().trim().replace('_', "");
            let base = base.unwrap_or(10);
            let digits = match base {
                16 => s.trim_start_matches("0x").trim_start_matches("0X"),
                8 => s.trim_start_matches("0o").trim_start_matches("0O"),
                2 => s.trim_start_matches("0b").trim_start_matches("0B"),
                _ => s.as_str(),
            };
            if let Ok(i) = i64::from_str_radix(digits, base) {
                Value::from(i)
            } else if let Ok(f) = s.parse::<f64>() {
                if f.is_finite() { Value::from(f.trunc() as i64) } else { fallback }
            } else {
                fallback
            }
        }
        _ => fallback,
    })
}

/// Jinja's `float`: unparsable input gives `default` (0.0).
fn to_float(value: &Value, default: Option<Value>) -> Value {
    let fallback = default.unwrap_or(Value::from(0.0));
    match value.kind() {
        ValueKind::Bool => Value::from(if value.is_true() { 1.0 } else { 0.0 }),
        ValueKind::Number => f64::try_from(value.clone()).map_or(fallback, Value::from),
        ValueKind::String => {
            value.as_str().unwrap_or_default().trim().parse::<f64>().map_or(fallback, Value::from)
        }
        _ => fallback,
    }
}

/// Python's `str()`: `True`, `None`, `['a', 1]`.
fn to_string(value: &Value) -> Result<Value, Error> {
    Ok(match value.kind() {
        ValueKind::Undefined => return Err(Error::from(ErrorKind::UndefinedError)),
        ValueKind::String => value.clone(),
        ValueKind::None => Value::from("None"),
        _ => Value::from(format::display(value)),
    })
}

/// Fails when the value is undefined, with Ansible's message or the caller's own.
fn mandatory(value: &Value, msg: Option<String>) -> Result<Value, Error> {
    if value.is_undefined() {
        return Err(match msg {
            Some(msg) => fail(msg),
            None => Error::from(ErrorKind::UndefinedError),
        });
    }
    Ok(value.clone())
}

/// `cond | ternary(a, b, none_val)`: `none_val` (when given) for `None`, else by truthiness.
fn ternary(value: &Value, yes: Value, no: Value, none_val: Option<Value>) -> Value {
    match none_val {
        Some(n) if value.is_none() => n,
        _ if value.is_true() => yes,
        _ => no,
    }
}

/// Python type names, as Ansible's `type_debug` prints them.
fn type_debug(value: &Value) -> &'static str {
    match value.kind() {
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number => {
            if value.is_integer() {
                "int"
            } else {
                "float"
            }
        }
        ValueKind::String => "str",
        ValueKind::Seq | ValueKind::Iterable => "list",
        ValueKind::Map => "dict",
        _ => "object",
    }
}

#[cfg(test)]
mod unit {
    use crate::template::filters::{eval, eval_err};
    use serde_json::json;

    #[test]
    fn bool_like_ansible() {
        assert_eq!(
            eval(
                "['no','yes','1','on','off','0','true','False','y','n','foo',1,0,2,1.0,none] | map('bool') | list"
            ),
            json!([
                false, true, true, true, false, false, true, false, false, false, false, true, false, false,
                true, false
            ])
        );
        assert_eq!(eval("'TRUE' | bool"), json!(true));
        assert_eq!(eval("true | bool"), json!(true));
    }

    #[test]
    fn int_like_ansible() {
        assert_eq!(eval("'3.7' | int"), json!(3));
        assert_eq!(eval("'abc' | int"), json!(0));
        assert_eq!(eval("'0x1A' | int"), json!(0));
        assert_eq!(eval("'1A' | int(base=16)"), json!(26));
        assert_eq!(eval("3.9 | int"), json!(3));
        assert_eq!(eval("'x' | int(7)"), json!(7));
        assert_eq!(eval("true | int"), json!(1));
        assert_eq!(eval("' 42 ' | int"), json!(42));
    }

    #[test]
    fn float_like_ansible() {
        assert_eq!(eval("'2.0' | float"), json!(2.0));
        assert_eq!(eval("'zz' | float"), json!(0.0));
        assert_eq!(eval("3 | float"), json!(3.0));
    }

    #[test]
    fn string_like_python() {
        assert_eq!(eval("true | string"), json!("True"));
        assert_eq!(eval("none | string"), json!("None"));
        assert_eq!(eval("1.5 | string"), json!("1.5"));
        assert_eq!(eval("5 | string"), json!("5"));
        assert_eq!(eval("[1, 'a'] | string"), json!("[1, 'a']"));
        assert_eq!(eval("{'a': true} | string"), json!("{'a': True}"));
        assert_eq!(eval("'foo' | string"), json!("foo"));
    }

    #[test]
    fn default_like_ansible() {
        // Pinned against ansible-core 2.19: None stays None unless the second argument is true.
        assert_eq!(eval("none | default('x')"), json!(null));
        assert_eq!(eval("none | default('x', true)"), json!("x"));
        assert_eq!(eval("undef | default('x')"), json!("x"));
        assert_eq!(eval("undef | d('x')"), json!("x"));
        assert_eq!(eval("'' | default('x', true)"), json!("x"));
        assert_eq!(eval("'' | default('x')"), json!(""));
        assert_eq!(eval("'v' | default(none)"), json!("v"));
    }

    #[test]
    fn mandatory_and_ternary() {
        assert_eq!(eval("'foo' | mandatory"), json!("foo"));
        assert_eq!(eval_err("undef | mandatory"), "`undef` is undefined");
        assert_eq!(eval_err("undef | mandatory('set app_port first')"), "set app_port first");
        assert_eq!(eval("true | ternary('a', 'b')"), json!("a"));
        assert_eq!(eval("none | ternary('a', 'b', 'c')"), json!("c"));
        assert_eq!(eval("none | ternary('a', 'b')"), json!("b"));
        assert_eq!(eval("'x' | ternary(1, 2)"), json!(1));
    }

    #[test]
    fn type_debug_names() {
        assert_eq!(
            eval("[1, 1.5, 'a', none, {}, []] | map('type_debug') | list"),
            json!(["int", "float", "str", "NoneType", "dict", "list"])
        );
    }
}
