//! Ansible's filters. Where minijinja's built-in already behaves like Ansible (`default`,
//! `join`, `map`, `select`, `sort`, `unique`, `lower`, ...) it is kept; the rest live here,
//! one file per theme. Expected values in the tests were checked against ansible-core 2.19
//! (`Templar.template`), unless a test says it documents a known difference.

pub mod dicts;
pub mod encoding;
pub mod extra;
pub mod hash;
pub mod lists;
pub mod random;
pub mod regex;
pub mod strings;
pub mod types;

use minijinja::value::Rest;
use minijinja::{Environment, Error, ErrorKind, State, Value};

/// Registers every filter Baton adds or overrides.
pub fn register(env: &mut Environment<'static>) {
    env.add_filter("d", minijinja::filters::default);
    types::register(env);
    strings::register(env);
    lists::register(env);
    dicts::register(env);
    encoding::register(env);
    extra::register(env);
    hash::register(env);
    regex::register(env);
    random::register(env);
}

/// Ansible's own filters, also reachable by their full name (`ansible.builtin.to_json`).
const FQCN_FILTERS: &[&str] = &[
    "b64decode",
    "b64encode",
    "basename",
    "bool",
    "checksum",
    "combine",
    "dict2items",
    "difference",
    "dirname",
    "expanduser",
    "extract",
    "flatten",
    "from_json",
    "from_yaml",
    "hash",
    "intersect",
    "items2dict",
    "log",
    "mandatory",
    "md5",
    "path_join",
    "pow",
    "product",
    "quote",
    "random",
    "regex_escape",
    "regex_findall",
    "regex_replace",
    "regex_search",
    "root",
    "sha1",
    "shuffle",
    "split",
    "splitext",
    "subelements",
    "symmetric_difference",
    "ternary",
    "to_json",
    "to_nice_json",
    "to_nice_yaml",
    "to_yaml",
    "type_debug",
    "union",
    "unique",
    "zip",
    "zip_longest",
];

/// Ansible's own tests, also reachable by their full name (`ansible.builtin.version`).
const FQCN_TESTS: &[&str] = &[
    "abs",
    "all",
    "any",
    "change",
    "changed",
    "contains",
    "directory",
    "exists",
    "failed",
    "failure",
    "falsy",
    "file",
    "match",
    "regex",
    "search",
    "skip",
    "skipped",
    "subset",
    "succeeded",
    "success",
    "superset",
    "truthy",
    "unreachable",
    "version",
    "version_compare",
];

/// Registers `ansible.builtin.<name>` aliases that forward to the short names.
pub fn register_fqcn(env: &mut Environment<'static>) {
    for name in FQCN_FILTERS {
        let target = (*name).to_string();
        env.add_filter(format!("ansible.builtin.{name}"), move |state: &State, args: Rest<Value>| {
            state.apply_filter(&target, &args)
        });
    }
    for name in FQCN_TESTS {
        let target = (*name).to_string();
        env.add_test(format!("ansible.builtin.{name}"), move |state: &State, args: Rest<Value>| {
            state.perform_test(&target, &args)
        });
    }
}

/// A filter refusing its input, with a user-facing message.
pub(crate) fn fail(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// Converts a template value to JSON inside a filter.
pub(crate) fn json_of(value: &minijinja::Value) -> Result<serde_json::Value, Error> {
    super::convert::to_json(value).map_err(|e| fail(e.message))
}

/// Test helper: renders one expression with an empty context through a full [`super::Templater`].
#[cfg(test)]
pub(crate) fn eval(expr: &str) -> serde_json::Value {
    let t = super::Templater::new();
    match t.eval_expr(expr, &minijinja::Value::from(())) {
        Ok(v) => v,
        Err(e) => panic!("`{expr}` failed: {e}"),
    }
}

/// Test helper: the error message of an expression that must fail.
#[cfg(test)]
pub(crate) fn eval_err(expr: &str) -> String {
    let t = super::Templater::new();
    match t.eval_expr(expr, &minijinja::Value::from(())) {
        Ok(v) => panic!("`{expr}` should fail, gave {v}"),
        Err(e) => e.to_string(),
    }
}

#[cfg(test)]
mod fqcn {
    use super::eval;
    use serde_json::json;

    #[test]
    fn full_names_forward() {
        assert_eq!(eval("'x' | ansible.builtin.to_json"), json!("\"x\""));
        assert_eq!(eval("{'b': 1} | ansible.builtin.to_nice_json(indent=2)"), json!("{\n  \"b\": 1\n}"));
        assert_eq!(eval("'1.2' is ansible.builtin.version('1.0', '>')"), json!(true));
        assert_eq!(eval("'yes' | ansible.builtin.bool"), json!(true));
    }
}
