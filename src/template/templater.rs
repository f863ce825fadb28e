//! The configured minijinja environment and the entry points the engine uses:
//! [`Templater::render_value`] for task arguments, [`Templater::eval_condition`] for `when:`.

use minijinja::value::ValueKind;
use minijinja::{AutoEscape, Environment, ErrorKind, UndefinedBehavior, Value};

use super::convert;
use super::error::{TemplateError, TemplateErrorKind};
use super::file_options::FileOptions;
use super::format;
use super::literals::{close_inline_ifs, keep_backslashes};

/// Ansible's `omit` placeholder: a module argument whose value is this string is dropped.
pub const OMIT: &str = "__omit_place_holder__baton";

/// Owns the minijinja environment with Ansible's filters, tests and settings. Build once per
/// run and share it through an `Arc`.
pub struct Templater {
    env: Environment<'static>,
}

impl Default for Templater {
    fn default() -> Templater {
        Templater::new()
    }
}

impl std::fmt::Debug for Templater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Templater")
    }
}

/// Whether a string holds any Jinja syntax at all; strings without it are never rendered.
pub fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

impl Templater {
    /// An environment set up like Ansible's: strict undefined, `trim_blocks`, trailing newlines
    /// kept (Ansible keeps them for both the template module and inline strings), no HTML
    /// escaping, Python-style printing of booleans, `None` and collections.
    pub fn new() -> Templater {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(false);
        env.set_keep_trailing_newline(true);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_formatter(|out, _state, value| {
            if value.is_undefined() {
                return Err(minijinja::Error::from(ErrorKind::UndefinedError));
            }
            if value.kind() == ValueKind::None {
                // Ansible 2.19 prints `None` as nothing inside a larger string.
                return Ok(());
            }
            out.write_str(&format::display(value)).map_err(minijinja::Error::from)
        });
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_global("omit", OMIT);
        super::filters::register(&mut env);
        super::tests::register(&mut env);
        super::lookups::register(&mut env);
        super::filters::register_fqcn(&mut env);
        Templater { env }
    }

