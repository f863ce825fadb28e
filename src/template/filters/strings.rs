//! String filters Ansible adds or defines differently from minijinja: `capitalize`, `quote`,
//! `basename`, `dirname`, `splitext`, `comment`-less basics.

use minijinja::{Environment, Value};

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("capitalize", capitalize);
    env.add_filter("quote", shell_quote);
    env.add_filter("basename", basename);
    env.add_filter("dirname", dirname);
    env.add_filter("splitext", splitext);
    env.add_filter("expanduser", expanduser);
}

/// Python's `str.capitalize`: first character upper, the rest lower.
fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars.as_str().to_lowercase().chars()).collect(),
        None => String::new(),
    }
}

/// Shell-quotes a value for `/bin/sh` (the same quoting Baton uses for its own commands).
fn shell_quote(value: &Value) -> String {
    let text = match value.as_str() {
        Some(s) => s.to_string(),
        None => crate::template::format::display(value),
    };
    python_shlex_quote(&text)
}

/// Python's `shlex.quote`, which Ansible's `quote` filter is: safe words stay, everything else
/// is single-quoted with `'"'"'` for each quote inside.
fn python_shlex_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    if s.chars().all(|c| c.is_alphanumeric() || "@%+=:,./-_".contains(c)) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

/// Python's `os.path.basename`: the part after the last `/` (empty for a trailing slash).
fn basename(path: &str) -> String {
    path.rsplit_once('/').map_or(path, |(_, b)| b).to_string()
}

/// Python's `os.path.dirname`: the part before the last `/`, without trailing slashes
/// unless it is the root.
fn dirname(path: &str) -> String {
    match path.rsplit_once('/') {
        None => String::new(),
        Some(("", _)) => "/".to_string(),
        Some((head, _)) => {
            let trimmed = head.trim_end_matches('/');
            if trimmed.is_empty() && !head.is_empty() { head.to_string() } else { trimmed.to_string() }
        }
    }
}

/// Python's `os.path.splitext`: `['name', '.ext']`.
fn splitext(path: &str) -> Vec<String> {
    let base_start = path.rfind('/').map_or(0, |i| i + 1);
    let base = &path[base_start..];
    let dot = base
        .trim_start_matches('.')
        .rfind('.')
        .map(|i| i + (base.len() - base.trim_start_matches('.').len()));
    match dot {
        Some(i) => vec![path[..base_start + i].to_string(), base[i..].to_string()],
        None => vec![path.to_string(), String::new()],
    }
}

/// `~` expanded to the controller user's home directory.
fn expanduser(path: &str) -> String {
    match (path.strip_prefix('~'), dirs::home_dir()) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{}{rest}", home.display())
        }
        _ => path.to_string(),
    }
}

#[cfg(test)]
mod unit {
    use crate::template::filters::eval;
    use serde_json::json;

    #[test]
    fn capitalize_lowers_the_rest() {
        assert_eq!(eval("'abc def' | capitalize"), json!("Abc def"));
        assert_eq!(eval("'aBC' | capitalize"), json!("Abc"));
        assert_eq!(eval("'' | capitalize"), json!(""));
    }

    #[test]
    fn quote_like_shlex() {
        assert_eq!(eval("'a b' | quote"), json!("'a b'"));
        assert_eq!(eval("'plain' | quote"), json!("plain"));
        // What ansible-core's quote (shlex.quote) prints, as the differential corpus showed.
        assert_eq!(eval("\"it's\" | quote"), json!("'it'\"'\"'s'"));
        assert_eq!(eval("'' | quote"), json!("''"));
    }

    #[test]
    fn paths_like_os_path() {
        assert_eq!(eval("'/a/b/c.txt' | basename"), json!("c.txt"));
        assert_eq!(eval("'/a/b/c.txt' | dirname"), json!("/a/b"));
        assert_eq!(eval("'/a/b/' | basename"), json!(""));
        assert_eq!(eval("'/a' | dirname"), json!("/"));
        assert_eq!(eval("'file' | dirname"), json!(""));
        assert_eq!(eval("'/x/a.tar.gz' | splitext"), json!(["/x/a.tar", ".gz"]));
        assert_eq!(eval("'/x/.bashrc' | splitext"), json!(["/x/.bashrc", ""]));
    }

    #[test]
    fn builtins_that_already_match() {
        assert_eq!(eval("'B' | lower"), json!("b"));
        assert_eq!(eval("'a b' | replace(' ', '_')"), json!("a_b"));
        assert_eq!(eval("' a ' | trim"), json!("a"));
        assert_eq!(eval("'a,b' | split(',')"), json!(["a", "b"]));
        assert_eq!(eval("'abc def' | title"), json!("Abc Def"));
        assert_eq!(eval("'%s-%d' | format('a', 3)"), json!("a-3"));
        assert_eq!(eval("'abc' | reverse"), json!("cba"));
        assert_eq!(eval("'abc'[1:]"), json!("bc"));
        assert_eq!(eval("'abc' | upper"), json!("ABC"));
    }
}
