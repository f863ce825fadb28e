//! Module arguments: from a `k=v` string (`-a`, or `shell: echo hi chdir=/tmp` in a task) or
//! a mapping, validated against the module's parameter list before anything runs.

use serde_json::{Map, Value};

use super::{ModuleDef, ModuleError, closest};

/// The key Ansible uses for a free-form module's command text.
pub const RAW_PARAMS: &str = "_raw_params";

/// Arguments for one module call, already templated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModuleArgs(pub Map<String, Value>);

impl ModuleArgs {
    /// Parses Ansible's `k=v` syntax. For a free-form module, tokens that are not one of its
    /// own `k=v` parameters stay in the command text (`echo a=b` keeps `a=b`), as Ansible does.
    pub fn parse_kv(def: &ModuleDef, text: &str) -> Result<ModuleArgs, ModuleError> {
        let mut map = Map::new();
        // The command text keeps its own whitespace and newlines (a `shell: |` block), only
        // the module's own `k=v` tokens are taken out of it, as Ansible's join_args does.
        let mut raw = String::new();
        let tokens = split_args(text);
        let offset = |t: &str| t.as_ptr() as usize - text.as_ptr() as usize;
        for (i, token) in tokens.iter().enumerate() {
            match token.split_once('=') {
                Some((key, value)) if is_identifier(key) && (!def.free_form || def.params.contains(&key)) => {
                    map.insert(key.to_string(), Value::String(unquote(value)));
                }
                _ if def.free_form => {
                    let start = offset(token);
                    let end = tokens.get(i + 1).map_or(text.len(), |next| offset(next));
                    raw.push_str(&text[start..end]);
                }
                _ => {
                    return Err(ModuleError::BadArgs {
                        module: def.name.to_string(),
                        message: format!("expected `key=value` arguments, found `{token}`"),
                    });
                }
            }
        }
        let raw = raw.trim_end();
        if !raw.is_empty() {
            map.insert(RAW_PARAMS.to_string(), Value::String(raw.to_string()));
        }
        Ok(ModuleArgs(map))
    }

    /// Checks every key against the module's parameters (with a suggestion for typos).
    pub fn validate(&self, def: &ModuleDef) -> Result<(), ModuleError> {
        for key in self.0.keys() {
            let known = def.params.contains(&key.as_str()) || (def.free_form && key == RAW_PARAMS);
            if !known {
                return Err(ModuleError::UnknownParam {
                    module: def.name.to_string(),
                    param: key.clone(),
                    suggestion: closest(key, def.params.iter().copied()),
                });
            }
        }
        Ok(())
    }

    /// A string parameter; numbers and booleans are accepted and shown as Ansible shows them.
    pub fn str(&self, module: &str, key: &str) -> Result<Option<String>, ModuleError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(if *b { "True" } else { "False" }.to_string())),
            Some(other) => Err(bad(module, key, "a string", other)),
        }
    }

    /// A boolean parameter, in any of Ansible's spellings (`yes`, `on`, `true`, `1`, ...).
    pub fn bool(&self, module: &str, key: &str) -> Result<Option<bool>, ModuleError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v @ Value::String(s)) => {
                parse_bool(s).map(Some).ok_or_else(|| bad(module, key, "a boolean", v))
            }
            Some(v @ Value::Number(n)) => match n.as_i64() {
                Some(0) => Ok(Some(false)),
                Some(1) => Ok(Some(true)),
                _ => Err(bad(module, key, "a boolean", v)),
            },
            Some(other) => Err(bad(module, key, "a boolean", other)),
        }
    }

    /// A list of strings; a single string counts as a one-item list.
    pub fn str_list(&self, module: &str, key: &str) -> Result<Option<Vec<String>>, ModuleError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(vec![s.clone()])),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    other => Err(bad(module, key, "a list of strings", other)),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(other) => Err(bad(module, key, "a list of strings", other)),
        }
    }
}

/// Ansible's boolean spellings, case-insensitive.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "yes" | "on" | "true" | "y" | "t" | "1" => Some(true),
        "no" | "off" | "false" | "n" | "f" | "0" | "" => Some(false),
        _ => None,
    }
}

