//! The file-state fact every file module reads first: for each path asked about, its type,
//! mode, owner, size, times, link target and (when asked) checksum, in one round trip.
//!
//! The host runs one POSIX shell line built from GNU `stat --printf`, `readlink` and
//! `sha1sum`-style tools; every field ends with a NUL byte, so paths with spaces, quotes or
//! newlines parse unambiguously. The output opens with a few host facts the modules need
//! anyway (the shell's pid and clock for backup names, the umask for new files' modes).
//!
//! ```text
//! pid\0 now\0 umask\0 ( index\0 path\0 rawmode\0 uid\0 gid\0 user\0 group\0 size\0
//!                       atime\0 mtime\0 ctime\0 inode\0 nlink\0 dev\0 target\0 realpath\0
//!                       checksum\0 access\0 )*
//! ```
//!
//! A path that does not exist yields no record; a recursive probe yields one record per entry
//! below the path too (found with `find`, which does not follow symlinks).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::mode::{Mode, default_mode, format_mode};
use super::plan::Plan;
use super::{ModuleArgs, ModuleCtx, ModuleError};
use crate::connection::quote::{join, quote};

/// What kind of file a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Link,
    Fifo,
    Socket,
    Char,
    Block,
    Unknown,
}

impl Kind {
    fn from_raw_mode(raw: u32) -> Kind {
        match raw & 0o170_000 {
            0o100_000 => Kind::File,
            0o040_000 => Kind::Dir,
            0o120_000 => Kind::Link,
            0o010_000 => Kind::Fifo,
            0o140_000 => Kind::Socket,
            0o020_000 => Kind::Char,
            0o060_000 => Kind::Block,
            _ => Kind::Unknown,
        }
    }

    /// The word Ansible's `file` module uses for a path's current state.
    pub fn state_word(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Dir => "directory",
            Kind::Link => "link",
            _ => "file",
        }
    }
}

/// A hash the host can compute with its `<name>sum` tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Checksum {
    /// Ansible's `checksum_algorithm` names (`sha1`, `sha256`, `md5`, ...).
    pub fn parse(name: &str) -> Option<Checksum> {
        Some(match name.to_ascii_lowercase().as_str() {
            "md5" => Checksum::Md5,
            "sha1" => Checksum::Sha1,
            "sha224" => Checksum::Sha224,
            "sha256" => Checksum::Sha256,
            "sha384" => Checksum::Sha384,
            "sha512" => Checksum::Sha512,
            _ => return None,
        })
    }

    fn tool(self) -> &'static str {
        match self {
            Checksum::Md5 => "md5sum",
            Checksum::Sha1 => "sha1sum",
            Checksum::Sha224 => "sha224sum",
            Checksum::Sha256 => "sha256sum",
            Checksum::Sha384 => "sha384sum",
            Checksum::Sha512 => "sha512sum",
        }
    }
}

/// The sha1 of bytes as lowercase hex, as `sha1sum` prints it (Ansible's `checksum`).
pub fn sha1_hex(data: &[u8]) -> String {
    use sha1::Digest;
    hex(&sha1::Sha1::digest(data))
}

/// The md5 of bytes as lowercase hex (Ansible's `md5sum`).
pub fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    hex(&md5::Md5::digest(data))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One path to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub path: String,
    /// Report what a symlink points to instead of the link itself (`stat -L`).
    pub follow: bool,
    /// Also report every entry below a directory.
    pub recurse: bool,
    pub checksum: Option<Checksum>,
    /// Report the path only when it is a symlink (with `follow`: what a link points to, where
    /// for anything else the plain probe already says it all).
    pub links_only: bool,
    /// Also report the host's clock (for backup names; `date` is one more process).
    pub clock: bool,
}

impl Probe {
    /// The path itself, links not followed, no checksum.
    pub fn new(path: impl Into<String>) -> Probe {
        Probe {
            path: trim_slashes(&path.into()),
            follow: false,
            recurse: false,
            checksum: None,
            links_only: false,
            clock: false,
        }
    }

    pub fn links_only(mut self, links_only: bool) -> Probe {
        self.links_only = links_only;
        self
    }

    pub fn clock(mut self, clock: bool) -> Probe {
        self.clock = clock;
        self
    }

    pub fn follow(mut self, follow: bool) -> Probe {
        self.follow = follow;
        self
    }

