//! Regular-expression filters with Python's conventions: `regex_replace` understands `\1` and
//! `\g<name>` in the replacement, `regex_search` returns the match or the requested groups,
//! `regex_findall` returns groups like `re.findall`. Patterns use Rust's `regex` syntax, which
//! covers Python's except lookaround and backreferences inside the pattern.

use minijinja::value::{Kwargs, Rest};
use minijinja::{Environment, Error, Value};
use regex::{Regex, RegexBuilder};

use super::fail;

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("regex_search", regex_search);
    env.add_filter("regex_findall", regex_findall);
    env.add_filter("regex_escape", |s: &str| regex::escape(s));
}

/// Compiles a pattern with Ansible's `ignorecase` / `multiline` flags.
pub(crate) fn build(pattern: &str, ignorecase: bool, multiline: bool) -> Result<Regex, Error> {
    RegexBuilder::new(pattern)
        .case_insensitive(ignorecase)
        .multi_line(multiline)
        .build()
        .map_err(|e| fail(format!("invalid regular expression `{pattern}`: {e}")))
}

fn flags(kwargs: &Kwargs) -> Result<(bool, bool), Error> {
    let ignorecase: Option<bool> = kwargs.get("ignorecase")?;
    let multiline: Option<bool> = kwargs.get("multiline")?;
    Ok((ignorecase.unwrap_or(false), multiline.unwrap_or(false)))
}

/// Python `re.sub` replacement syntax (`\1`, `\g<1>`, `\g<name>`, `\n`) to Rust's (`${1}`).
pub fn python_replacement(repl: &str) -> String {
    let mut out = String::with_capacity(repl.len());
    let mut chars = repl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    let mut num = String::new();
                    while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                        num.push(d);
                        chars.next();
                        if num.len() == 2 {
                            break;
                        }
                    }
                    out.push_str(&format!("${{{num}}}"));
                }
                Some('g') => {
                    chars.next();
                    if chars.peek() == Some(&'<') {
                        chars.next();
                        let name: String = chars.by_ref().take_while(|&c| c != '>').collect();
                        out.push_str(&format!("${{{name}}}"));
                    } else {
                        out.push_str("\\g");
                    }
                }
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some('t') => {
                    chars.next();
                    out.push('\t');
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    out
}

/// `regex_replace(pattern, replacement='', ignorecase=False, multiline=False, count=0)`.
fn regex_replace(
    value: &Value,
    pattern: &str,
    replacement: Option<&str>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let (ignorecase, multiline) = flags(&kwargs)?;
    let count: Option<usize> = kwargs.get("count")?;
    let mandatory_count: Option<usize> = kwargs.get("mandatory_count")?;
    kwargs.assert_all_used()?;
    let text = value.as_str().map_or_else(|| crate::template::format::display(value), str::to_string);
    let re = build(pattern, ignorecase, multiline)?;
    let found = re.find_iter(&text).count();
    if let Some(n) = mandatory_count.filter(|n| *n > 0)
        && found != n
    {
        return Err(fail(format!("regex_replace: `{pattern}` matched {found} times, expected {n}")));
    }
    let repl = python_replacement(replacement.unwrap_or(""));
    Ok(re.replacen(&text, count.unwrap_or(0), repl.as_str()).into_owned())
}

/// `regex_search(pattern, '\\1', '\\g<name>', ignorecase=, multiline=)`: the matched text, or
/// a list of the requested groups; `None` when nothing matches.
fn regex_search(value: &str, pattern: &str, groups: Rest<String>, kwargs: Kwargs) -> Result<Value, Error> {
    let (ignorecase, multiline) = flags(&kwargs)?;
    kwargs.assert_all_used()?;
    let re = build(pattern, ignorecase, multiline)?;
    let Some(caps) = re.captures(value) else { return Ok(Value::from(())) };
    if groups.is_empty() {
        return Ok(Value::from(caps.get(0).map_or("", |m| m.as_str())));
    }
    let mut out = Vec::new();
    for g in groups.iter() {
        let m = if let Some(name) = g.strip_prefix("\\g<").and_then(|s| s.strip_suffix('>')) {
            match name.parse::<usize>() {
                Ok(i) => caps.get(i),
                Err(_) => caps.name(name),
            }
        } else if let Some(num) = g.strip_prefix('\\').and_then(|s| s.parse::<usize>().ok()) {
            caps.get(num)
        } else {
            return Err(fail(format!("regex_search: unknown argument `{g}` (use `\\\\1` or `\\\\g<name>`)")));
        };
        out.push(m.map_or(Value::from(()), |m| Value::from(m.as_str())));
    }
    Ok(Value::from(out))
}

