//! Ansible's Jinja tests (`x is version('1.2', '>=')`, `result is failed`, ...), added to
//! minijinja's own (`defined`, `none`, `string`, `mapping`, `in`, `eq`, ...).

use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Environment, Error, Value};

use super::filters::fail;
use super::filters::regex::build;
use super::version;

pub fn register(env: &mut Environment<'static>) {
    env.add_test("sequence", |v: &Value| {
        matches!(v.kind(), ValueKind::String | ValueKind::Seq | ValueKind::Map)
    });
    env.add_test("truthy", |v: &Value| v.is_true());
    env.add_test("falsy", |v: &Value| !v.is_true());
    env.add_test("match", |v: &str, p: &str, k: Kwargs| regex_test(v, p, k, "match"));
    env.add_test("search", |v: &str, p: &str, k: Kwargs| regex_test(v, p, k, "search"));
    env.add_test("regex", regex_kind_test);
    env.add_test("contains", |seq: &Value, item: &Value| {
        seq.try_iter().is_ok_and(|mut it| it.any(|x| &x == item))
    });
    env.add_test("version", version_test);
    env.add_test("version_compare", version_test);
    env.add_test("success", |r: &Value| !flag(r, "failed"));
    env.add_test("succeeded", |r: &Value| !flag(r, "failed"));
    env.add_test("failed", |r: &Value| flag(r, "failed"));
    env.add_test("failure", |r: &Value| flag(r, "failed"));
    env.add_test("changed", |r: &Value| flag(r, "changed"));
    env.add_test("change", |r: &Value| flag(r, "changed"));
    env.add_test("skipped", |r: &Value| flag(r, "skipped"));
    env.add_test("skip", |r: &Value| flag(r, "skipped"));
    env.add_test("unreachable", |r: &Value| flag(r, "unreachable"));
    env.add_test("abs", |p: &str| p.starts_with('/'));
    env.add_test("exists", |p: &str| std::path::Path::new(p).exists());
    env.add_test("directory", |p: &str| std::path::Path::new(p).is_dir());
    env.add_test("file", |p: &str| std::path::Path::new(p).is_file());
    env.add_test("subset", |a: &Value, b: &Value| all_in(a, b));
    env.add_test("superset", |a: &Value, b: &Value| all_in(b, a));
    env.add_test("any", |v: &Value| v.try_iter().is_ok_and(|mut it| it.any(|x| x.is_true())));
    env.add_test("all", |v: &Value| v.try_iter().is_ok_and(|mut it| it.all(|x| x.is_true())));
}

/// A registered result's flag (`failed`, `changed`, `skipped`), false when absent.
fn flag(result: &Value, name: &str) -> bool {
    result.kind() == ValueKind::Map && result.get_attr(name).is_ok_and(|v| v.is_true())
}

fn all_in(a: &Value, b: &Value) -> bool {
    let Ok(bs) = b.try_iter() else { return false };
    let bs: Vec<Value> = bs.collect();
    a.try_iter().is_ok_and(|mut it| it.all(|x| bs.contains(&x)))
}

/// `match` is anchored at the start (Python's `re.match`), `search` anywhere.
fn regex_test(value: &str, pattern: &str, kwargs: Kwargs, kind: &str) -> Result<bool, Error> {
    let ignorecase: Option<bool> = kwargs.get("ignorecase")?;
    let multiline: Option<bool> = kwargs.get("multiline")?;
    kwargs.assert_all_used()?;
    let re = build(pattern, ignorecase.unwrap_or(false), multiline.unwrap_or(false))?;
    Ok(match kind {
        "match" => {
            re.find(value).is_some_and(|m| m.start() == 0)
                || re.find_at(value, 0).is_some_and(|m| m.start() == 0)
        }
        _ => re.is_match(value),
    })
}

/// `x is regex(p, match_type='search'|'match'|'fullmatch')`; `search` by default, as Ansible.
fn regex_kind_test(value: &str, pattern: &str, kwargs: Kwargs) -> Result<bool, Error> {
    let match_type: Option<String> = kwargs.get("match_type")?;
    let ignorecase: Option<bool> = kwargs.get("ignorecase")?;
    let multiline: Option<bool> = kwargs.get("multiline")?;
    kwargs.assert_all_used()?;
    let (i, m) = (ignorecase.unwrap_or(false), multiline.unwrap_or(false));
    match match_type.as_deref().unwrap_or("search") {
        "search" => Ok(build(pattern, i, m)?.is_match(value)),
        "match" => Ok(build(&format!(r"\A(?:{pattern})"), i, m)?.is_match(value)),
        "fullmatch" => Ok(build(&format!(r"\A(?:{pattern})\z"), i, m)?.is_match(value)),
        other => Err(fail(format!("unknown match_type `{other}`"))),
    }
}