    /// The environment, for callers that need minijinja directly (e.g. `undeclared_variables`).
    pub fn env(&self) -> &Environment<'static> {
        &self.env
    }

    /// Renders a string to a string (the template module's view: always text).
    pub fn render_str(&self, source: &str, ctx: &Value) -> Result<String, TemplateError> {
        if !is_template(source) {
            return Ok(source.to_string());
        }
        let source = close_inline_ifs(source, false);
        let source = keep_backslashes(&source, false);
        self.env
            .render_str(&source, ctx)
            .map_err(|e| self.name_undefined(TemplateError::from_minijinja(&e, &source), &source, ctx, false))
    }

    /// Renders a template file (the `template` module); errors name the file and line, e.g.
    /// ``"`app_port` is undefined (templates/app.conf.j2:3)"``.
    pub fn render_file(&self, name: &str, source: &str, ctx: &Value) -> Result<String, TemplateError> {
        self.render_file_with(name, source, ctx, &FileOptions::default())
    }

    /// [`Templater::render_file`] with the file's own whitespace settings (the template
    /// module's `trim_blocks`, `lstrip_blocks`, a `#jinja2:` header). `newline_sequence` is
    /// the caller's to apply to the result.
    pub fn render_file_with(
        &self,
        name: &str,
        source: &str,
        ctx: &Value,
        opts: &FileOptions,
    ) -> Result<String, TemplateError> {
        let source = close_inline_ifs(source, false);
        let source = keep_backslashes(&source, false);
        let defaults = FileOptions::default();
        let same = opts.trim_blocks == defaults.trim_blocks
            && opts.lstrip_blocks == defaults.lstrip_blocks
            && opts.keep_trailing_newline == defaults.keep_trailing_newline;
        // Other settings are rare: a copy of the environment for them, not a second one kept.
        let own_env;
        let env = if same {
            &self.env
        } else {
            let mut env = self.env.clone();
            env.set_trim_blocks(opts.trim_blocks);
            env.set_lstrip_blocks(opts.lstrip_blocks);
            env.set_keep_trailing_newline(opts.keep_trailing_newline);
            own_env = env;
            &own_env
        };
        let result = env.template_from_named_str(name, &source).and_then(|t| t.render(ctx));
        result.map_err(|e| {
            let line = e.line();
            let err = self.name_undefined(TemplateError::from_minijinja(&e, &source), &source, ctx, false);
            match line {
                Some(line) => err.at(format!("{name}:{}", line + opts.header_lines)),
                None => err.at(name.to_string()),
            }
        })
    }

    /// Renders a string the way Ansible templates a variable or argument: a string that is
    /// exactly one `{{ expr }}` gives the expression's own type (list, dict, int, bool);
    /// anything else gives a string.
    pub fn render_native(&self, source: &str, ctx: &Value) -> Result<Value, TemplateError> {
        if !is_template(source) {
            return Ok(Value::from(source));
        }
        if let Some(expr) = single_expression(source) {
            return self.eval_mj(expr, ctx).map_err(|e| match e.kind {
                TemplateErrorKind::Syntax => {
                    let detail = e.message.rsplit_once("`: ").map_or(e.message.as_str(), |(_, d)| d);
                    TemplateError::syntax(source, detail)
                }
                _ => e,
            });
        }
        // Jinja drops one trailing newline before parsing, so "{{ port }}\n" is a single
        // expression to Ansible and gives the number 8080 (a string result gets its newline
        // back, which render_str keeps anyway).
        if let Some(expr) =
            source.strip_suffix('\n').filter(|s| !s.ends_with('\n')).and_then(single_expression)
        {
            let value = self.eval_mj(expr, ctx)?;
            if value.kind() != ValueKind::String {
                return Ok(value);
            }
        }
        self.render_str(source, ctx).map(Value::from)
    }

    /// Templates every string inside a value (lists and maps recursively, keys too).
    pub fn render_value(
        &self,
        value: &serde_json::Value,
        ctx: &Value,
    ) -> Result<serde_json::Value, TemplateError> {
        Ok(match value {
            serde_json::Value::String(s) if is_template(s) => convert::to_json(&self.render_native(s, ctx)?)
                .map_err(|e| self.name_undefined(e, s, ctx, false))?,
            serde_json::Value::Array(items) => serde_json::Value::Array(
                items.iter().map(|v| self.render_value(v, ctx)).collect::<Result<_, _>>()?,
            ),
            serde_json::Value::Object(map) => {
                let mut out = serde_json::Map::with_capacity(map.len());
                for (k, v) in map {
                    out.insert(self.render_str(k, ctx)?, self.render_value(v, ctx)?);
                }
                serde_json::Value::Object(out)
            }
            other => other.clone(),
        })
    }

    /// Like [`Templater::render_value`] but stays a template value (used by lazy variables,
    /// so a resolved list is not converted twice).
    pub fn render_value_mj(&self, value: &serde_json::Value, ctx: &Value) -> Result<Value, TemplateError> {
        Ok(match value {
            serde_json::Value::String(s) => self.render_native(s, ctx)?,
            serde_json::Value::Array(items) => Value::from(
                items.iter().map(|v| self.render_value_mj(v, ctx)).collect::<Result<Vec<_>, _>>()?,
            ),
            serde_json::Value::Object(map) => {
                let mut out = Vec::with_capacity(map.len());
                for (k, v) in map {
                    out.push((Value::from(self.render_str(k, ctx)?), self.render_value_mj(v, ctx)?));
                }
                Value::from_iter(out)
            }
            other => convert::to_mj(other),
        })
    }

    /// Top-level variable names a value's templates read (globals such as `range` left out),
    /// so a loader can check them before any host is contacted.
    pub fn variables_in(
        &self,
        value: &serde_json::Value,
    ) -> Result<std::collections::BTreeSet<String>, TemplateError> {
        let mut out = std::collections::BTreeSet::new();
        self.collect_variables(value, &mut out)?;
        Ok(out)
    }

    /// Top-level variable names a bare expression (`when:`) reads.
    pub fn variables_in_expr(&self, expr: &str) -> Result<std::collections::BTreeSet<String>, TemplateError> {
        let closed = close_inline_ifs(expr, true);
        let expr = &*keep_backslashes(&closed, true);
        let compiled =
            self.env.compile_expression(expr).map_err(|e| TemplateError::from_minijinja(&e, expr))?;
        Ok(compiled.undeclared_variables(false).into_iter().filter(|n| !self.is_global(n)).collect())
    }

    fn collect_variables(
        &self,
        value: &serde_json::Value,
        out: &mut std::collections::BTreeSet<String>,
    ) -> Result<(), TemplateError> {
        match value {
            serde_json::Value::String(s) if is_template(s) => {
                let closed = close_inline_ifs(s, false);
                let source = keep_backslashes(&closed, false);
                let t = self
                    .env
                    .template_from_str(&source)
                    .map_err(|e| TemplateError::from_minijinja(&e, &source))?;
                out.extend(t.undeclared_variables(false).into_iter().filter(|n| !self.is_global(n)));
            }
            serde_json::Value::Array(items) => {
                for v in items {
                    self.collect_variables(v, out)?;
                }
            }
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    self.collect_variables(&serde_json::Value::String(k.clone()), out)?;
                    self.collect_variables(v, out)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn is_global(&self, name: &str) -> bool {
        self.env.globals().any(|(g, _)| g == name)
    }

    /// Evaluates a bare expression (`x | default(3)`, `groups['web']`) to a JSON value.
    pub fn eval_expr(&self, expr: &str, ctx: &Value) -> Result<serde_json::Value, TemplateError> {
        convert::to_json(&self.eval_mj(expr, ctx)?)
    }

    /// Evaluates a bare expression to a template value; an undefined result is an error
    /// naming the expression.
    pub fn eval_mj(&self, expr: &str, ctx: &Value) -> Result<Value, TemplateError> {
        let closed = close_inline_ifs(expr, true);
        let expr = &*keep_backslashes(&closed, true);
        let compiled =
            self.env.compile_expression(expr).map_err(|e| TemplateError::from_minijinja(&e, expr))?;
        let named = |e: minijinja::Error| {
            self.name_undefined(TemplateError::from_minijinja(&e, expr), expr, ctx, true)
        };
        let value = compiled.eval(ctx).map_err(named)?;
        let value = convert::check(value).map_err(named)?;
        if value.is_undefined() {
            return Err(self.name_undefined(TemplateError::undefined(expr.trim()), expr, ctx, true));
        }
        Ok(value)
    }

    /// When minijinja's span covers more than the undefined name (`if port > 1`), finds the
    /// first variable of the template that really is undefined in `ctx`.
    fn name_undefined(&self, err: TemplateError, source: &str, ctx: &Value, expr: bool) -> TemplateError {
        // An operator applied to an undefined value (`i + nope`) fails as a type error.
        let name = match &err.kind {
            TemplateErrorKind::Undefined(name) => name.clone(),
            TemplateErrorKind::Other if err.message.contains("undefined") => String::new(),
            _ => return err,
        };
        let name = &name;
        if !err.via.is_empty() {
            return err;
        }
        if is_path(name) {
            // `x.y.z` where `x` exists: name the first missing step (`x.y`).
            return match first_undefined(ctx, name) {
                Some(missing) if missing != *name && !name.contains('[') => {
                    TemplateError::undefined(&missing)
                }
                _ => err,
            };
        }
        let names = if expr {
            self.env.compile_expression(source).map(|e| e.undeclared_variables(true)).unwrap_or_default()
        } else {
            self.env.template_from_str(source).map(|t| t.undeclared_variables(true)).unwrap_or_default()
        };
        let mut names: Vec<String> = names.into_iter().collect();
        names.sort_by_key(|n| source.find(n.as_str()).unwrap_or(usize::MAX));
        for n in names {
            if self.is_global(n.split('.').next().unwrap_or(&n)) {
                continue;
            }
            if let Some(missing) = first_undefined(ctx, &n) {
                return TemplateError::undefined(&missing);
            }
        }
        err
    }

    /// A `when:` condition: a bare expression (`x == 1`), a template (`"{{ x }}"`, whose result
    /// is judged again), or a boolean-looking string (`yes`, `False`).
    pub fn eval_condition(&self, cond: &str, ctx: &Value) -> Result<bool, TemplateError> {
        let trimmed = cond.trim();
        if trimmed.is_empty() {
            return Ok(true);
        }
        let value = if is_template(trimmed) {
            self.render_native(trimmed, ctx)?
        } else {
            self.eval_mj(trimmed, ctx)?
        };
        Ok(match value.as_str() {
            Some(s) if is_template(cond) => match parse_bool_word(s) {
                Some(b) => b,
                None if s.trim().is_empty() => false,
                None => self.eval_mj(s, ctx)?.is_true(),
            },
            _ => value.is_true(),
        })
    }

    /// `when:` as written in YAML: a bool, a string, or a list whose items must all hold.
    pub fn eval_when(&self, cond: &serde_json::Value, ctx: &Value) -> Result<bool, TemplateError> {
        match cond {
            serde_json::Value::Null => Ok(true),
            serde_json::Value::Bool(b) => Ok(*b),
            serde_json::Value::Number(n) => Ok(n.as_f64().is_some_and(|f| f != 0.0)),
            serde_json::Value::String(s) => self.eval_condition(s, ctx),
            serde_json::Value::Array(items) => {
                for item in items {
                    if !self.eval_when(item, ctx)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            serde_json::Value::Object(_) => Err(TemplateError::other("a condition cannot be a mapping")),
        }
    }
}

/// Ansible's boolean words (`yes`, `on`, `true`, `1` and their opposites), case-insensitive.
pub fn parse_bool_word(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "yes" | "on" | "true" | "1" | "y" | "t" => Some(true),
        "no" | "off" | "false" | "0" | "n" | "f" | "" => Some(false),
        _ => None,
    }
}

/// Whether an expression is a plain variable path (`a`, `a.b`, `a['b']`).
fn is_path(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || "_.[]'\"".contains(c))
}

/// The shortest prefix of a dotted path that is undefined in `ctx` (`a` if `a` is missing,
/// `a.b` if `a` exists without `b`).
fn first_undefined(ctx: &Value, path: &str) -> Option<String> {
    let mut current = ctx.clone();
    let mut seen = Vec::new();
    for part in path.split('.') {
        seen.push(part);
        current = current.get_attr(part).unwrap_or(Value::UNDEFINED);
        if current.is_undefined() {
            return Some(seen.join("."));
        }
    }
    None
}

/// The inside of a string that is exactly one `{{ ... }}` block, if it is.
fn single_expression(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("{{")?.strip_suffix("}}")?;
    if inner.contains("{{") || inner.contains("}}") || inner.contains("{%") || inner.contains("{#") {
        return None;
    }
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    Some(inner)
}

#[cfg(test)]
mod unit {
    use super::*;
    use serde_json::json;

    fn ctx() -> Value {
        Value::from_serialize(json!({
            "port": 8080, "name": "web", "flag": true, "list": [1, 2], "none": null,
            "m": {"a": 1}, "yes_word": "yes",
        }))
    }

    #[test]
    fn plain_strings_untouched() {
        let t = Templater::new();
        assert_eq!(t.render_value(&json!("just text {x}"), &ctx()).unwrap(), json!("just text {x}"));
    }

    #[test]
    fn single_expression_keeps_type() {
        let t = Templater::new();
        assert_eq!(t.render_value(&json!("{{ port }}"), &ctx()).unwrap(), json!(8080));
        assert_eq!(t.render_value(&json!("{{ list }}"), &ctx()).unwrap(), json!([1, 2]));
        assert_eq!(t.render_value(&json!("{{ m }}"), &ctx()).unwrap(), json!({"a": 1}));
        assert_eq!(t.render_value(&json!("{{ flag }}"), &ctx()).unwrap(), json!(true));
        assert_eq!(t.render_value(&json!("{{ none }}"), &ctx()).unwrap(), json!(null));
        assert_eq!(t.render_value(&json!("{{- port -}}"), &ctx()).unwrap(), json!(8080));
    }

    #[test]
    fn one_trailing_newline_does_not_make_a_string() {
        // ansible-core 2.19: `"{{ port }}\n"` is the int 8080 (Jinja drops one trailing newline).
        let t = Templater::new();
        assert_eq!(t.render_value(&json!("{{ port }}\n"), &ctx()).unwrap(), json!(8080));
        assert_eq!(t.render_value(&json!("{{ port }}\n\n"), &ctx()).unwrap(), json!("8080\n\n"));
    }

    #[test]
    fn mixed_strings_are_strings() {
        let t = Templater::new();
        assert_eq!(t.render_value(&json!("{{ port }} "), &ctx()).unwrap(), json!("8080 "));
        assert_eq!(t.render_value(&json!("{{ port }}{{ port }}"), &ctx()).unwrap(), json!("80808080"));
        assert_eq!(
            t.render_value(&json!("a {{ flag }} {{ none }} {{ list }}"), &ctx()).unwrap(),
            json!("a True  [1, 2]")
        );
    }

    #[test]
    fn inline_if_without_else_prints_nothing() {
        // Pinned against ansible-core 2.19: `a{{ 'x' if false }}b` gives `ab`.
        let t = Templater::new();
        assert_eq!(t.render_value(&json!("a{{ 'x' if not flag }}b"), &ctx()).unwrap(), json!("ab"));
        assert_eq!(t.render_value(&json!("{{ '--force' if flag }}"), &ctx()).unwrap(), json!("--force"));
        assert_eq!(
            t.render_value(&json!("x{{ missing if flag }}"), &ctx()).unwrap_err().undefined_name(),
            Some("missing")
        );
    }

    #[test]
    fn nested_values_and_keys() {
        let t = Templater::new();
        let v = json!({"{{ name }}_port": ["{{ port }}", {"x": "{{ name }}.example"}], "n": 3});
        assert_eq!(
            t.render_value(&v, &ctx()).unwrap(),
            json!({"web_port": [8080, {"x": "web.example"}], "n": 3})
        );
    }

    #[test]
    fn undefined_is_named() {
        let t = Templater::new();
        let e = t.render_value(&json!("{{ app_port }}"), &ctx()).unwrap_err();
        assert_eq!(e.to_string(), "`app_port` is undefined");
        let e = t.render_value(&json!("port={{ app_port }}"), &ctx()).unwrap_err();
        assert_eq!(e.to_string(), "`app_port` is undefined");
        let e = t.render_str("{% if app_port > 1 %}x{% endif %}", &ctx()).unwrap_err();
        assert_eq!(e.undefined_name(), Some("app_port"), "{e}");
    }

    #[test]
    fn raw_blocks_render_verbatim() {
        let t = Templater::new();
        assert_eq!(
            t.render_str(r"{% raw %}{{ '\d' if x }}{% endraw %}", &ctx()).unwrap(),
            r"{{ '\d' if x }}"
        );
    }

    #[test]
    fn variables_used_by_templates() {
        let t = Templater::new();
        let v = json!({"a": "{{ x }}/{{ y.z }}", "b": ["{% for i in range(n) %}{{ i }}{% endfor %}"], "{{ k }}": 1, "c": "plain"});
        let names: Vec<String> = t.variables_in(&v).unwrap().into_iter().collect();
        assert_eq!(names, ["k", "n", "x", "y"]);
        let names: Vec<String> =
            t.variables_in_expr("result is failed and tries | int < 3").unwrap().into_iter().collect();
        assert_eq!(names, ["result", "tries"]);
    }

    #[test]
    fn other_errors_are_worded_for_users() {
        let t = Templater::new();
        let err = |s: &str| t.render_value(&json!(s), &ctx()).unwrap_err().to_string();
        assert_eq!(
            err("{{ port | }}"),
            "invalid template `{{ port | }}`: unexpected end of input, expected identifier"
        );
        assert!(
            err("{% if port %}").starts_with("invalid template `{% if port %}`: unexpected end of input")
        );
        assert_eq!(err("{{ port | nofilter }}"), "unknown filter `nofilter`");
        assert_eq!(err("{{ port is notest }}"), "unknown test `notest`");
    }

    #[test]
    fn globals_are_not_blamed() {
        let t = Templater::new();
        let e = t.render_str("{% for i in range(2) %}{{ i + nope }}{% endfor %}", &ctx()).unwrap_err();
        assert_eq!(e.undefined_name(), Some("nope"), "{e}");
    }

    #[test]
    fn trailing_newline_kept_and_blocks_trimmed() {
        let t = Templater::new();
        assert_eq!(t.render_str("{% if flag %}\nyes\n{% endif %}\n", &ctx()).unwrap(), "yes\n");
        assert_eq!(t.render_str("{{ name }}\n", &ctx()).unwrap(), "web\n");
    }

    #[test]
    fn a_file_may_keep_its_block_lines_strip_their_indent_or_drop_its_last_newline() {
        let t = Templater::new();
        let src = "a\n  {% if flag %}\n  b\n  {% endif %}\n";
        let with = |trim_blocks, lstrip_blocks, keep_trailing_newline| {
            let opts =
                FileOptions { trim_blocks, lstrip_blocks, keep_trailing_newline, ..FileOptions::default() };
            t.render_file_with("a.j2", src, &ctx(), &opts).unwrap()
        };
        assert_eq!(with(true, false, true), "a\n    b\n  ");
        assert_eq!(with(true, true, true), "a\n  b\n");
        assert_eq!(with(false, false, true), "a\n  \n  b\n  \n");
        assert_eq!(with(false, true, true), "a\n\n  b\n\n");
        assert_eq!(with(false, true, false), "a\n\n  b\n");
        // The shared environment is left as it was.
        assert_eq!(t.render_file("a.j2", src, &ctx()).unwrap(), "a\n    b\n  ");
    }

    #[test]
    fn template_files_name_the_line() {
        let t = Templater::new();
        let src = "port={{ port }}\n{% for i in list %}\n{{ i }}\n{% endfor %}\nname={{ nope }}\n";
        let e = t.render_file("app.conf.j2", src, &ctx()).unwrap_err();
        assert_eq!(e.to_string(), "`nope` is undefined (app.conf.j2:5)");
        assert_eq!(
            t.render_file("a.j2", "{{ port }}\n{% for i in list %}\n{{ i }}\n{% endfor %}\n", &ctx())
                .unwrap(),
            "8080\n1\n2\n"
        );
    }

    #[test]
    fn conditions() {
        let t = Templater::new();
        assert!(t.eval_condition("port == 8080", &ctx()).unwrap());
        assert!(t.eval_condition("{{ flag }}", &ctx()).unwrap());
        assert!(t.eval_condition("{{ yes_word }}", &ctx()).unwrap());
        assert!(!t.eval_condition("list | length > 2", &ctx()).unwrap());
        assert!(t.eval_condition("missing is not defined", &ctx()).unwrap());
        assert!(t.eval_condition("missing | default(true)", &ctx()).unwrap());
        assert_eq!(t.eval_condition("missing", &ctx()).unwrap_err().undefined_name(), Some("missing"));
        assert!(t.eval_when(&json!(["flag", "port > 1"]), &ctx()).unwrap());
        assert!(!t.eval_when(&json!(false), &ctx()).unwrap());
    }

    #[test]
    fn python_methods_work() {
        let t = Templater::new();
        assert_eq!(t.eval_expr("'a b'.split()", &ctx()).unwrap(), json!(["a", "b"]));
        assert_eq!(t.eval_expr("'abc'.startswith('a')", &ctx()).unwrap(), json!(true));
        assert_eq!(t.eval_expr("m.items() | list", &ctx()).unwrap(), json!([["a", 1]]));
    }

    #[test]
    fn templater_is_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Templater>();
    }
}
