//! The items a looped task runs over: `loop:` and the `with_<lookup>` forms.

use serde_json::{Value, json};

use super::Engine;
use super::controller::search_dirs;
use super::scope::Scope;
use crate::modules::SearchKind;
use crate::playbook::model::Loop;
use crate::vars::HostVars;

/// Evaluates the loop for one host.
pub fn items(engine: &Engine, vars: &HostVars, lp: &Loop, scope: &Scope) -> Result<Vec<Value>, String> {
    match lp {
        Loop::Items(v) => {
            let rendered = vars.render(&v.value).map_err(|e| format!("{e} (in `loop` at {})", v.loc))?;
            match rendered {
                Value::Array(items) => Ok(items),
                Value::Null => Ok(Vec::new()),
                other => Err(format!("`loop` needs a list, got `{other}` ({})", v.loc)),
            }
        }
        Loop::Lookup { name, terms } => {
            let rendered =
                vars.render(&terms.value).map_err(|e| format!("{e} (in `with_{name}` at {})", terms.loc))?;
            if CONTROLLER_LOOKUPS.contains(&name.as_str()) {
                return controller_lookup(vars, name, &rendered)
                    .map_err(|e| format!("with_{name}: {e} ({})", terms.loc));
            }
            lookup(engine, name, rendered, scope).map_err(|e| format!("with_{name}: {e} ({})", terms.loc))
        }
    }
}

/// The `with_<name>` loops the template engine's lookups answer (see
/// [`crate::template::lookups`]), with the host's variables for `vars` and `template`.
pub const CONTROLLER_LOOKUPS: &[&str] =
    &["env", "file", "first_found", "lines", "password", "pipe", "template", "vars"];

fn controller_lookup(vars: &HostVars, name: &str, terms: &Value) -> Result<Vec<Value>, String> {
    let ctx =
        minijinja::context! { __baton_terms => minijinja::Value::from_serialize(terms), ..vars.context() };
    let v = vars
        .templater()
        .eval_expr(&format!("__baton_with({name:?}, __baton_terms)"), &ctx)
        .map_err(|e| e.to_string())?;
    Ok(as_list(v))
}

fn as_list(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn lookup(engine: &Engine, name: &str, terms: Value, scope: &Scope) -> Result<Vec<Value>, String> {
    Ok(match name {
        "items" => as_list(terms).into_iter().flat_map(as_list).collect(),
        "list" => as_list(terms),
        "indexed_items" => {
            as_list(terms).into_iter().flat_map(as_list).enumerate().map(|(i, v)| json!([i, v])).collect()
        }
        "dict" => match terms {
            Value::Object(m) => m.into_iter().map(|(k, v)| json!({"key": k, "value": v})).collect(),
            other => return Err(format!("needs a mapping, got `{other}`")),
        },
        "fileglob" => fileglob(engine, as_list(terms), scope)?,
        "sequence" => as_list(terms).iter().map(sequence).collect::<Result<Vec<_>, _>>()?.concat(),
        "together" => {
            let lists: Vec<Vec<Value>> = as_list(terms).into_iter().map(as_list).collect();
            let n = lists.iter().map(Vec::len).max().unwrap_or(0);
            (0..n)
                .map(|i| {
                    Value::Array(lists.iter().map(|l| l.get(i).cloned().unwrap_or(Value::Null)).collect())
                })
                .collect()
        }
        "nested" => {
            let lists: Vec<Vec<Value>> = as_list(terms).into_iter().map(as_list).collect();
            let mut out: Vec<Vec<Value>> = vec![Vec::new()];
            for l in lists {
                out = out
                    .into_iter()
                    .flat_map(|prefix| l.iter().map(move |x| [prefix.clone(), vec![x.clone()]].concat()))
                    .collect();
            }
            out.into_iter().map(Value::Array).collect()
        }
        "subelements" => subelements(as_list(terms))?,
        other => return Err(format!("unknown lookup `{other}`")),
    })
}

fn fileglob(engine: &Engine, patterns: Vec<Value>, scope: &Scope) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    for p in patterns {
        let Some(p) = p.as_str() else { continue };
        let pattern_path = std::path::Path::new(p);
        let (dir_part, file_pat) = match p.rsplit_once('/') {
            Some((d, f)) => (d.to_string(), f.to_string()),
            None => (String::new(), p.to_string()),
        };
        let glob = globset::Glob::new(&file_pat).map_err(|e| e.to_string())?.compile_matcher();
        let dirs: Vec<std::path::PathBuf> = if pattern_path.is_absolute() {
            vec![std::path::PathBuf::from(&dir_part)]
        } else {
            search_dirs(scope.role.as_deref(), &engine.playbook_dir, SearchKind::Files)
                .into_iter()
                .map(|d| d.join(&dir_part))
                .collect()
        };
        // The first directory that exists is the one searched, as Ansible's lookup does.
        if let Some(dir) = dirs.into_iter().find(|d| d.is_dir()) {
            let mut found: Vec<String> = std::fs::read_dir(&dir)
                .map_err(|e| e.to_string())?
                .filter_map(Result::ok)
                .filter(|e| e.path().is_file() && glob.is_match(e.file_name()))
                .map(|e| e.path().display().to_string())
                .collect();
            found.sort();
            out.extend(found.into_iter().map(Value::from));
        }
    }
    Ok(out)
}

