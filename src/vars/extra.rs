//! `-e` / `--extra-vars` values: `k=v k2='a b'` (values stay strings, as in Ansible),
//! `@vars.yml` / `@vars.json` files, and inline JSON or YAML mappings.

use std::path::Path;

use crate::source::{SourceError, SourceFile, SourceLoc};

use super::layers::VarMap;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ExtraVarsError {
    #[error("cannot read extra vars file `{path}`")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Parse(Box<SourceError>),
    #[error("extra vars in `{path}` must be a mapping of variable names to values")]
    NotAMapping { path: String },
    #[error("cannot split extra vars `{0}`: unbalanced quotes")]
    Quotes(String),
    #[error("extra var `{0}` is not `name=value`")]
    NotKeyValue(String),
}

/// Parses every `-e` argument, later ones overriding earlier ones.
pub fn parse_extra_all<S: AsRef<str>>(args: &[S], base_dir: &Path) -> Result<VarMap, ExtraVarsError> {
    let mut out = VarMap::new();
    for a in args {
        out.extend(parse_extra(a.as_ref(), base_dir)?);
    }
    Ok(out)
}

/// Parses one `-e` argument. `@file` paths are relative to `base_dir` (the current directory).
pub fn parse_extra(arg: &str, base_dir: &Path) -> Result<VarMap, ExtraVarsError> {
    let trimmed = arg.trim();
    if let Some(path) = trimmed.strip_prefix('@') {
        let path = base_dir.join(path);
        let file = SourceFile::read(&path)
            .map_err(|source| ExtraVarsError::Read { path: path.display().to_string(), source })?;
        return mapping_of(&file);
    }
    if trimmed.starts_with('{') || trimmed.starts_with("---") {
        let file = SourceFile::new("<extra vars>", trimmed.to_string());
        return mapping_of(&file);
    }
    key_values(trimmed)
}

/// `k=v k2='a b'`, split like a shell line; every value is a string.
fn key_values(text: &str) -> Result<VarMap, ExtraVarsError> {
    let words = shlex::split(text).ok_or_else(|| ExtraVarsError::Quotes(text.to_string()))?;
    let mut out = VarMap::new();
    for w in words {
        let Some((k, v)) = w.split_once('=') else {
            return Err(ExtraVarsError::NotKeyValue(w));
        };
        if k.is_empty() {
            return Err(ExtraVarsError::NotKeyValue(w));
        }
        out.insert(k.to_string(), serde_json::Value::String(v.to_string()));
    }
    Ok(out)
}

fn mapping_of(file: &std::sync::Arc<SourceFile>) -> Result<VarMap, ExtraVarsError> {
    let value = parse_document(file)?;
    match value {
        serde_json::Value::Object(m) => Ok(m.into_iter().collect()),
        serde_json::Value::Null => Ok(VarMap::new()),
        _ => Err(ExtraVarsError::NotAMapping { path: file.name.clone() }),
    }
}

/// JSON or YAML text to a value, errors pointing at `file:line:col`.
fn parse_document(file: &std::sync::Arc<SourceFile>) -> Result<serde_json::Value, ExtraVarsError> {
    let text = file.text.trim_start();
    if text.starts_with('{') || text.starts_with('[') {
        return serde_json::from_str(&file.text).map_err(|e| {
            let offset = file.offset_of(e.line(), e.column());
            let loc = SourceLoc::new(file.clone(), offset, 1);
            ExtraVarsError::Parse(Box::new(SourceError::new(
                &loc,
                format!("invalid JSON in extra vars: {e}"),
                "here",
            )))
        });
    }
    crate::template::yaml_text(file).map_err(|e| ExtraVarsError::Parse(Box::new(e)))
}

#[cfg(test)]
mod unit {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_values_stay_strings() {
        let v = parse_extra("a=1 b='x y' c=\"q\" d=", Path::new(".")).unwrap();
        assert_eq!(v["a"], json!("1"));
        assert_eq!(v["b"], json!("x y"));
        assert_eq!(v["c"], json!("q"));
        assert_eq!(v["d"], json!(""));
    }

    #[test]
    fn inline_json() {
        let v = parse_extra(r#"{"port": 8080, "tags": ["a"]}"#, Path::new(".")).unwrap();
        assert_eq!(v["port"], json!(8080));
        assert_eq!(v["tags"], json!(["a"]));
    }

    #[test]
    fn files_by_at() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("v.json"), r#"{"x": true}"#).unwrap();
        std::fs::write(dir.path().join("v.yml"), "y: 2\nname: web\n").unwrap();
        let v = parse_extra_all(&["@v.json", "@v.yml", "y=3"], dir.path()).unwrap();
        assert_eq!(v["x"], json!(true));
        assert_eq!(v["y"], json!("3"));
        assert_eq!(v["name"], json!("web"));
    }

    #[test]
    fn broken_json_file_points_at_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.json"), "{\n  \"a\": 1,\n  oops\n}").unwrap();
        let e = parse_extra("@bad.json", dir.path()).unwrap_err();
        let ExtraVarsError::Parse(se) = &e else { panic!("{e}") };
        assert!(se.location.ends_with("bad.json:3:3"), "{}", se.location);
    }

    #[test]
    fn nested_yaml_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("v.yml"), "app:\n  ports: [80, 443]\n  debug: no\n").unwrap();
        let v = parse_extra("@v.yml", dir.path()).unwrap();
        assert_eq!(v["app"], json!({"ports": [80, 443], "debug": false}));
    }

    #[test]
    fn broken_yaml_file_points_at_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.yml"), "a: 1\nb: [1, 2\nc: 3\n").unwrap();
        let e = parse_extra("@bad.yml", dir.path()).unwrap_err();
        let ExtraVarsError::Parse(se) = &e else { panic!("{e}") };
        assert!(se.location.contains("bad.yml:"), "{}", se.location);
        assert!(!se.location.ends_with("bad.yml:1:1"), "{}", se.location);
    }

    #[test]
    fn errors_are_clear() {
        assert!(matches!(parse_extra("novalue", Path::new(".")), Err(ExtraVarsError::NotKeyValue(_))));
        assert!(matches!(parse_extra("a='x", Path::new(".")), Err(ExtraVarsError::Quotes(_))));
        assert!(matches!(
            parse_extra("@missing.yml", Path::new("/nonexistent")),
            Err(ExtraVarsError::Read { .. })
        ));
    }
}
