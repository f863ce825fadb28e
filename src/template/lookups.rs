//! Ansible's lookups, run on the controller: `lookup('file', 'motd')`, `query('fileglob',
//! 'conf.d/*')`, and the `with_<lookup>` loops through [`run`].
//!
//! Relative paths are searched as Ansible searches them: the role's `files/` (or `templates/`)
//! and the role directory, then the same under the playbook's directory. The search uses the
//! `role_path` and `playbook_dir` variables the engine sets; `pipe` and `lines` run in the
//! playbook's directory.
//!
//! Supported: file, template, env, pipe, lines, fileglob, items, list, first_found, vars,
//! password (with a file store), indexed_items, dict, sequence-free basics. Others are an error
//! that names the lookup.

use std::path::{Path, PathBuf};

use minijinja::value::{Kwargs, Rest, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, Value};

use super::convert;

/// Adds `lookup`, `query` and `q` to the environment.
pub fn register(env: &mut Environment<'static>) {
    env.add_function("lookup", lookup);
    env.add_function("query", query);
    env.add_function("q", query);
    env.add_function("__baton_with", with_loop);
}

fn fail(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// `lookup(name, terms..., wantlist=False, **options)`: a comma-joined string when every
/// result is a string (Ansible's default), else the single result or the list.
fn lookup(state: &State, name: String, terms: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let wantlist = kwargs.get::<Option<bool>>("wantlist")?.unwrap_or(false);
    let results = run(state, &name, &terms, &kwargs)?;
    if wantlist {
        return Ok(Value::from(results));
    }
    if results.iter().all(|v| v.kind() == ValueKind::String) {
        let joined: Vec<String> =
            results.iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect();
        return Ok(Value::from(joined.join(",")));
    }
    Ok(if results.len() == 1 { results[0].clone() } else { Value::from(results) })
}

/// `query(name, terms..., **options)`: always the list.
fn query(state: &State, name: String, terms: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    Ok(Value::from(run(state, &name, &terms, &kwargs)?))
}

/// `with_<name>: terms` as the engine evaluates it: the terms as one list, like Ansible's
/// `listify` of a loop's terms.
fn with_loop(state: &State, name: String, terms: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let list: Vec<Value> = match terms.kind() {
        ValueKind::Seq => terms.try_iter()?.collect(),
        ValueKind::Undefined | ValueKind::None => Vec::new(),
        _ => vec![terms],
    };
    Ok(Value::from(run(state, &name, &list, &kwargs)?))
}

fn text(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

fn var_path(state: &State, name: &str) -> Option<PathBuf> {
    state.lookup(name).filter(|v| !v.is_undefined() && !v.is_none()).map(|v| PathBuf::from(text(&v)))
}

/// Where a relative controller path is searched for `sub` (`files` or `templates`).
fn search_dirs(state: &State, sub: &str) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(role) = var_path(state, "role_path") {
        dirs.push(role.join(sub));
        dirs.push(role);
    }
    let base = var_path(state, "playbook_dir").unwrap_or_else(|| PathBuf::from("."));
    dirs.push(base.join(sub));
    dirs.push(base);
    dirs
}

fn find(state: &State, sub: &str, name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.is_absolute() {
        return p.exists().then(|| p.to_path_buf());
    }
    search_dirs(state, sub).into_iter().map(|d| d.join(name)).find(|c| c.exists())
}

fn playbook_dir(state: &State) -> PathBuf {
    var_path(state, "playbook_dir").unwrap_or_else(|| PathBuf::from("."))
}

/// Runs `sh -c command` in the playbook's directory and returns its stdout.
fn controller_command(state: &State, command: &str) -> Result<String, Error> {
    let out = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .current_dir(playbook_dir(state))
        .output()
        .map_err(|e| fail(format!("lookup could not run `{command}`: {e}")))?;
    if !out.status.success() {
        return Err(fail(format!(
            "lookup_plugin.{} ({command}) returned {}",
            "pipe",
            out.status.code().unwrap_or(-1)
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The lookup `name` over `terms`, as a list.
pub fn run(state: &State, name: &str, terms: &[Value], kwargs: &Kwargs) -> Result<Vec<Value>, Error> {
    let name = name.strip_prefix("ansible.builtin.").unwrap_or(name);
    let opt_str = |key: &str| -> Result<Option<String>, Error> {
        Ok(kwargs.get::<Option<Value>>(key)?.filter(|v| !v.is_none()).map(|v| text(&v)))
    };
    let mut out = Vec::new();
    match name {
        "file" => {
            let rstrip = kwargs.get::<Option<bool>>("rstrip")?.unwrap_or(true);
            let lstrip = kwargs.get::<Option<bool>>("lstrip")?.unwrap_or(false);
            for t in terms {
                let t = text(t);
                let path = find(state, "files", &t)
                    .ok_or_else(|| fail(format!("could not locate file in lookup: {t}")))?;
                let mut s =
                    std::fs::read_to_string(&path).map_err(|e| fail(format!("{}: {e}", path.display())))?;
                if rstrip {
                    s.truncate(s.trim_end().len());
                }
                if lstrip {
                    s = s.trim_start().to_string();
                }
                out.push(Value::from(s));
            }
        }
        "template" => {
            for t in terms {
                let t = text(t);
                let path = find(state, "templates", &t).ok_or_else(|| {
                    fail(format!("the template file {t} could not be found for the lookup"))
                })?;
                let src =
                    std::fs::read_to_string(&path).map_err(|e| fail(format!("{}: {e}", path.display())))?;
                let tmpl = state.env().template_from_str(&src)?;
                // The template sees the caller's variables: gather the ones it names.
                let mut ctx = std::collections::BTreeMap::new();
                for var in tmpl.undeclared_variables(false) {
                    if let Some(v) = state.lookup(&var) {
                        ctx.insert(var, v);
                    }
                }
                out.push(Value::from(tmpl.render(Value::from(ctx))?));
            }
        }
        "env" => {
            let default = opt_str("default")?;
            for t in terms {
                let v = std::env::var(text(t)).ok().or_else(|| default.clone()).unwrap_or_default();
                out.push(Value::from(v));
            }
        }
        "pipe" => {
            for t in terms {
                out.push(Value::from(controller_command(state, &text(t))?.trim_end().to_string()));
            }
        }
        "lines" => {
            for t in terms {
                out.extend(controller_command(state, &text(t))?.lines().map(|l| Value::from(l.to_string())));
            }
        }
        "fileglob" => {
            for t in terms {
                out.extend(fileglob(state, &text(t))?.into_iter().map(Value::from));
            }
        }
        "items" | "flattened" => {
            for t in terms {
                match t.kind() {
                    ValueKind::Seq => out.extend(t.try_iter()?),
                    _ => out.push(t.clone()),
                }
            }
        }
        "list" => out.extend(terms.iter().cloned()),
        "first_found" => {
            let skip = kwargs.get::<Option<bool>>("skip")?.unwrap_or(false);
            let mut candidates: Vec<String> = Vec::new();
            let mut paths: Vec<String> = Vec::new();
            for t in terms {
                match t.kind() {
                    ValueKind::Seq => candidates.extend(t.try_iter()?.map(|v| text(&v))),
                    ValueKind::Map => {
                        for key in ["files", "paths"] {
                            if let Ok(v) = t.get_attr(key)
                                && !v.is_undefined()
                            {
                                let items: Vec<String> = match v.kind() {
                                    ValueKind::Seq => v.try_iter()?.map(|x| text(&x)).collect(),
                                    _ => text(&v).split([',', ';']).map(|s| s.trim().to_string()).collect(),
                                };
                                if key == "files" { candidates.extend(items) } else { paths.extend(items) }
                            }
                        }
                    }
                    _ => candidates.push(text(t)),
                }
            }
            let full: Vec<String> = if paths.is_empty() {
                candidates
            } else {
                paths.iter().flat_map(|p| candidates.iter().map(move |c| format!("{p}/{c}"))).collect()
            };
            match full.iter().find_map(|c| find(state, "files", c)) {
                Some(p) => out.push(Value::from(p.display().to_string())),
                None if skip => {}
                None => return Err(fail("No file was found when using first_found.")),
            }
        }
        "vars" => {
            let default = kwargs.get::<Option<Value>>("default")?;
            for t in terms {
                let n = text(t);
                match state.lookup(&n).filter(|v| !v.is_undefined()) {
                    Some(v) => out.push(v),
                    None => match &default {
                        Some(d) => out.push(d.clone()),
                        None => return Err(fail(format!("No variable found with this name: {n}"))),
                    },
                }
            }
        }
        "indexed_items" => {
            for (i, v) in terms.iter().enumerate() {
                out.push(Value::from(vec![Value::from(i), v.clone()]));
            }
        }
        "dict" => {
            for t in terms {
                let json = convert::to_json(t).map_err(|e| fail(e.to_string()))?;
                if let serde_json::Value::Object(m) = json {
                    for (k, v) in m {
                        out.push(Value::from_serialize(serde_json::json!({"key": k, "value": v})));
                    }
                }
            }
        }
        "password" => {
            for t in terms {
                out.push(Value::from(password(state, &text(t), kwargs)?));
            }
        }
        other => return Err(fail(format!("lookup plugin `{other}` is not supported by Baton"))),
    }
    Ok(out)
}

/// `fileglob`: files (not directories) matching a pattern whose directory is searched like
/// `file`'s; absolute paths, sorted.
fn fileglob(state: &State, pattern: &str) -> Result<Vec<String>, Error> {
    let (dir, pat) = pattern.rsplit_once('/').map_or((".", pattern), |(d, p)| (d, p));
    let dirs: Vec<PathBuf> = if Path::new(dir).is_absolute() {
        vec![PathBuf::from(dir)]
    } else {
        search_dirs(state, "files").into_iter().map(|d| d.join(dir)).collect()
    };
    let matcher =
        globset::Glob::new(pat).map_err(|e| fail(format!("fileglob `{pattern}`: {e}")))?.compile_matcher();
    for d in dirs {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        let mut found: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_file() && matcher.is_match(e.file_name()))
            .map(|e| e.path().display().to_string())
            .collect();
        if !found.is_empty() {
            found.sort();
            return Ok(found);
        }
    }
    Ok(Vec::new())
}

/// `password`: the password stored in the file (made and stored when it does not exist yet);
/// `/dev/null` stores nothing. Options come as `path length=N chars=a,b` or as keywords.
fn password(state: &State, term: &str, kwargs: &Kwargs) -> Result<String, Error> {
    let mut parts = term.split_whitespace();
    let path = parts.next().unwrap_or_default().to_string();
    let mut length: usize = 20;
    let mut chars: Vec<String> = vec!["ascii_letters".into(), "digits".into(), ".,:-_".into()];
    for kv in parts {
        match kv.split_once('=') {
            Some(("length", n)) => length = n.parse().map_err(|_| fail(format!("password length `{n}`")))?,
            Some(("chars", c)) => chars = c.split(',').map(str::to_string).collect(),
            _ => {}
        }
    }
    if let Some(n) = kwargs.get::<Option<usize>>("length")? {
        length = n;
    }
    if let Some(c) = kwargs.get::<Option<Value>>("chars")? {
        chars = match c.kind() {
            ValueKind::Seq => c.try_iter()?.map(|v| text(&v)).collect(),
            _ => text(&c).split(',').map(str::to_string).collect(),
        };
    }
    let file =
        if Path::new(&path).is_absolute() { PathBuf::from(&path) } else { playbook_dir(state).join(&path) };
    if path != "/dev/null"
        && let Ok(existing) = std::fs::read_to_string(&file)
    {
        // A stored password, possibly followed by ` salt=...`.
        return Ok(existing.split(" salt=").next().unwrap_or_default().trim_end().to_string());
    }
    let mut alphabet = String::new();
    for c in &chars {
        alphabet.push_str(match c.as_str() {
            "ascii_letters" => "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "ascii_lowercase" => "abcdefghijklmnopqrstuvwxyz",
            "ascii_uppercase" => "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "digits" => "0123456789",
            "hexdigits" => "0123456789abcdefABCDEF",
            "octdigits" => "01234567",
            "punctuation" => "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
            other => other,
        });
    }
    let alphabet: Vec<char> = alphabet.chars().collect();
    if alphabet.is_empty() {
        return Err(fail("password lookup: `chars` is empty"));
    }
    let mut bytes = vec![0u8; length * 2];
    getrandom::fill(&mut bytes).map_err(|e| fail(format!("password lookup: no randomness: {e}")))?;
    let pw: String = bytes
        .chunks(2)
        .map(|b| alphabet[(usize::from(b[0]) << 8 | usize::from(b[1])) % alphabet.len()])
        .collect();
    if path != "/dev/null" {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| fail(format!("{}: {e}", dir.display())))?;
        }
        std::fs::write(&file, format!("{pw}\n")).map_err(|e| fail(format!("{}: {e}", file.display())))?;
    }
    Ok(pw)
}