    pub fn recurse(mut self, recurse: bool) -> Probe {
        self.recurse = recurse;
        self
    }

    pub fn checksum(mut self, checksum: Option<Checksum>) -> Probe {
        self.checksum = checksum;
        self
    }
}

/// A path without trailing slashes (`/` stays `/`), so records name it the same way.
pub fn trim_slashes(path: &str) -> String {
    let t = path.trim_end_matches('/');
    if t.is_empty() && path.starts_with('/') { "/".to_string() } else { t.to_string() }
}

/// The state of one existing path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// Which probe this record answers.
    pub probe: usize,
    /// The path as probed (or `probe path/sub/entry` for entries below it).
    pub path: String,
    pub kind: Kind,
    /// Permission bits (`0o7777` at most).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Owner and group names (`UNKNOWN` when the host has no name for the id).
    pub owner: String,
    pub group: String,
    pub size: u64,
    pub atime: i64,
    pub mtime: i64,
    pub ctime: i64,
    pub inode: u64,
    pub nlink: u64,
    pub dev: u64,
    /// For a symlink: what it points to (as written) and where that resolves to.
    pub link_target: Option<String>,
    pub real_path: Option<String>,
    /// The checksum asked for, for a regular file the user can read.
    pub checksum: Option<String>,
    /// Access for the user the command ran as (`[ -r ]`, `[ -w ]`, `[ -x ]`).
    pub readable: bool,
    pub writeable: bool,
    pub executable: bool,
}

impl FileInfo {
    pub fn is_dir(&self) -> bool {
        self.kind == Kind::Dir
    }

    /// A sample record for tests of modules that plan from this fact.
    pub fn sample(path: &str, kind: Kind, mode: u32) -> FileInfo {
        FileInfo {
            probe: 0,
            path: path.to_string(),
            kind,
            mode,
            uid: 1000,
            gid: 1000,
            owner: "deploy".into(),
            group: "deploy".into(),
            size: 0,
            atime: 0,
            mtime: 0,
            ctime: 0,
            inode: 1,
            nlink: 1,
            dev: 1,
            link_target: None,
            real_path: None,
            checksum: None,
            readable: true,
            writeable: true,
            executable: false,
        }
    }
}

/// Facts about the host's shell that came with the records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostFacts {
    /// The shell's pid (part of Ansible's backup file names).
    pub pid: u32,
    /// The host's clock as `YYYY-MM-DD@HH:MM:SS` (Ansible's backup suffix).
    pub now: String,
    pub umask: u32,
}

impl Default for HostFacts {
    fn default() -> HostFacts {
        HostFacts { pid: 4242, now: "2026-01-02@03:04:05".into(), umask: 0o022 }
    }
}

/// Everything one probe command reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub host: HostFacts,
    pub entries: Vec<FileInfo>,
}

impl Facts {
    /// The record for probe `i`'s own path, if it exists.
    pub fn get(&self, probe: usize, path: &str) -> Option<&FileInfo> {
        self.entries.iter().find(|e| e.probe == probe && e.path == path)
    }

    /// The records of probes `start..start + len`, numbered from 0: what one item of a batched
    /// probe (several items' probes in one command) would have read on its own.
    pub fn slice(&self, start: usize, len: usize) -> Facts {
        let entries = self
            .entries
            .iter()
            .filter(|e| e.probe >= start && e.probe < start + len)
            .map(|e| FileInfo { probe: e.probe - start, ..e.clone() })
            .collect();
        Facts { host: self.host.clone(), entries }
    }

    /// Every record of probe `i` (the path itself and, when recursive, all below it).
    pub fn tree(&self, probe: usize) -> impl Iterator<Item = &FileInfo> {
        self.entries.iter().filter(move |e| e.probe == probe)
    }
}

/// The path of `entry` relative to `root` (`""` for the root itself).
pub fn relative<'a>(root: &str, entry: &'a str) -> Option<&'a str> {
    if entry == root {
        return Some("");
    }
    let prefix = if root.ends_with('/') { root.to_string() } else { format!("{root}/") };
    entry.strip_prefix(prefix.as_str())
}

/// The output is a stream of NUL-terminated fields: three of host facts, then tagged records.
/// `R` and 18 fields: a whole record (an entry of a tree, or a path given as a shell word).
/// `S` / `L` and 13 fields: what `stat` / `stat -L` says of a path, for every listed path in ONE
/// process. `X` and 7 fields: which probe found that path, and the rest of its record.
const STAT_FIELDS: usize = 13;
const EXTRA_FIELDS: usize = 7;
const RECORD_FIELDS: usize = 18;