fn bad(module: &str, key: &str, want: &str, got: &Value) -> ModuleError {
    ModuleError::BadArgs {
        module: module.to_string(),
        message: format!("`{key}` must be {want}, got `{got}`"),
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Splits on whitespace outside quotes and `{{ }}`/`{% %}` blocks, keeping each token's text
/// exactly as written (quotes included), as Ansible's `split_args` does.
pub fn split_args(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut start: Option<usize> = None;
    let mut quote: Option<u8> = None;
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        if quote.is_none() && depth == 0 && b.is_ascii_whitespace() {
            if let Some(s) = start.take() {
                tokens.push(&text[s..i]);
            }
            i += 1;
            continue;
        }
        if start.is_none() {
            start = Some(i);
        }
        match (quote, b) {
            (Some(q), _) if b == q && !escaped(bytes, i) => quote = None,
            (None, b'\'' | b'"') if !escaped(bytes, i) => quote = Some(b),
            (None, b'{') if matches!(next, Some(b'{' | b'%' | b'#')) => {
                depth += 1;
                i += 1;
            }
            (None, b'}' | b'%' | b'#') if next == Some(b'}') && depth > 0 => {
                depth -= 1;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(s) = start {
        tokens.push(&text[s..]);
    }
    tokens
}

fn escaped(bytes: &[u8], i: usize) -> bool {
    let mut n = 0;
    while i > n && bytes[i - n - 1] == b'\\' {
        n += 1;
    }
    n % 2 == 1
}

/// Removes one pair of matching outer quotes, as Ansible's `unquote` does.
pub fn unquote(s: &str) -> String {
    let b = s.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        s[1..s.len() - 1].to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_form_text_keeps_its_newlines() {
        let args =
            ModuleArgs::parse_kv(&crate::modules::shell::MODULE, "if true; then\n  echo a=b\nfi\nchdir=/tmp")
                .unwrap();
        assert_eq!(args.0[RAW_PARAMS], "if true; then\n  echo a=b\nfi");
        assert_eq!(args.0["chdir"], "/tmp");
    }
    use crate::modules::{command, ping};

    #[test]
    fn split_keeps_quoted_and_jinja_tokens_whole() {
        assert_eq!(split_args(r#"echo "a b" 'c d'  e"#), vec!["echo", "\"a b\"", "'c d'", "e"]);
        assert_eq!(split_args("msg={{ a | default('x y') }} z"), vec!["msg={{ a | default('x y') }}", "z"]);
        assert_eq!(split_args(r#"a="x \" y" b"#), vec![r#"a="x \" y""#, "b"]);
    }

    #[test]
    fn free_form_keeps_foreign_kv_in_the_command() {
        let args = ModuleArgs::parse_kv(&command::MODULE, "echo a=b chdir=/tmp creates='/x y'").unwrap();
        assert_eq!(args.0[RAW_PARAMS], "echo a=b");
        assert_eq!(args.0["chdir"], "/tmp");
        assert_eq!(args.0["creates"], "/x y");
    }

    #[test]
    fn non_free_form_rejects_bare_words() {
        let err = ModuleArgs::parse_kv(&ping::MODULE, "hello").unwrap_err();
        assert!(err.to_string().contains("expected `key=value`"), "{err}");
    }

    #[test]
    fn unknown_param_suggests_the_closest() {
        let args = ModuleArgs::parse_kv(&ping::MODULE, "dta=x").unwrap();
        let err = args.validate(&ping::MODULE).unwrap_err();
        assert_eq!(err.to_string(), "module `ping` has no parameter `dta`, did you mean `data`?");
    }

    #[test]
    fn booleans_in_ansible_spellings() {
        for (s, b) in [("yes", true), ("NO", false), ("on", true), ("False", false), ("1", true)] {
            assert_eq!(parse_bool(s), Some(b), "{s}");
        }
        assert_eq!(parse_bool("maybe"), None);
    }
}
