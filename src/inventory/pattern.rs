//! Host patterns as Ansible reads them (`hosts:`, ad-hoc patterns, `--limit`):
//!
//! - `all` or `*`; a host or group name; globs (`web*`, `*.example.com`); `~regex`
//!   (matched from the start of the name);
//! - several patterns joined with `,` (or `:`, unless the whole thing is one host or IPv6
//!   address); `!p` removes hosts, `&p` keeps only hosts also in `p`. Plain patterns are
//!   applied first, then every `&`, then every `!`, whatever the order they were written in;
//! - `group[0]`, `group[-1]`, `group[1:3]` (inclusive), `group[2:]` pick from a match.
//!
//! A pattern that matches nothing is skipped with Ansible's warning; `localhost` (and
//! `127.0.0.1`, `::1`) match the implicit localhost when the inventory does not define it.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::Inventory;
use super::address;
use super::error::InventoryError;
use super::model::LOCALHOST_NAMES;

/// The hosts a pattern selected, in inventory order, with the warnings met on the way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub hosts: Vec<String>,
    /// "Could not match supplied host pattern, ignoring: x" and similar, for the CLI to print.
    pub warnings: Vec<String>,
}

static SUBSCRIPT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$").ok());
static PATTERN_PARTS: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?:[^\s:\[\]]|\[[^\]]*\])+").ok());

/// Splits `a,b`, `a:b:!c` into single patterns (Ansible's `split_host_pattern`): commas win;
/// without commas a valid host or IPv6 address stays whole, otherwise `:` and blanks split.
pub fn split(pattern: &str) -> Vec<String> {
    let parts: Vec<String> = if pattern.contains(',') {
        pattern.split(',').map(str::to_string).collect()
    } else if address::parse(pattern).is_some() {
        vec![pattern.to_string()]
    } else {
        PATTERN_PARTS
            .as_ref()
            .map(|re| re.find_iter(pattern).map(|m| m.as_str().to_string()).collect())
            .unwrap_or_default()
    };
    parts.into_iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect()
}

/// Plain patterns first, then `&` ones, then `!` ones; `all` when there is no plain one.
fn order(patterns: &[String]) -> Vec<String> {
    let (mut plain, mut and, mut not) = (Vec::new(), Vec::new(), Vec::new());
    for p in patterns.iter().filter(|p| !p.is_empty()) {
        if p.starts_with('!') {
            not.push(p.clone());
        } else if p.starts_with('&') {
            and.push(p.clone());
        } else {
            plain.push(p.clone());
        }
    }
    if plain.is_empty() {
        plain.push("all".to_string());
    }
    plain.into_iter().chain(and).chain(not).collect()
}

/// `[3]`, `[-1]`, `[1:3]`, `[2:]` after a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subscript {
    Index(i64),
    /// Inclusive; `None` end means "to the last host".
    Range(usize, Option<usize>),
}

impl Inventory {
    /// The hosts `pattern` selects. An empty selection is an error that carries the warnings.
    pub fn select(&self, pattern: &str) -> Result<Selection, InventoryError> {
        self.select_with_limit(pattern, None)
    }

    /// The hosts `pattern` selects, kept only if `limit` (`--limit`: same syntax, plus
    /// `@file` with one pattern per line) selects them too.
    pub fn select_with_limit(&self, pattern: &str, limit: Option<&str>) -> Result<Selection, InventoryError> {
        let mut warnings = Vec::new();
        let mut hosts = self.evaluate(&split(pattern), &mut warnings)?;
        if let Some(limit) = limit {
            let subset = limit_patterns(limit)?;
            let allowed: HashSet<String> = self.evaluate(&subset, &mut warnings)?.into_iter().collect();
            hosts.retain(|h| allowed.contains(h));
        }
        let mut seen = HashSet::new();
        hosts.retain(|h| seen.insert(h.clone()));
        let mut seen_w = HashSet::new();
        warnings.retain(|w| seen_w.insert(w.clone()));
        if hosts.is_empty() {
            let pattern = match limit {
                Some(l) => format!("{pattern}` with limit `{l}"),
                None => pattern.to_string(),
            };
            return Err(InventoryError::NoHostsMatched { pattern, warnings });
        }
        Ok(Selection { hosts, warnings })
    }

    /// Ansible's `_evaluate_patterns` (duplicates are removed by the caller).
    fn evaluate(
        &self,
        patterns: &[String],
        warnings: &mut Vec<String>,
    ) -> Result<Vec<String>, InventoryError> {
        let mut hosts: Vec<String> = Vec::new();
        for p in order(patterns) {
            if self.data.hosts.contains_key(&p) {
                hosts.push(p);
                continue;
            }
            let that = self.match_one(&p, warnings)?;
            if p.starts_with('!') {
                let that: HashSet<&String> = that.iter().collect();
                hosts.retain(|h| !that.contains(h));
            } else if p.starts_with('&') {
                let that: HashSet<&String> = that.iter().collect();
                hosts.retain(|h| that.contains(h));
            } else {
                let existing: HashSet<String> = hosts.iter().cloned().collect();
                hosts.extend(that.into_iter().filter(|h| !existing.contains(h)));
            }
        }
        Ok(hosts)
    }

