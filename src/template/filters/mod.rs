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

use minijinja::{Environment, Error, ErrorKind};

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