/// `stat`'s format: the path first, as given, so its line in a batch is found by name.
const STAT_FORMAT: &str = r"%n\0%f\0%u\0%g\0%U\0%G\0%s\0%X\0%Y\0%Z\0%i\0%h\0%d\0";

/// The shell functions: `t PATH FOLLOW ALGO` prints link target, real path, checksum and
/// access (builtins, except `readlink` for a link and the checksum tool when asked);
/// `x INDEX PATH FOLLOW ALGO` an `X` record; `e INDEX PATH FOLLOW ALGO` an `R` record.
const RECORD_FN: &str = r#"t() { if [ "$2" != 1 ] && [ -L "$1" ]; then readlink -- "$1"; printf '\0'; readlink -f -- "$1"; printf '\0'; else printf '\0\0'; fi; if [ -n "$3" ] && [ -f "$1" ] && [ -r "$1" ] && { [ "$2" = 1 ] || [ ! -L "$1" ]; }; then "$3" < "$1" || exit 3; fi; printf '\0'; a=; [ -r "$1" ] && a=${a}r; [ -w "$1" ] && a=${a}w; [ -x "$1" ] && a=${a}x; printf '%s\0' "$a"; }; x() { printf 'X\0%s\0%s\0%s\0' "$1" "$3" "$2"; t "$2" "$3" "$4"; }; e() { if [ "$3" = 1 ]; then s='stat -L'; else s=stat; fi; printf 'R\0%s\0' "$1"; $s --printf '%n\0%f\0%u\0%g\0%U\0%G\0%s\0%X\0%Y\0%Z\0%i\0%h\0%d\0' -- "$2" || exit 3; t "$2" "$3" "$4"; }"#;

/// The host facts that open the output: pid, clock, umask (`umask` prints its own line, as a
/// command substitution would cost a process).
const HEADER: &str = r#"printf '%s\0' "$$" "$(date +%Y-%m-%d@%H:%M:%S)"; umask; printf '\0'"#;
/// The same without the clock.
const HEADER_NO_CLOCK: &str = r#"printf '%s\0\0' "$$"; umask; printf '\0'"#;

/// The shell test for "this probe has something to report".
fn exists_test(p: &Probe) -> String {
    let path = quote(&p.path);
    if p.links_only && p.follow {
        // A dangling link has nothing to follow.
        format!("[ -L {path} ] && [ -e {path} ]")
    } else if p.links_only {
        format!("[ -L {path} ]")
    } else if p.follow {
        format!("[ -e {path} ]")
    } else {
        format!("{{ [ -e {path} ] || [ -L {path} ]; }}")
    }
}

/// The shell line that reports on every probe. Every path that is there goes to one `stat`
/// (one for followed links): on a busy fleet a process per path is what a probe costs.
pub fn script(probes: &[Probe]) -> String {
    let mut s = String::from(RECORD_FN);
    s.push_str("; ");
    s.push_str(if probes.iter().any(|p| p.clock) { HEADER } else { HEADER_NO_CLOCK });
    for (follow, tag, stat) in [(false, 'S', "stat"), (true, 'L', "stat -L")] {
        s.push_str("; set --");
        let mut listed: Vec<&str> = Vec::new();
        for p in probes.iter().filter(|p| !p.recurse && p.follow == follow) {
            if listed.contains(&p.path.as_str()) {
                continue;
            }
            listed.push(&p.path);
            s.push_str(&format!("; if {}; then set -- \"$@\" {}; fi", exists_test(p), quote(&p.path)));
        }
        if !listed.is_empty() {
            s.push_str(&format!(
                "; if [ $# -gt 0 ]; then {stat} --printf '{tag}\\0{STAT_FORMAT}' -- \"$@\" || exit 3; fi"
            ));
        }
    }
    for (i, p) in probes.iter().enumerate() {
        let path = quote(&p.path);
        let follow = if p.follow { "1" } else { "0" };
        let algo = p.checksum.map_or("''", Checksum::tool);
        s.push_str(&format!("; if {}; then ", exists_test(p)));
        if p.recurse {
            // `find` starts a new shell per batch of entries; it gets the same functions.
            let inner = format!("{RECORD_FN}; for f; do e {i} \"$f\" 0 {algo}; done");
            s.push_str(&format!(
                "if [ -d {path} ] && ! [ -L {path} ]; then find {path} -exec sh -c {} sh {{}} + || exit 3; \
                 else e {i} {path} {follow} {algo}; fi",
                quote(&inner)
            ));
        } else {
            s.push_str(&format!("x {i} {path} {follow} {algo}"));
        }
        s.push_str("; fi");
    }
    s
}