/// `v is version('1.2', '>=', strict=false, version_type='loose')`.
fn version_test(value: &Value, other: &Value, op: Option<&str>, kwargs: Kwargs) -> Result<bool, Error> {
    let strict: Option<bool> = kwargs.get("strict")?;
    let version_type: Option<String> = kwargs.get("version_type")?;
    kwargs.assert_all_used()?;
    let (a, b) = (version_text(value), version_text(other));
    let scheme = match (version_type.as_deref(), strict) {
        (Some(t), _) => t.to_string(),
        (None, Some(true)) => "strict".to_string(),
        _ => "loose".to_string(),
    };
    let ord = match scheme.as_str() {
        "loose" => version::compare_loose(&a, &b),
        "strict" => version::compare_strict(&a, &b),
        other => return Err(fail(format!("unsupported version_type `{other}` (loose or strict)"))),
    }
    .map_err(fail)?;
    version::apply_operator(op.unwrap_or("eq"), ord).map_err(fail)
}

fn version_text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

#[cfg(test)]
mod unit {
    use crate::template::filters::{eval, eval_err};
    use serde_json::json;

    #[test]
    fn version_operators() {
        assert_eq!(eval("'1.2.10' is version('1.2.9', '>')"), json!(true));
        assert_eq!(eval("'1.0a' is version('1.0', 'gt')"), json!(true));
        assert_eq!(eval("'1.2' is version('1.2.0', '==')"), json!(false));
        assert_eq!(eval("'1.2' is version('1.2.0', '==', strict=true)"), json!(true));
        assert_eq!(eval("'1.2' is version('1.10', '<')"), json!(true));
        assert_eq!(eval("'2.0' is version('1.9', 'ge')"), json!(true));
        assert_eq!(eval("'2.0' is version_compare('2.0')"), json!(true));
        assert_eq!(eval("'2.0' is version('2.0', 'ne')"), json!(false));
        assert!(eval_err("'a' is version('1.10', '<')").contains("cannot compare"));
        assert!(eval_err("'1' is version('1', '~')").contains("`~`"));
    }

    #[test]
    fn regex_tests() {
        assert_eq!(eval("'x' is match('x')"), json!(true));
        assert_eq!(eval("'yx' is match('x')"), json!(false));
        assert_eq!(eval("'yx' is search('x')"), json!(true));
        assert_eq!(eval("'abc' is regex('b')"), json!(true));
        assert_eq!(eval("'abc' is regex('b', match_type='match')"), json!(false));
        assert_eq!(eval("'abc' is regex('a.c', match_type='fullmatch')"), json!(true));
        assert_eq!(eval("'ABC' is search('b', ignorecase=true)"), json!(true));
    }

    #[test]
    fn result_tests() {
        assert_eq!(eval("{'failed': false, 'changed': true} is changed"), json!(true));
        assert_eq!(eval("{'failed': false, 'changed': true} is success"), json!(true));
        assert_eq!(eval("{'failed': true} is failed"), json!(true));
        assert_eq!(eval("{'skipped': true} is skipped"), json!(true));
        assert_eq!(eval("{} is skipped"), json!(false));
        assert_eq!(eval("{'failed': true} is succeeded"), json!(false));
    }

    #[test]
    fn type_and_membership_tests() {
        assert_eq!(eval("5 is number"), json!(true));
        assert_eq!(eval("'x' is string"), json!(true));
        assert_eq!(eval("{} is mapping"), json!(true));
        assert_eq!(eval("'x' is iterable"), json!(true));
        assert_eq!(eval("'x' is sequence"), json!(true));
        assert_eq!(eval("true is boolean"), json!(true));
        assert_eq!(eval("1 is integer"), json!(true));
        assert_eq!(eval("1.0 is float"), json!(true));
        assert_eq!(eval("0 is falsy"), json!(true));
        assert_eq!(eval("'a' is truthy"), json!(true));
        assert_eq!(eval("none is none"), json!(true));
        assert_eq!(eval("undef is undefined"), json!(true));
        assert_eq!(eval("undef is defined"), json!(false));
        assert_eq!(eval("1 is in([1,2])"), json!(true));
        assert_eq!(eval("[1,2] is contains(1)"), json!(true));
        assert_eq!(eval("[1] is subset([1,2])"), json!(true));
        assert_eq!(eval("[1,2] is superset([2])"), json!(true));
        assert_eq!(eval("'/etc' is abs"), json!(true));
        assert_eq!(eval("[true, false] is any"), json!(true));
        assert_eq!(eval("[true, false] is all"), json!(false));
    }
}
