//! `find`: lists files on the host that match names, age, size and content, as Ansible's find
//! module does. One command lists every entry under the paths with its `stat`; the filtering
//! runs here. `contains` and `get_checksum` cost one more command each, for the files left.
//!
//! ```yaml
//! - find: { paths: /var/log, patterns: '*.log,*.gz', age: 2d, size: 10k, recurse: true }
//! - find: { paths: [/etc], patterns: '^.*\.conf$', use_regex: true, contains: '^Listen ' }
//! ```

use globset::GlobBuilder;
use regex::Regex;
use serde_json::{Map, Value, json};

use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::quote;
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "find",
    free_form: false,
    params: &[
        "age",
        "age_stamp",
        "checksum_algorithm",
        "contains",
        "depth",
        "encoding",
        "exact_mode",
        "excludes",
        "exclude",
        "file_type",
        "follow",
        "get_checksum",
        "hidden",
        "mode",
        "name",
        "path",
        "paths",
        "pattern",
        "patterns",
        "read_whole_file",
        "recurse",
        "size",
        "use_regex",
    ],
    run: crate::module_entry!(run),
    run_loop: None,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    File,
    Directory,
    Link,
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    Atime,
    Mtime,
    Ctime,
}

/// Names match globs (`fnmatch`) or, with `use_regex`, Python's `re.match` (anchored at the
/// start of the basename only).
#[derive(Debug, Clone)]
pub struct NameFilter(Vec<Matcher>);

#[derive(Debug, Clone)]
enum Matcher {
    Glob(globset::GlobMatcher),
    Regex(Regex),
}

impl NameFilter {
    fn new(patterns: &[String], use_regex: bool) -> Result<NameFilter, String> {
        patterns
            .iter()
            .map(|p| {
                if use_regex {
                    Regex::new(&format!(r"\A(?:{p})"))
                        .map(Matcher::Regex)
                        .map_err(|e| format!("bad regex `{p}`: {e}"))
                } else {
                    GlobBuilder::new(p)
                        .backslash_escape(true)
                        .build()
                        .map(|g| Matcher::Glob(g.compile_matcher()))
                        .map_err(|e| format!("bad pattern `{p}`: {e}"))
                }
            })
            .collect::<Result<_, _>>()
            .map(NameFilter)
    }

    fn any(&self, name: &str) -> bool {
        self.0.iter().any(|m| match m {
            Matcher::Glob(g) => g.is_match(name),
            Matcher::Regex(r) => r.is_match(name),
        })
    }
}