    /// One pattern without its `!`/`&`, with its subscript applied.
    fn match_one(&self, pattern: &str, warnings: &mut Vec<String>) -> Result<Vec<String>, InventoryError> {
        let bare = pattern.strip_prefix(['!', '&']).unwrap_or(pattern);
        if bare.is_empty() {
            return Ok(Vec::new());
        }
        let (expr, subscript) = split_subscript(bare, warnings);
        let hosts = self.enumerate(&expr, warnings)?;
        apply_subscript(hosts, subscript)
            .ok_or_else(|| InventoryError::pattern(bare, "no hosts matched the subscripted pattern"))
    }

    /// Ansible's `_enumerate_matches`: the hosts of every group the pattern matches, then
    /// (for globs, regexes, dotted names, or when no group matched) the matching hosts.
    fn enumerate(&self, pattern: &str, warnings: &mut Vec<String>) -> Result<Vec<String>, InventoryError> {
        let matcher = Matcher::new(pattern)?;
        let mut results = Vec::new();
        let groups: Vec<&String> = self.data.groups.keys().filter(|g| matcher.is_match(g)).collect();
        for g in &groups {
            results.extend(self.data.group_hosts(g));
        }
        if groups.is_empty() || pattern.starts_with('~') || pattern.contains(['.', '?', '*', '[']) {
            results.extend(self.data.hosts.keys().filter(|h| matcher.is_match(h)).cloned());
        }
        if results.is_empty() && LOCALHOST_NAMES.contains(&pattern) {
            results.push(pattern.to_string());
        }
        if results.is_empty() && groups.is_empty() && pattern != "all" {
            warnings.push(format!("Could not match supplied host pattern, ignoring: {pattern}"));
        }
        Ok(results)
    }
}

/// `--limit` patterns: `@file` arguments read one pattern per line.
fn limit_patterns(limit: &str) -> Result<Vec<String>, InventoryError> {
    let mut out = Vec::new();
    for p in split(limit) {
        let Some(path) = p.strip_prefix('@') else {
            out.push(p);
            continue;
        };
        if std::path::Path::new(path).is_dir() {
            return Err(InventoryError::Invalid(format!(
                "a limit starting with `@` must be a file, not a directory: `{path}`"
            )));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|source| InventoryError::LimitFile { path: path.to_string(), source })?;
        out.extend(text.split('\n').map(|l| l.trim().to_string()));
    }
    Ok(out)
}

fn split_subscript(pattern: &str, warnings: &mut Vec<String>) -> (String, Option<Subscript>) {
    if pattern.starts_with('~') {
        return (pattern.to_string(), None);
    }
    let Some(caps) = SUBSCRIPT.as_ref().and_then(|re| re.captures(pattern)) else {
        return (pattern.to_string(), None);
    };
    let expr = caps.get(1).map_or("", |m| m.as_str()).to_string();
    if let Some(idx) = caps.get(2).and_then(|m| m.as_str().parse::<i64>().ok()) {
        return (expr, Some(Subscript::Index(idx)));
    }
    let start = caps.get(3).and_then(|m| m.as_str().parse::<usize>().ok()).unwrap_or(0);
    let end = caps.get(5).map(|m| m.as_str()).filter(|s| !s.is_empty()).and_then(|s| s.parse::<usize>().ok());
    if caps.get(4).is_some_and(|m| m.as_str() == "-") {
        warnings.push("Use [x:y] inclusive subscripts instead of [x-y] which has been removed".to_string());
    }
    // As in Ansible, an end of 0 reads as "no end": `[2:0]` picks the one host at 2.
    let sub = match end {
        Some(0) => Subscript::Index(start as i64),
        other => Subscript::Range(start, other),
    };
    (expr, Some(sub))
}

/// `None` when an index is out of range.
fn apply_subscript(hosts: Vec<String>, subscript: Option<Subscript>) -> Option<Vec<String>> {
    let Some(sub) = subscript else { return Some(hosts) };
    if hosts.is_empty() {
        return Some(hosts);
    }
    let len = hosts.len();
    match sub {
        Subscript::Index(i) => {
            let at = if i < 0 { len.checked_sub(i.unsigned_abs() as usize)? } else { i as usize };
            hosts.get(at).map(|h| vec![h.clone()])
        }
        Subscript::Range(start, end) => {
            let end = end.map_or(len, |e| (e + 1).min(len));
            Some(if start >= end { Vec::new() } else { hosts[start..end].to_vec() })
        }
    }
}