/// The shell line that reports on one path given as a shell word (say `"$p"`, set earlier in
/// the same line by a command that creates it); its record is probe 0.
pub fn script_for_word(word: &str, checksum: Option<Checksum>) -> String {
    let algo = checksum.map_or("''", Checksum::tool);
    format!("{RECORD_FN}; {HEADER_NO_CLOCK}; e 0 {word} 0 {algo}")
}

/// Parses what [`script`] printed.
pub fn parse(out: &[u8]) -> Result<Facts, String> {
    let text = String::from_utf8_lossy(out);
    let mut fields: Vec<&str> = text.split('\0').collect();
    // Every field ends with NUL, so the last piece is empty.
    if fields.last() == Some(&"") {
        fields.pop();
    }
    let bad = || format!("unexpected file facts output ({} fields)", fields.len());
    if fields.len() < 3 {
        return Err(bad());
    }
    let num = |s: &str, what: &str| -> Result<i64, String> {
        s.trim().parse::<i64>().map_err(|_| format!("unexpected {what} `{s}` in file facts"))
    };
    let host = HostFacts {
        pid: u32::try_from(num(fields[0], "pid")?).unwrap_or(0),
        now: fields[1].to_string(),
        umask: u32::from_str_radix(fields[2].trim(), 8)
            .map_err(|_| format!("unexpected umask `{}`", fields[2]))?,
    };
    // Whole records, `stat` lines by (followed, path), and the probes' halves of records.
    let mut records: Vec<Vec<&str>> = Vec::new();
    let mut stats: std::collections::HashMap<(bool, &str), &[&str]> = std::collections::HashMap::new();
    let mut extras: Vec<&[&str]> = Vec::new();
    let mut at = 3;
    while at < fields.len() {
        let tag = fields[at];
        let len = match tag {
            "R" => RECORD_FIELDS,
            "S" | "L" => STAT_FIELDS,
            "X" => EXTRA_FIELDS,
            _ => return Err(bad()),
        };
        let body = fields.get(at + 1..at + 1 + len).ok_or_else(bad)?;
        match tag {
            "R" => records.push(body.to_vec()),
            "X" => extras.push(body),
            _ => {
                stats.insert((tag == "L", body[0]), body);
            }
        }
        at += 1 + len;
    }
    for x in extras {
        // index, followed, path | link target, real path, checksum, access
        let stat = stats.get(&(x[1] == "1", x[2])).ok_or_else(bad)?;
        let mut record = Vec::with_capacity(RECORD_FIELDS);
        record.push(x[0]);
        record.extend_from_slice(stat);
        record.extend_from_slice(&x[3..]);
        records.push(record);
    }
    let mut entries = records.iter().map(|r| entry(r, &num)).collect::<Result<Vec<_>, _>>()?;
    // Probe order, each tree in the order `find` walked it.
    entries.sort_by_key(|e| e.probe);
    Ok(Facts { host, entries })
}

/// One 18-field record: probe index, the 13 `stat` fields, link target, real path, checksum,
/// access.
fn entry(r: &[&str], num: &dyn Fn(&str, &str) -> Result<i64, String>) -> Result<FileInfo, String> {
    let raw = u32::from_str_radix(r[2], 16).map_err(|_| format!("unexpected mode `{}`", r[2]))?;
    let unsigned = |i: usize, what: &str| num(r[i], what).map(|n| u64::try_from(n).unwrap_or(0));
    let id = |i: usize, what: &str| num(r[i], what).map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    let kind = Kind::from_raw_mode(raw);
    let strip_nl = |s: &str| s.strip_suffix('\n').unwrap_or(s).to_string();
    Ok(FileInfo {
        probe: usize::try_from(num(r[0], "probe")?).unwrap_or(0),
        path: r[1].to_string(),
        kind,
        mode: raw & super::mode::MODE_BITS,
        uid: id(3, "uid")?,
        gid: id(4, "gid")?,
        owner: r[5].to_string(),
        group: r[6].to_string(),
        size: unsigned(7, "size")?,
        atime: num(r[8], "atime")?,
        mtime: num(r[9], "mtime")?,
        ctime: num(r[10], "ctime")?,
        inode: unsigned(11, "inode")?,
        nlink: unsigned(12, "nlink")?,
        dev: unsigned(13, "dev")?,
        link_target: (kind == Kind::Link).then(|| strip_nl(r[14])),
        real_path: (kind == Kind::Link && !r[15].is_empty()).then(|| strip_nl(r[15])),
        checksum: r[16].split_whitespace().next().map(str::to_string),
        readable: r[17].contains('r'),
        writeable: r[17].contains('w'),
        executable: r[17].contains('x'),
    })
}