/// What the task asks for.
#[derive(Debug, Clone)]
pub struct Params {
    pub paths: Vec<String>,
    /// Empty means every name.
    pub patterns: NameFilter,
    pub excludes: NameFilter,
    pub file_type: FileType,
    pub recurse: bool,
    pub depth: Option<u32>,
    /// Seconds; negative means "at most this old".
    pub age: Option<i64>,
    pub age_stamp: Stamp,
    /// Bytes; negative means "at most this big".
    pub size: Option<i64>,
    pub contains: Option<Regex>,
    pub read_whole_file: bool,
    pub hidden: bool,
    pub follow: bool,
    pub get_checksum: bool,
    /// The host tool for `checksum_algorithm` (`sha1sum` unless told otherwise).
    pub checksum_tool: &'static str,
    /// Octal permission bits to select by, with `exact_mode` (all bits equal) or not (these
    /// bits set).
    pub mode: Option<(u32, bool)>,
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let list = |keys: &[&str]| -> Result<Vec<String>, ModuleError> {
            for k in keys {
                if let Some(v) = args.str_list(m, k)? {
                    // Ansible splits comma lists in each item (`patterns: '*.log,*.gz'`).
                    return Ok(v
                        .iter()
                        .flat_map(|s| s.split(','))
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect());
                }
            }
            Ok(Vec::new())
        };
        let paths = list(&["paths", "name", "path"])?;
        if paths.is_empty() {
            return Err(ModuleError::MissingParam { module: m.into(), param: "paths".into() });
        }
        let use_regex = args.bool(m, "use_regex")?.unwrap_or(false);
        let mut patterns = list(&["patterns", "pattern"])?;
        if patterns.is_empty() && !use_regex {
            patterns.push("*".into());
        }
        if patterns.is_empty() {
            patterns.push(".*".into());
        }
        let file_type = match args.str(m, "file_type")?.as_deref().unwrap_or("file") {
            "file" => FileType::File,
            "directory" => FileType::Directory,
            "link" => FileType::Link,
            "any" => FileType::Any,
            other => {
                return Err(bad(&format!("`file_type` must be file, directory, link or any, not `{other}`")));
            }
        };
        let age_stamp = match args.str(m, "age_stamp")?.as_deref().unwrap_or("mtime") {
            "mtime" => Stamp::Mtime,
            "atime" => Stamp::Atime,
            "ctime" => Stamp::Ctime,
            other => return Err(bad(&format!("`age_stamp` must be atime, mtime or ctime, not `{other}`"))),
        };
        let age = match args.str(m, "age")? {
            Some(a) => Some(
                parse_amount(&a, &[('s', 1), ('m', 60), ('h', 3600), ('d', 86400), ('w', 604_800)])
                    .ok_or_else(|| bad(&format!("failed to process age `{a}`")))?,
            ),
            None => None,
        };
        let size = match args.str(m, "size")? {
            Some(s) => Some(
                parse_amount(&s, &[('b', 1), ('k', 1 << 10), ('m', 1 << 20), ('g', 1 << 30), ('t', 1 << 40)])
                    .ok_or_else(|| bad(&format!("failed to process size `{s}`")))?,
            ),
            None => None,
        };
        let read_whole_file = args.bool(m, "read_whole_file")?.unwrap_or(false);
        let contains = match args.str(m, "contains")? {
            // Per line Python's `re.match` (anchored at the start), whole file `re.search`.
            Some(c) => Some(
                Regex::new(&if read_whole_file { c.clone() } else { format!(r"\A(?:{c})") })
                    .map_err(|e| bad(&format!("bad regex `{c}`: {e}")))?,
            ),
            None => None,
        };
        let depth = match args.str(m, "depth")? {
            Some(d) => {
                Some(d.parse::<u32>().map_err(|_| bad(&format!("`depth` must be a number, not `{d}`")))?)
            }
            None => None,
        };
        Ok(Params {
            paths,
            patterns: NameFilter::new(&patterns, use_regex).map_err(|e| bad(&e))?,
            excludes: NameFilter::new(&list(&["excludes", "exclude"])?, use_regex).map_err(|e| bad(&e))?,
            file_type,
            recurse: args.bool(m, "recurse")?.unwrap_or(false),
            depth,
            age,
            age_stamp,
            size,
            contains,
            read_whole_file,
            hidden: args.bool(m, "hidden")?.unwrap_or(false),
            follow: args.bool(m, "follow")?.unwrap_or(false),
            get_checksum: args.bool(m, "get_checksum")?.unwrap_or(false),
            checksum_tool: match args.str(m, "checksum_algorithm")?.as_deref().unwrap_or("sha1") {
                "md5" => "md5sum",
                "sha1" => "sha1sum",
                "sha224" => "sha224sum",
                "sha256" => "sha256sum",
                "sha384" => "sha384sum",
                "sha512" => "sha512sum",
                other => return Err(bad(&format!("unsupported `checksum_algorithm` `{other}`"))),
            },
            mode: match args.str(m, "mode")? {
                Some(mode) => Some((
                    u32::from_str_radix(mode.trim_start_matches("0o"), 8)
                        .ok()
                        .filter(|b| *b <= 0o7777)
                        .ok_or_else(|| bad(&format!("`mode` must be octal (`0644`), not `{mode}`")))?,
                    args.bool(m, "exact_mode")?.unwrap_or(true),
                )),
                None => None,
            },
        })
    }

    /// The deepest level listed: 1 (the path's own entries) unless recursing.
    fn max_depth(&self) -> Option<u32> {
        if self.recurse { self.depth } else { Some(1) }
    }
}