/// `with_sequence`: `start=1 end=5 stride=1 format=%d`, `count=3`, or `1-5/2:host%02d`.
fn sequence(term: &Value) -> Result<Vec<Value>, String> {
    let text = match term {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let (mut start, mut end, mut stride, mut count, mut format): (
        i64,
        Option<i64>,
        i64,
        Option<i64>,
        Option<String>,
    ) = (1, None, 1, None, None);
    let num = |s: &str| -> Result<i64, String> {
        let s = s.trim();
        if let Some(h) = s.strip_prefix("0x") {
            return i64::from_str_radix(h, 16).map_err(|_| format!("bad number `{s}`"));
        }
        s.parse().map_err(|_| format!("bad number `{s}`"))
    };
    if text.contains('=') {
        for part in text.split_whitespace() {
            let Some((k, v)) = part.split_once('=') else { return Err(format!("bad term `{part}`")) };
            match k {
                "start" => start = num(v)?,
                "end" => end = Some(num(v)?),
                "stride" => stride = num(v)?,
                "count" => count = Some(num(v)?),
                "format" => format = Some(v.to_string()),
                _ => return Err(format!("unknown parameter `{k}`")),
            }
        }
    } else {
        let (range, fmt) = match text.split_once(':') {
            Some((r, f)) => (r.to_string(), Some(f.to_string())),
            None => (text.clone(), None),
        };
        format = fmt;
        let (range, st) = match range.split_once('/') {
            Some((r, s)) => (r.to_string(), Some(num(s)?)),
            None => (range, None),
        };
        if let Some(s) = st {
            stride = s;
        }
        match range.split_once('-') {
            Some((a, b)) => {
                start = num(a)?;
                end = Some(num(b)?);
            }
            None => end = Some(num(&range)?),
        }
    }
    let end = match (end, count) {
        (Some(e), None) => e,
        (None, Some(c)) => start + (c - 1) * stride,
        (Some(_), Some(_)) => return Err("`count` and `end` cannot both be given".into()),
        (None, None) => return Err("needs `end` or `count`".into()),
    };
    if stride == 0 {
        return Err("`stride` cannot be 0".into());
    }
    let mut out = Vec::new();
    let mut i = start;
    while (stride > 0 && i <= end) || (stride < 0 && i >= end) {
        out.push(Value::from(match &format {
            Some(f) => printf(f, i),
            None => i.to_string(),
        }));
        i += stride;
    }
    Ok(out)
}

/// The `%d`, `%02d`, `%x`, `%o` forms Ansible users put in sequence formats.
fn printf(fmt: &str, n: i64) -> String {
    let re = regex::Regex::new(r"%(0?)(\d*)([dxXo])");
    let Ok(re) = re else { return fmt.to_string() };
    re.replace(fmt, |c: &regex::Captures<'_>| {
        let zero = !c[1].is_empty();
        let width: usize = c[2].parse().unwrap_or(0);
        let body = match &c[3] {
            "x" => format!("{n:x}"),
            "X" => format!("{n:X}"),
            "o" => format!("{n:o}"),
            _ => n.to_string(),
        };
        if zero { format!("{body:0>width$}") } else { format!("{body:>width$}") }
    })
    .into_owned()
}

/// `with_subelements: [list, 'key']` (optionally `{skip_missing: true}`): one item per
/// (element, sub-element) pair.
fn subelements(terms: Vec<Value>) -> Result<Vec<Value>, String> {
    let mut it = terms.into_iter();
    let list = as_list(it.next().unwrap_or(Value::Null));
    let key = it.next().and_then(|k| k.as_str().map(str::to_string)).ok_or("needs a list and a key name")?;
    let skip_missing =
        it.next().and_then(|f| f.get("skip_missing").cloned()).is_some_and(|v| v == json!(true));
    let mut out = Vec::new();
    for elem in list {
        let mut node = Some(&elem);
        for part in key.split('.') {
            node = node.and_then(|n| n.get(part));
        }
        match node {
            Some(Value::Array(subs)) => out.extend(subs.iter().map(|s| json!([elem.clone(), s]))),
            Some(_) => return Err(format!("`{key}` is not a list in `{elem}`")),
            None if skip_missing => {}
            None => return Err(format!("`{key}` is missing in `{elem}`")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_like_ansible() {
        assert_eq!(sequence(&json!("start=1 end=3")).unwrap(), [json!("1"), json!("2"), json!("3")]);
        assert_eq!(
            sequence(&json!("count=3 start=0 stride=2")).unwrap(),
            [json!("0"), json!("2"), json!("4")]
        );
        assert_eq!(
            sequence(&json!("start=1 end=2 format=web%02d")).unwrap(),
            [json!("web01"), json!("web02")]
        );
        assert_eq!(sequence(&json!("4-8/2")).unwrap(), [json!("4"), json!("6"), json!("8")]);
        assert!(sequence(&json!("start=1")).is_err());
    }

    #[test]
    fn subelements_pairs() {
        let users = json!([{"name": "a", "keys": [1, 2]}, {"name": "b", "keys": [3]}]);
        let out = subelements(vec![users, json!("keys")]).unwrap();
        assert_eq!(out.len(), 3);
        assert_eq!(out[2], json!([{"name": "b", "keys": [3]}, 3]));
    }
}