/// Runs the probes on the host. The outer error is the connection's; the inner one is a
/// task failure worded for the user (permission denied, ...).
pub async fn read(ctx: &ModuleCtx<'_>, probes: &[Probe]) -> Result<Result<Facts, String>, ModuleError> {
    // The same probe asked twice (a loop's items share parents) is looked at once.
    let mut unique: Vec<Probe> = Vec::with_capacity(probes.len());
    let mut slot = Vec::with_capacity(probes.len());
    for p in probes {
        match unique.iter().position(|u| u == p) {
            Some(k) => slot.push(k),
            None => {
                slot.push(unique.len());
                unique.push(p.clone());
            }
        }
    }
    let out = ctx.exec(script(&unique)).await?;
    if !out.success() {
        let why = out.stderr_str();
        let why = why.trim();
        return Ok(Err(if why.is_empty() {
            "cannot read the file's state".to_string()
        } else {
            why.to_string()
        }));
    }
    Ok(parse(&out.stdout).map(|facts| {
        if unique.len() == probes.len() {
            return facts;
        }
        let entries = slot
            .iter()
            .enumerate()
            .flat_map(|(i, &k)| facts.tree(k).map(move |e| FileInfo { probe: i, ..e.clone() }))
            .collect();
        Facts { host: facts.host.clone(), entries }
    }))
}

/// Marks where [`read_then`]'s extra output starts.
const THEN_MARK: &[u8] = b"\n__baton_then__\n";

/// Like [`read`], and in the same round trip the shell snippet `then` (which may `exit 1`
/// with a message on stderr to fail); returns the facts and what `then` printed. One command
/// where a probe and a second look would be two.
pub async fn read_then(
    ctx: &ModuleCtx<'_>,
    probes: &[Probe],
    then: &str,
    what: &str,
) -> Result<Result<(Facts, Vec<u8>), String>, ModuleError> {
    let line = format!("{}\nprintf '\\n__baton_then__\\n'; {then}", script(probes));
    let out = ctx.exec(line).await?;
    if !out.success() {
        let why = out.stderr_str();
        let why = why.trim();
        return Ok(Err(if why.is_empty() { format!("cannot read {what}") } else { why.to_string() }));
    }
    let Some(at) = out.stdout.windows(THEN_MARK.len()).rposition(|w| w == THEN_MARK) else {
        return Ok(Err(format!("unexpected output while reading {what}")));
    };
    Ok(parse(&out.stdout[..at]).map(|facts| (facts, out.stdout[at + THEN_MARK.len()..].to_vec())))
}

/// Like [`read`], and in the same round trip the content of `path` when it is a regular file
/// (base64 on the wire, so any bytes survive).
pub async fn read_with_content(
    ctx: &ModuleCtx<'_>,
    probes: &[Probe],
    path: &str,
) -> Result<Result<(Facts, Option<Vec<u8>>), String>, ModuleError> {
    let q = quote(path);
    let then = format!("if [ -f {q} ]; then base64 -w0 < {q} || exit 1; fi");
    let (facts, encoded) = match read_then(ctx, probes, &then, path).await? {
        Ok(x) => x,
        Err(e) => return Ok(Err(e)),
    };
    let content =
        if encoded.iter().all(u8::is_ascii_whitespace) && facts.get(0, &trim_slashes(path)).is_none() {
            None
        } else {
            use base64::Engine as _;
            let text: Vec<u8> = encoded.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
            match base64::engine::general_purpose::STANDARD.decode(text) {
                Ok(bytes) => Some(bytes),
                Err(e) => return Ok(Err(format!("cannot decode {path}: {e}"))),
            }
        };
    Ok(Ok((facts, content)))
}