/// `2d`, `-1w`, `10k`, `300`: a number with an optional unit (first letter, any case).
pub fn parse_amount(text: &str, units: &[(char, i64)]) -> Option<i64> {
    let t = text.trim().to_ascii_lowercase();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 = num.parse().ok()?;
    let mult = match unit.chars().next() {
        None => 1,
        Some(u) => units.iter().find(|(c, _)| *c == u)?.1,
    };
    n.checked_mul(mult)
}

/// One entry as `stat` described it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    pub path: String,
    /// `st_mode`, type bits included.
    pub mode: u32,
    pub size: i64,
    pub inode: u64,
    pub dev: u64,
    pub nlink: u64,
    pub atime: i64,
    pub mtime: i64,
    pub ctime: i64,
    pub uid: u32,
    pub gid: u32,
    pub pw_name: String,
    pub gr_name: String,
}

const S_IFMT: u32 = 0o170_000;

impl Entry {
    fn kind(&self) -> u32 {
        self.mode & S_IFMT
    }
    pub fn is_dir(&self) -> bool {
        self.kind() == 0o040_000
    }
    pub fn is_reg(&self) -> bool {
        self.kind() == 0o100_000
    }
    pub fn is_lnk(&self) -> bool {
        self.kind() == 0o120_000
    }
    fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    /// Ansible's per-file keys (its `statinfo`).
    pub fn to_json(&self, checksum: Option<&str>) -> Value {
        let bits = |b: u32| self.mode & b != 0;
        let mut m: Map<String, Value> = json!({
            "path": self.path, "mode": format!("{:04o}", self.mode & 0o7777),
            "isdir": self.is_dir(), "isreg": self.is_reg(), "islnk": self.is_lnk(),
            "ischr": self.kind() == 0o020_000, "isblk": self.kind() == 0o060_000,
            "isfifo": self.kind() == 0o010_000, "issock": self.kind() == 0o140_000,
            "uid": self.uid, "gid": self.gid, "size": self.size, "inode": self.inode, "dev": self.dev,
            "nlink": self.nlink, "atime": self.atime, "mtime": self.mtime, "ctime": self.ctime,
            "pw_name": self.pw_name, "gr_name": self.gr_name,
            "rusr": bits(0o400), "wusr": bits(0o200), "xusr": bits(0o100),
            "rgrp": bits(0o040), "wgrp": bits(0o020), "xgrp": bits(0o010),
            "roth": bits(0o004), "woth": bits(0o002), "xoth": bits(0o001),
            "isuid": bits(0o4000), "isgid": bits(0o2000),
        })
        .as_object()
        .cloned()
        .unwrap_or_default();
        if let Some(c) = checksum {
            m.insert("checksum".into(), Value::String(c.into()));
        }
        Value::Object(m)
    }
}

/// What the listing command reported: the host's clock, entries per path, paths skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub now: i64,
    pub entries: Vec<Entry>,
    pub skipped: Vec<String>,
}

const FORMAT: &str = r"%f\t%s\t%i\t%d\t%h\t%X\t%Y\t%Z\t%u\t%g\t%U\t%G\t%n\0";

/// The one command that lists every entry under the paths with its `stat`, NUL separated.
pub fn list_command(p: &Params) -> String {
    let mut cmd = String::from("date +%s; ");
    let depth = p.max_depth().map(|d| format!(" -maxdepth {d}")).unwrap_or_default();
    let (find_l, stat_l) = if p.follow { ("-L ", "-L ") } else { ("", "") };
    for (i, path) in p.paths.iter().enumerate() {
        let q = quote(path);
        cmd.push_str(&format!(
            "printf 'P{i}\\0'; if [ -d {q} ]; then find {find_l}{q} -mindepth 1{depth} -exec stat {stat_l}--printf '{FORMAT}' {{}} + 2>/dev/null; else printf 'SKIP\\0'; fi; "
        ));
    }
    cmd.push_str("true");
    cmd
}