/// Python's `re.findall`: whole matches without groups, the group with one, lists with more.
fn regex_findall(value: &str, pattern: &str, kwargs: Kwargs) -> Result<Value, Error> {
    let (ignorecase, multiline) = flags(&kwargs)?;
    kwargs.assert_all_used()?;
    let re = build(pattern, ignorecase, multiline)?;
    let groups = re.captures_len() - 1;
    let text = |m: Option<regex::Match<'_>>| Value::from(m.map_or("", |m| m.as_str()));
    let out: Vec<Value> = re
        .captures_iter(value)
        .map(|caps| match groups {
            0 => text(caps.get(0)),
            1 => text(caps.get(1)),
            n => Value::from((1..=n).map(|i| text(caps.get(i))).collect::<Vec<_>>()),
        })
        .collect();
    Ok(Value::from(out))
}

#[cfg(test)]
mod unit {
    use super::python_replacement;
    use crate::template::filters::{eval, eval_err};
    use serde_json::json;

    #[test]
    fn python_backrefs_become_rust() {
        assert_eq!(python_replacement(r"<\1>"), "<${1}>");
        assert_eq!(python_replacement(r"\g<name>-\g<2>"), "${name}-${2}");
        assert_eq!(python_replacement("cost $5"), "cost $$5");
        assert_eq!(python_replacement(r"a\nb"), "a\nb");
    }

    #[test]
    fn regex_replace_like_python() {
        assert_eq!(eval(r"'aXbXc' | regex_replace('(X)', '<\1>')"), json!("a<X>b<X>c"));
        assert_eq!(eval(r"'x' | regex_replace('(?P<n>x)', '[\g<n>]')"), json!("[x]"));
        assert_eq!(eval("'ab' | regex_replace('a', '$')"), json!("$b"));
        assert_eq!(eval("'aaa' | regex_replace('a', 'b', count=2)"), json!("bba"));
        assert_eq!(eval("'ABC' | regex_replace('b', 'x', ignorecase=true)"), json!("AxC"));
        assert_eq!(eval("'a\nb' | regex_replace('^', '# ', multiline=true)"), json!("# a\n# b"));
        assert_eq!(eval("'abc' | regex_replace('b')"), json!("ac"));
        assert!(eval_err("'a' | regex_replace('(', 'x')").contains("invalid regular expression"));
    }

    #[test]
    fn regex_search_like_ansible() {
        assert_eq!(eval("'abc' | regex_search('b.')"), json!("bc"));
        assert_eq!(eval("'abc' | regex_search('z')"), json!(null));
        assert_eq!(eval(r"'abc' | regex_search('b(c)', '\1')"), json!(["c"]));
        assert_eq!(eval(r"'ab' | regex_search('(?P<n>b)', '\g<n>')"), json!(["b"]));
        assert_eq!(eval(r"'abab' | regex_search('a(b)', '\1', '\0')"), json!(["b", "ab"]));
        assert_eq!(eval("'ABC' | regex_search('b', ignorecase=true)"), json!("B"));
        assert!(eval_err("'abc' | regex_search('b', 'c')").contains("unknown argument"));
    }

    #[test]
    fn regex_findall_like_python() {
        assert_eq!(eval("'aXbXc' | regex_findall('X.')"), json!(["Xb", "Xc"]));
        assert_eq!(eval("'aXbXc' | regex_findall('X(.)')"), json!(["b", "c"]));
        assert_eq!(eval("'a1b2' | regex_findall('([a-z])(\\d)')"), json!([["a", "1"], ["b", "2"]]));
        assert_eq!(eval("'a.b' | regex_escape"), json!("a\\.b"));
    }
}