/// A compiled pattern: `~regex` (anchored at the start only, like Python's `re.match`) or a
/// shell glob matched against the whole name (`fnmatch`, case-sensitive).
struct Matcher(Regex);

impl Matcher {
    fn new(pattern: &str) -> Result<Matcher, InventoryError> {
        let source = match pattern.strip_prefix('~') {
            Some(re) => format!("^(?:{re})"),
            None => format!("^(?s:{})$", glob_to_regex(pattern)),
        };
        Regex::new(&source)
            .map(Matcher)
            .map_err(|e| InventoryError::pattern(pattern, format!("not a valid pattern: {e}")))
    }

    fn is_match(&self, name: &str) -> bool {
        self.0.is_match(name)
    }
}

/// Python's `fnmatch.translate`: `*`, `?`, `[seq]`, `[!seq]`; everything else literal.
fn glob_to_regex(glob: &str) -> String {
    let chars: Vec<char> = glob.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '[' => {
                let mut j = i;
                if chars.get(j) == Some(&'!') {
                    j += 1;
                }
                if chars.get(j) == Some(&']') {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += 1;
                }
                if j >= chars.len() {
                    out.push_str("\\[");
                    continue;
                }
                let mut class: String = chars[i..j].iter().collect();
                i = j + 1;
                let negate = class.starts_with('!');
                if negate {
                    class.remove(0);
                }
                let escaped: String = class
                    .chars()
                    .map(|c| {
                        if matches!(c, '\\' | '[' | ']' | '^' | '&' | '~' | '|') && c != '-' {
                            format!("\\{c}")
                        } else {
                            c.to_string()
                        }
                    })
                    .collect();
                out.push('[');
                if negate {
                    out.push('^');
                }
                out.push_str(&escaped);
                out.push(']');
            }
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting() {
        assert_eq!(split("a,b[1], c[2:3] , d"), ["a", "b[1]", "c[2:3]", "d"]);
        assert_eq!(split("web:!db:&prod"), ["web", "!db", "&prod"]);
        assert_eq!(split("web[1:3]:db"), ["web[1:3]", "db"]);
        assert_eq!(split("fe80::1"), ["fe80::1"]);
        assert_eq!(split("host:22"), ["host:22"]);
        assert_eq!(split("a b"), ["a", "b"]);
        assert_eq!(split("a,b:c"), ["a", "b:c"]);
    }

    #[test]
    fn ordering() {
        let p: Vec<String> = ["!a", "&b", "c", "!d"].iter().map(|s| s.to_string()).collect();
        assert_eq!(order(&p), ["c", "&b", "!a", "!d"]);
        assert_eq!(order(&["!a".to_string()]), ["all", "!a"]);
    }

    #[test]
    fn subscripts() {
        let mut w = Vec::new();
        assert_eq!(split_subscript("web[0]", &mut w), ("web".into(), Some(Subscript::Index(0))));
        assert_eq!(split_subscript("web[-1]", &mut w), ("web".into(), Some(Subscript::Index(-1))));
        assert_eq!(split_subscript("web[1:3]", &mut w), ("web".into(), Some(Subscript::Range(1, Some(3)))));
        assert_eq!(split_subscript("web[1:]", &mut w), ("web".into(), Some(Subscript::Range(1, None))));
        assert_eq!(split_subscript("~web[0]", &mut w), ("~web[0]".into(), None));
        assert!(w.is_empty());
        split_subscript("web[1-2]", &mut w);
        assert_eq!(w.len(), 1);
        let hosts: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(apply_subscript(hosts.clone(), Some(Subscript::Index(-1))).unwrap(), ["c"]);
        assert_eq!(apply_subscript(hosts.clone(), Some(Subscript::Range(1, Some(9)))).unwrap(), ["b", "c"]);
        assert_eq!(
            apply_subscript(hosts.clone(), Some(Subscript::Range(5, None))).unwrap(),
            Vec::<String>::new()
        );
        assert!(apply_subscript(hosts.clone(), Some(Subscript::Index(3))).is_none());
        assert!(apply_subscript(hosts, Some(Subscript::Index(-4))).is_none());
    }

    #[test]
    fn globs() {
        let m = |g: &str, s: &str| Matcher::new(g).unwrap().is_match(s);
        assert!(m("web*", "web01"));
        assert!(!m("web*", "xweb"));
        assert!(m("*.example.com", "a.example.com"));
        assert!(!m("*.example.com", "aexample.com"));
        assert!(m("db?", "db1"));
        assert!(m("db[12]", "db2"));
        assert!(!m("db[!12]", "db2"));
        assert!(m("a[", "a["));
        assert!(!m("Web", "web"));
        assert!(m("~web\\d", "web1-extra"));
        assert!(!m("~web", "aweb"));
    }
}