/// Reads the listing command's output.
pub fn parse_listing(out: &[u8], paths: &[String]) -> Result<Listing, String> {
    let text = String::from_utf8_lossy(out);
    let (now, rest) = text.split_once('\n').ok_or("no clock in the listing")?;
    let mut l =
        Listing { now: now.trim().parse().map_err(|_| format!("bad clock `{now}`"))?, ..Listing::default() };
    let mut current = None;
    for rec in rest.split('\0').filter(|r| !r.is_empty()) {
        if let Some(i) = rec.strip_prefix('P').and_then(|i| i.parse::<usize>().ok()) {
            current = paths.get(i);
            continue;
        }
        if rec == "SKIP" {
            if let Some(p) = current {
                l.skipped.push(p.clone());
            }
            continue;
        }
        let f: Vec<&str> = rec.splitn(13, '\t').collect();
        let [mode, size, inode, dev, nlink, atime, mtime, ctime, uid, gid, pw, gr, path] = f[..] else {
            return Err(format!("unexpected listing line `{rec}`"));
        };
        let num = |s: &str| s.parse::<i64>().map_err(|_| format!("bad number `{s}` in `{rec}`"));
        l.entries.push(Entry {
            path: path.to_string(),
            mode: u32::from_str_radix(mode, 16).map_err(|_| format!("bad mode `{mode}`"))?,
            size: num(size)?,
            inode: num(inode)? as u64,
            dev: num(dev)? as u64,
            nlink: num(nlink)? as u64,
            atime: num(atime)?,
            mtime: num(mtime)?,
            ctime: num(ctime)?,
            uid: num(uid)? as u32,
            gid: num(gid)? as u32,
            pw_name: pw.to_string(),
            gr_name: gr.to_string(),
        });
    }
    Ok(l)
}

/// The pure part: which listed entries pass the name, type, age and size filters (content is
/// checked afterwards, on the files that are left).
pub fn select<'a>(p: &Params, l: &'a Listing) -> Vec<&'a Entry> {
    l.entries
        .iter()
        .filter(|e| {
            let name = e.name();
            if !p.hidden && name.starts_with('.') {
                return false;
            }
            if !p.patterns.any(name) || p.excludes.any(name) {
                return false;
            }
            let type_ok = match p.file_type {
                FileType::File => e.is_reg(),
                FileType::Directory => e.is_dir(),
                FileType::Link => e.is_lnk(),
                FileType::Any => true,
            };
            let sized = matches!(p.file_type, FileType::File | FileType::Any);
            let mode_ok = match p.mode {
                None => true,
                Some((bits, true)) => e.mode & 0o7777 == bits,
                Some((bits, false)) => e.mode & bits == bits,
            };
            type_ok && mode_ok && age_ok(p, l.now, e) && (!sized || size_ok(p, e))
        })
        .collect()
}

fn age_ok(p: &Params, now: i64, e: &Entry) -> bool {
    let Some(age) = p.age else { return true };
    let stamp = match p.age_stamp {
        Stamp::Atime => e.atime,
        Stamp::Mtime => e.mtime,
        Stamp::Ctime => e.ctime,
    };
    let elapsed = now - stamp;
    if age >= 0 { elapsed >= age } else { elapsed <= -age }
}

fn size_ok(p: &Params, e: &Entry) -> bool {
    match p.size {
        None => true,
        Some(s) if s >= 0 => e.size >= s,
        Some(s) => e.size <= -s,
    }
}