/// Mode, owner and group as a file module's parameters ask for them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attrs {
    pub mode: Option<Mode>,
    /// A user name or a numeric uid.
    pub owner: Option<String>,
    /// A group name or a numeric gid.
    pub group: Option<String>,
}

/// One path whose attributes a plan brings in line; `current` is `None` for a path the plan
/// itself creates (it starts with the umask's mode and unknown ownership).
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub path: &'a str,
    pub kind: Kind,
    pub current: Option<&'a FileInfo>,
}

/// What changes on one path, for the diff.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttrChange {
    pub path: String,
    pub mode: Option<(Option<u32>, u32)>,
    pub owner: Option<(Option<String>, String)>,
    pub group: Option<(Option<String>, String)>,
}

impl Attrs {
    pub fn from_args(args: &ModuleArgs, module: &str) -> Result<Attrs, ModuleError> {
        Ok(Attrs {
            mode: Mode::from_args(args, module, "mode")?,
            owner: args.str(module, "owner")?,
            group: args.str(module, "group")?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.mode.is_none() && self.owner.is_none() && self.group.is_none()
    }

    /// The mode `target` ends with (`None`: no mode asked for, or a symlink, whose mode
    /// Linux ignores). `source` is the mode `preserve` copies.
    pub fn wanted_mode(
        &self,
        target: &Target<'_>,
        umask: u32,
        source: Option<u32>,
    ) -> Result<Option<u32>, String> {
        match &self.mode {
            Some(m) if target.kind != Kind::Link => {
                m.resolve(target.current.map(|c| c.mode), target.kind == Kind::Dir, umask, source).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Adds the `chown`/`chmod` steps `targets` need (grouped, so a tree costs a few commands)
    /// and says what changes. Ownership goes first: `chown` clears setuid bits.
    pub fn plan(
        &self,
        plan: &mut Plan,
        targets: &[Target<'_>],
        umask: u32,
        source: Option<u32>,
    ) -> Result<Vec<AttrChange>, String> {
        let mut chown: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        let mut chmod: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
        let mut changes = Vec::new();
        for t in targets {
            let mut change = AttrChange { path: t.path.to_string(), ..AttrChange::default() };
            let owner =
                self.owner.as_ref().filter(|o| !t.current.is_some_and(|c| same_id(o, &c.owner, c.uid)));
            let group =
                self.group.as_ref().filter(|g| !t.current.is_some_and(|c| same_id(g, &c.group, c.gid)));
            if let Some(o) = owner {
                change.owner = Some((t.current.map(|c| c.owner.clone()), o.clone()));
            }
            if let Some(g) = group {
                change.group = Some((t.current.map(|c| c.group.clone()), g.clone()));
            }
            let spec = match (owner, group) {
                (Some(o), Some(g)) => Some(format!("{o}:{g}")),
                (Some(o), None) => Some(o.clone()),
                (None, Some(g)) => Some(format!(":{g}")),
                (None, None) => None,
            };
            if let Some(spec) = spec {
                chown.entry(spec).or_default().push(t.path);
            }
            if let Some(want) = self.wanted_mode(t, umask, source)? {
                let have = t.current.map(|c| c.mode);
                let start = have.unwrap_or_else(|| default_mode(t.kind == Kind::Dir, umask));
                // A chown clears a file's setuid/setgid, so those modes are set again.
                let cleared = (change.owner.is_some() || change.group.is_some()) && t.kind != Kind::Dir;
                if start != want || (cleared && want & 0o6000 != 0) {
                    change.mode = Some((have, want));
                    chmod.entry(want).or_default().push(t.path);
                }
            }
            if change.mode.is_some() || change.owner.is_some() || change.group.is_some() {
                changes.push(change);
            }
        }
        for (spec, paths) in chown {
            plan.exec("chown", format!("chown -h -- {} {}", quote(&spec), join(paths)));
        }
        for (mode, paths) in chmod {
            // Five digits: GNU chmod keeps a directory's setgid bit for a four-digit mode.
            plan.exec("chmod", format!("chmod 0{mode:04o} -- {}", join(paths)));
        }
        Ok(changes)
    }
}

/// True when the wanted owner/group (a name or a numeric id) is what the file has.
fn same_id(wanted: &str, name: &str, id: u32) -> bool {
    wanted == name || wanted.parse::<u32>().is_ok_and(|n| n == id)
}

/// The before/after text of a path's state and attributes, as the file modules show it in a
/// diff (`path:`, `state:`, `mode:`, `owner:`, `group:` lines).
pub fn describe(
    path: &str,
    state: &str,
    mode: Option<u32>,
    owner: Option<&str>,
    group: Option<&str>,
) -> String {
    let mut s = format!("path: {path}\nstate: {state}\n");
    if let Some(m) = mode {
        s.push_str(&format!("mode: {}\n", format_mode(m)));
    }
    if let Some(o) = owner {
        s.push_str(&format!("owner: {o}\n"));
    }
    if let Some(g) = group {
        s.push_str(&format!("group: {g}\n"));
    }
    s
}

/// The result keys Ansible's file-family modules return for a path: `mode` (a `"0644"`
/// string), `owner`, `group`, `uid`, `gid`, `size`, `state`.
pub fn result_keys(info: &FileInfo) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("mode".into(), format_mode(info.mode).into());
    m.insert("owner".into(), info.owner.clone().into());
    m.insert("group".into(), info.group.clone().into());
    m.insert("uid".into(), info.uid.into());
    m.insert("gid".into(), info.gid.into());
    m.insert("size".into(), info.size.into());
    m.insert("state".into(), info.kind.state_word().into());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(probe: usize, path: &str, raw: &str, target: &str, sum: &str) -> String {
        format!(
            "R\0{probe}\0{path}\0{raw}\01000\0100\0deploy\0users\042\01\02\03\0555\01\02049\0{target}\0{}\0{sum}\0rw\0",
            if target.is_empty() { "" } else { "/real" }
        )
    }

    #[test]
    fn parses_records_with_awkward_names() {
        let out = format!(
            "77\02026-01-02@03:04:05\00022\0{}{}",
            record(0, "/srv/a b\nc", "81a4", "", "da39a3ee5e6b4b0d3255bfef95601890afd80709  -\n"),
            record(1, "/srv/l", "a1ff", "../x y\n", "")
        );
        let facts = parse(out.as_bytes()).unwrap();
        assert_eq!(facts.host, HostFacts { pid: 77, now: "2026-01-02@03:04:05".into(), umask: 0o022 });
        let a = facts.get(0, "/srv/a b\nc").unwrap();
        assert_eq!((a.kind, a.mode, a.uid, a.gid, a.size), (Kind::File, 0o644, 1000, 100, 42));
        assert_eq!(a.checksum.as_deref(), Some("da39a3ee5e6b4b0d3255bfef95601890afd80709"));
        assert!(a.readable && a.writeable && !a.executable);
        let l = facts.get(1, "/srv/l").unwrap();
        assert_eq!(l.kind, Kind::Link);
        assert_eq!(l.link_target.as_deref(), Some("../x y"));
        assert_eq!(l.real_path.as_deref(), Some("/real"));
    }

    #[test]
    fn absent_paths_have_no_record_and_bad_output_is_an_error() {
        let facts = parse(b"1\0now\x00022\0").unwrap();
        assert!(facts.entries.is_empty());
        assert!(parse(b"1\0now\x00022\0x\0").is_err());
        // An `X` record whose path `stat` did not report.
        assert!(parse(b"1\0now\x00022\0X\x000\x000\0/a\0\0\0\0rw\0").is_err());
    }

    #[test]
    fn one_stat_serves_every_probe_of_a_path() {
        let stat = |tag: &str, path: &str, raw: &str| {
            format!("{tag}\0{path}\0{raw}\00\00\0root\0root\07\01\02\03\09\01\02049\0")
        };
        let out = format!(
            "9\0\0022\0{}{}X\00\00\0/l\0t\0/t\0\0rw\0X\01\01\0/l\0\0\0abc  -\n\0r\0X\02\00\0/l\0t\0/t\0\0rw\0",
            stat("S", "/l", "a1ff"),
            stat("L", "/l", "81a4")
        );
        let facts = parse(out.as_bytes()).unwrap();
        let kinds: Vec<_> = facts.entries.iter().map(|e| (e.probe, e.kind)).collect();
        assert_eq!(kinds, [(0, Kind::Link), (1, Kind::File), (2, Kind::Link)]);
        assert_eq!(facts.get(1, "/l").unwrap().checksum.as_deref(), Some("abc"));
        assert_eq!(facts.get(0, "/l").unwrap().link_target.as_deref(), Some("t"));
    }

    #[test]
    fn script_quotes_paths_and_asks_for_checksums() {
        let s = script(&[Probe::new("/a b/").checksum(Some(Checksum::Sha256)).follow(true)]);
        assert!(s.contains("if [ -e '/a b' ]; then set -- \"$@\" '/a b'; fi"), "{s}");
        assert!(s.contains("then stat -L --printf 'L\\0%n"), "{s}");
        assert!(s.contains("if [ -e '/a b' ]; then x 0 '/a b' 1 sha256sum; fi"), "{s}");
        let s =
            script(&[Probe::new("/a"), Probe::new("/b"), Probe::new("/a").checksum(Some(Checksum::Sha1))]);
        assert_eq!(s.matches("stat --printf").count(), 1, "{s}");
        assert_eq!(s.matches("set -- \"$@\" /a;").count(), 1, "{s}");
        let s = script(&[Probe::new("/d").recurse(true)]);
        assert!(s.contains("find /d -exec sh -c"), "{s}");
    }

    #[test]
    fn script_runs_on_this_machine_shell() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("d x");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/f\n1"), "x").unwrap();
        std::os::unix::fs::symlink("sub/f\n1", root.join("link")).unwrap();
        let root = root.to_string_lossy().into_owned();
        let probes = [
            Probe::new(format!("{root}/")).recurse(true).checksum(Some(Checksum::Sha1)),
            Probe::new(format!("{root}/link")).follow(true).checksum(Some(Checksum::Sha1)),
            Probe::new(format!("{root}/missing")),
            Probe::new(format!("{root}/sub")),
            Probe::new(format!("{root}/sub/f\n1")).checksum(Some(Checksum::Sha1)),
            Probe::new(format!("{root}/link")),
        ];
        let out = std::process::Command::new("sh").arg("-c").arg(script(&probes)).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let facts = parse(&out.stdout).unwrap();
        let mut names: Vec<_> =
            facts.tree(0).map(|e| relative(&root, &e.path).unwrap().to_string()).collect();
        names.sort();
        assert_eq!(names, ["", "link", "sub", "sub/f\n1"]);
        let file = facts.get(0, &format!("{root}/sub/f\n1")).unwrap();
        assert_eq!(file.checksum.as_deref(), Some(sha1_hex(b"x").as_str()));
        let link = facts.get(0, &format!("{root}/link")).unwrap();
        assert_eq!(
            (link.kind, link.link_target.as_deref(), link.checksum.as_deref()),
            (Kind::Link, Some("sub/f\n1"), None)
        );
        let followed = facts.get(1, &format!("{root}/link")).unwrap();
        assert_eq!((followed.kind, followed.size), (Kind::File, 1));
        assert_eq!(followed.checksum.as_deref(), Some(sha1_hex(b"x").as_str()));
        assert_eq!(facts.tree(2).count(), 0);
        assert_eq!(facts.get(3, &format!("{root}/sub")).map(|e| e.kind), Some(Kind::Dir));
        let plain = facts.get(4, &format!("{root}/sub/f\n1")).unwrap();
        assert_eq!((plain.kind, plain.checksum.as_deref()), (Kind::File, Some(sha1_hex(b"x").as_str())));
        let unfollowed = facts.get(5, &format!("{root}/link")).unwrap();
        assert_eq!((unfollowed.kind, unfollowed.link_target.as_deref()), (Kind::Link, Some("sub/f\n1")));
        assert_eq!(facts.entries.iter().filter(|e| e.probe >= 3).count(), 3);
        // Every path outside the tree went to one `stat` and one `stat -L`.
        let traced = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("stat() {{ echo called >&2; command stat \"$@\"; }}; {}", script(&probes[1..])))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&traced.stderr).matches("called").count(), 2);
    }

    #[test]
    fn relative_paths_below_a_root() {
        assert_eq!(relative("/d", "/d"), Some(""));
        assert_eq!(relative("/d", "/d/x/y"), Some("x/y"));
        assert_eq!(relative("/", "/etc"), Some("etc"));
        assert_eq!(relative("/d", "/dx"), None);
    }

    #[test]
    fn digests_match_the_coreutils_tools() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(md5_hex(b"a"), "0cc175b9c0f1b6a831c399e269772661");
    }
}