/// Whether content passes `contains` (Python's `re.match` per line, or `re.search` on the
/// whole file with `read_whole_file`).
pub fn content_ok(p: &Params, content: &[u8]) -> bool {
    let Some(re) = &p.contains else { return true };
    let text = String::from_utf8_lossy(content);
    if p.read_whole_file { re.is_match(&text) } else { text.lines().any(|line| re.is_match(line)) }
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    let out = ctx.exec(list_command(&p)).await?;
    let listing = match parse_listing(&out.stdout, &p.paths) {
        Ok(l) => l,
        Err(e) => return Ok(TaskResult::failed(format!("cannot list files: {e}"))),
    };
    let mut matched: Vec<&Entry> = select(&p, &listing);
    if p.contains.is_some() {
        let mut kept = Vec::new();
        for e in matched {
            // Only regular files have content to search, as in Ansible.
            if e.is_reg()
                && let Ok(bytes) = ctx.conn.get(&e.path, ctx.r#become.as_ref()).await
                && content_ok(&p, &bytes)
            {
                kept.push(e);
            }
        }
        matched = kept;
    }
    let mut sums = std::collections::HashMap::new();
    let regular: Vec<&str> = matched.iter().filter(|e| e.is_reg()).map(|e| e.path.as_str()).collect();
    if p.get_checksum && !regular.is_empty() {
        let files: Vec<String> = regular.iter().map(|f| quote(f).into_owned()).collect();
        let out = ctx.exec(format!("{} -z -- {}", p.checksum_tool, files.join(" "))).await?;
        for rec in out.stdout_str().split('\0').filter(|r| !r.is_empty()) {
            if let Some((sum, path)) = rec.split_once("  ") {
                sums.insert(path.to_string(), sum.to_string());
            }
        }
    }
    let files: Vec<Value> =
        matched.iter().map(|e| e.to_json(sums.get(&e.path).map(String::as_str))).collect();
    let mut r = TaskResult::new(Status::Ok);
    let skipped: Map<String, Value> = listing
        .skipped
        .iter()
        .map(|s| {
            (
                s.clone(),
                Value::String(format!(
                    "{s} was skipped as it does not seem to be a valid directory or it cannot be accessed"
                )),
            )
        })
        .collect();
    r.msg = Some(if skipped.is_empty() {
        "All paths examined".into()
    } else {
        "Not all paths examined, check warnings for details".into()
    });
    r.data.insert("matched".into(), json!(files.len()));
    r.data.insert("examined".into(), json!(listing.entries.len()));
    r.data.insert("files".into(), Value::Array(files));
    r.data.insert("skipped_paths".into(), Value::Object(skipped));
    Ok(r)
}

fn bad(message: &str) -> ModuleError {
    ModuleError::BadArgs { module: MODULE.name.to_string(), message: message.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> Params {
        Params::parse(&ModuleArgs(v.as_object().unwrap().clone())).unwrap()
    }

    fn entry(path: &str, kind: u32, size: i64, mtime: i64) -> Entry {
        Entry {
            path: path.into(),
            mode: kind | 0o644,
            size,
            mtime,
            atime: mtime,
            ctime: mtime,
            ..Entry::default()
        }
    }

    const REG: u32 = 0o100_000;
    const DIR: u32 = 0o040_000;
    const LNK: u32 = 0o120_000;

    fn listing() -> Listing {
        Listing {
            now: 1_000_000,
            entries: vec![
                entry("/d/a.log", REG, 20_000, 1_000_000 - 3 * 86400),
                entry("/d/b.gz", REG, 100, 1_000_000 - 60),
                entry("/d/.hidden.log", REG, 5, 0),
                entry("/d/sub", DIR, 4096, 0),
                entry("/d/sub/c.txt", REG, 0, 0),
                entry("/d/link.log", LNK, 5, 0),
            ],
            skipped: vec![],
        }
    }

    fn names(v: Value) -> Vec<String> {
        let p = params(v);
        let l = listing();
        select(&p, &l).iter().map(|e| e.path.clone()).collect()
    }

    #[test]
    fn cases() {
        // (params, expected paths)
        let cases = [
            (json!({"paths": "/d"}), vec!["/d/a.log", "/d/b.gz", "/d/sub/c.txt"]),
            (json!({"paths": "/d", "patterns": "*.log,*.gz"}), vec!["/d/a.log", "/d/b.gz"]),
            (
                json!({"paths": "/d", "patterns": ["*.log"], "hidden": true}),
                vec!["/d/a.log", "/d/.hidden.log"],
            ),
            (json!({"paths": "/d", "patterns": "*.log", "excludes": "a*"}), vec![]),
            (json!({"paths": "/d", "patterns": "^[ab]\\.", "use_regex": true}), vec!["/d/a.log", "/d/b.gz"]),
            (json!({"paths": "/d", "patterns": "log", "use_regex": true}), vec![]),
            (json!({"paths": "/d", "file_type": "directory"}), vec!["/d/sub"]),
            (json!({"paths": "/d", "file_type": "link"}), vec!["/d/link.log"]),
            (json!({"paths": "/d", "age": "2d"}), vec!["/d/a.log", "/d/sub/c.txt"]),
            (json!({"paths": "/d", "age": "-1h"}), vec!["/d/b.gz"]),
            (json!({"paths": "/d", "size": "10k"}), vec!["/d/a.log"]),
            (json!({"paths": "/d", "size": "-100"}), vec!["/d/b.gz", "/d/sub/c.txt"]),
            (json!({"paths": "/d", "file_type": "any", "patterns": "s*"}), vec!["/d/sub"]),
            (json!({"paths": "/d", "mode": "0644"}), vec!["/d/a.log", "/d/b.gz", "/d/sub/c.txt"]),
            (json!({"paths": "/d", "mode": "0600"}), vec![]),
            (
                json!({"paths": "/d", "mode": "0604", "exact_mode": false}),
                vec!["/d/a.log", "/d/b.gz", "/d/sub/c.txt"],
            ),
        ];
        for (args, want) in cases {
            assert_eq!(names(args.clone()), want, "{args}");
        }
    }

    #[test]
    fn amounts_take_units() {
        let age = [('s', 1), ('m', 60), ('h', 3600), ('d', 86400), ('w', 604_800)];
        assert_eq!(parse_amount("2d", &age), Some(172_800));
        assert_eq!(parse_amount("-1w", &age), Some(-604_800));
        assert_eq!(parse_amount("30", &age), Some(30));
        assert_eq!(parse_amount("3x", &age), None);
        assert_eq!(parse_amount("10k", &[('k', 1024)]), Some(10_240));
    }

    #[test]
    fn depth_is_one_unless_recursing() {
        assert!(list_command(&params(json!({"paths": "/d"}))).contains("-maxdepth 1 "));
        assert!(!list_command(&params(json!({"paths": "/d", "recurse": true}))).contains("-maxdepth"));
        assert!(
            list_command(&params(json!({"paths": "/d", "recurse": true, "depth": 3})))
                .contains("-maxdepth 3 ")
        );
        assert!(list_command(&params(json!({"paths": "/d", "follow": true}))).contains("find -L /d"));
    }

    #[test]
    fn listing_parses_stat_records_and_skips() {
        let paths = vec!["/d".to_string(), "/nope".to_string()];
        let out = b"100\nP0\x0081a4\t3\t7\t8\t1\t10\t20\t30\t0\t0\troot\troot\t/d/a\tb\x00P1\x00SKIP\x00";
        let l = parse_listing(out, &paths).unwrap();
        assert_eq!(l.now, 100);
        assert_eq!(l.skipped, vec!["/nope"]);
        assert_eq!(l.entries[0].path, "/d/a\tb");
        assert!(l.entries[0].is_reg());
        assert_eq!(l.entries[0].to_json(None)["mode"], "0644");
    }

    #[test]
    fn contains_matches_line_starts_or_the_whole_file() {
        let p = params(json!({"paths": "/d", "contains": "Listen"}));
        assert!(content_ok(&p, b"a\nListen 80\n"));
        assert!(!content_ok(&p, b"# Listen 80\n"));
        let p = params(json!({"paths": "/d", "contains": "Listen", "read_whole_file": true}));
        assert!(content_ok(&p, b"# Listen 80\n"));
    }

    #[test]
    fn bad_values_are_refused() {
        let parse = |v: Value| Params::parse(&ModuleArgs(v.as_object().unwrap().clone()));
        assert!(parse(json!({"patterns": "*"})).is_err());
        assert!(parse(json!({"paths": "/d", "age": "2y"})).is_err());
        assert!(parse(json!({"paths": "/d", "file_type": "socket"})).is_err());
        assert!(parse(json!({"paths": "/d", "mode": "u+x"})).is_err());
        assert!(parse(json!({"paths": "/d", "checksum_algorithm": "crc"})).is_err());
    }
}
