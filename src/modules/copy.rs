//! `copy`: puts a file (or a tree) on the host from the controller, from `content`, or from
//! another path on the host (`remote_src`), as Ansible's copy module does.
//!
//! ```yaml
//! - copy: src=files/app.conf dest=/etc/app/ mode=0644 owner=root backup=yes
//! - copy:
//!     content: "{{ sudoers_line }}\n"
//!     dest: /etc/sudoers.d/deploy
//!     validate: visudo -cf %s
//! - copy: src=site/ dest=/srv/www directory_mode=0755   # the contents of site/
//! - copy: src=/etc/hosts dest=/tmp/hosts remote_src=yes
//! ```
//!
//! A relative local `src` is read relative to the controller's current directory (the engine
//! will resolve it against the play's search path before the module sees it).
//!
//! Nothing is uploaded when the host's sha1 (`sha1sum`) equals the controller's. A new file is
//! written atomically by [`Step::Put`] (temp file + rename); with `validate` it goes to a temp
//! path beside `dest`, is checked there, and only then moved over `dest`.
//!
//! The single-file planner, [`plan_write`], is shared with `assemble` and is meant for any
//! module that renders a whole file on the controller.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Map;

use super::fileinfo::{self, Attrs, Checksum, Facts, FileInfo, HostFacts, Kind, Probe, Target};
use super::mode::{Mode, default_mode};
use super::one_trip_write::{self, OneTrip};
use super::plan::{Diff, Plan, Step};
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::quote;
use crate::event::{Status, TaskResult};
use crate::template::filters::encoding::{JsonStyle, python_json};

pub static MODULE: ModuleDef = ModuleDef {
    name: "copy",
    free_form: false,
    params: &[
        "backup",
        "checksum",
        "content",
        "dest",
        "directory_mode",
        "follow",
        "force",
        "group",
        "local_follow",
        "mode",
        "owner",
        "remote_src",
        "src",
        "validate",
    ],
    run: crate::module_entry!(run),
    run_loop: None,
};

/// Ansible's limit for showing a file's content in a diff.
pub const MAX_DIFF_BYTES: u64 = 104_448;

/// Where the bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Content(String),
    /// A path on the controller (file or directory).
    Local(String),
    /// A path on the host (`remote_src: yes`).
    Remote(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    /// As given: a trailing `/` means "a directory; put the file inside".
    pub dest: String,
    pub source: Source,
    pub attrs: Attrs,
    pub directory_mode: Option<Mode>,
    pub backup: bool,
    pub force: bool,
    pub validate: Option<String>,
    pub local_follow: bool,
    /// A symbolic link at `dest` is written through (to what it points at), not replaced.
    pub follow: bool,
    /// The sha1 the source must have (Ansible's `checksum`).
    pub checksum: Option<String>,
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let dest = args
            .str(m, "dest")?
            .ok_or_else(|| ModuleError::MissingParam { module: m.into(), param: "dest".into() })?;
        let remote = args.bool(m, "remote_src")?.unwrap_or(false);
        // A list or mapping as `content` is written as JSON, as Ansible's copy action does.
        let content = match args.0.get("content") {
            Some(v @ (serde_json::Value::Array(_) | serde_json::Value::Object(_))) => {
                let style = JsonStyle { indent: None, sort_keys: false, ensure_ascii: true };
                Some(python_json(v, &style))
            }
            _ => args.str(m, "content")?,
        };
        let source = match (args.str(m, "src")?, content) {
            (Some(_), Some(_)) => return Err(bad("`src` and `content` are mutually exclusive")),
            (None, Some(_)) if remote => return Err(bad("`content` cannot be used with `remote_src`")),
            (None, Some(c)) => Source::Content(c),
            (Some(s), None) if remote => Source::Remote(s),
            (Some(s), None) => Source::Local(s),
            (None, None) => return Err(bad("`src` (or `content`) is required")),
        };
        let validate = args.str(m, "validate")?;
        if let Some(v) = &validate
            && !v.contains("%s")
        {
            return Err(bad(&format!("`validate` must contain `%s`: {v}")));
        }
        if matches!(source, Source::Content(_)) && dest.ends_with('/') {
            return Err(bad("can not use `content` with a directory as `dest`"));
        }
        Ok(Params {
            dest,
            source,
            attrs: Attrs::from_args(args, m)?,
            directory_mode: Mode::from_args(args, m, "directory_mode")?,
            backup: args.bool(m, "backup")?.unwrap_or(false),
            force: args.bool(m, "force")?.unwrap_or(true),
            validate,
            local_follow: args.bool(m, "local_follow")?.unwrap_or(true),
            follow: args.bool(m, "follow")?.unwrap_or(false),
            checksum: args.str(m, "checksum")?,
        })
    }
}

fn bad(message: &str) -> ModuleError {
    ModuleError::BadArgs { module: MODULE.name.to_string(), message: message.to_string() }
}

/// The last path component (`a/b/` → `b`).
fn basename(path: &str) -> &str {
    let t = path.trim_end_matches('/');
    t.rsplit_once('/').map_or(t, |(_, b)| b)
}

/// The directory part (`/a/b` → `/a`, `b` → `.`).
pub fn dirname(path: &str) -> String {
    match path.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) => "/".into(),
        Some((d, _)) => d.into(),
        None => ".".into(),
    }
}

fn join(dir: &str, rel: &str) -> String {
    match (dir, rel) {
        (d, "") => d.to_string(),
        ("/", r) => format!("/{r}"),
        (d, r) => format!("{}/{r}", d.trim_end_matches('/')),
    }
}

// ---------------------------------------------------------------------------------------------
// One file, from bytes or from a path on the host.

/// What goes into the destination file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Bytes(Vec<u8>),
    /// A regular file on the host, with its sha1.
    Remote {
        path: String,
        checksum: String,
    },
}

impl Payload {
    pub fn checksum(&self) -> String {
        match self {
            Payload::Bytes(b) => fileinfo::sha1_hex(b),
            Payload::Remote { checksum, .. } => checksum.clone(),
        }
    }
}

/// One whole-file write, as copy, template and assemble ask for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub dest: String,
    pub payload: Payload,
    pub attrs: Attrs,
    /// The source's mode, for `mode: preserve`.
    pub source_mode: Option<u32>,
    pub backup: bool,
    pub force: bool,
    pub validate: Option<String>,
}

/// What the host has at the destination.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteState {
    pub host: HostFacts,
    /// The destination, with its sha1, when it exists.
    pub dest: Option<FileInfo>,
    pub parent_exists: bool,
    /// The destination's current bytes, read only for a diff of a small text file.
    pub before: Option<Vec<u8>>,
}

/// What a write decided, beside its steps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOutcome {
    pub backup_file: Option<String>,
    /// The mode the file ends with.
    pub mode: Option<u32>,
    /// `force: no` left an existing file alone.
    pub kept: bool,
}

/// The name Ansible gives a backup: `dest.PID.YYYY-MM-DD@HH:MM:SS~`.
pub fn backup_name(dest: &str, host: &HostFacts) -> String {
    format!("{dest}.{}.{}~", host.pid, host.now)
}

/// Plans writing one file: nothing when the checksums match and the attributes are right,
/// only `chmod`/`chown` when just those differ, else backup, upload (or validate + move).
pub fn plan_write(w: &Write, s: &WriteState, plan: &mut Plan) -> Result<WriteOutcome, String> {
    let dest = w.dest.as_str();
    let current = s.dest.as_ref();
    if let Some(c) = current {
        if c.kind == Kind::Dir {
            return Err(format!("destination {dest} is a directory"));
        }
        if !w.force {
            return Ok(WriteOutcome { kept: true, mode: Some(c.mode), ..WriteOutcome::default() });
        }
    } else if !s.parent_exists {
        return Err(format!("Destination directory {} does not exist", dirname(dest)));
    }
    let regular = current.filter(|c| c.kind == Kind::File);
    let same = regular.is_some_and(|c| c.checksum.as_deref() == Some(w.payload.checksum().as_str()));
    let umask = s.host.umask;
    let mut out = WriteOutcome::default();
    if same {
        let t = [Target { path: dest, kind: Kind::File, current: regular }];
        let changes = w.attrs.plan(plan, &t, umask, w.source_mode)?;
        if let (Some(c), Some(change)) = (regular, changes.first()) {
            let m = change.mode.map(|(_, m)| m);
            let before = fileinfo::describe(dest, "file", change.mode.and(Some(c.mode)), None, None);
            let after = fileinfo::describe(dest, "file", m, None, None);
            plan.diffs.push(Diff {
                before_header: Some(dest.into()),
                after_header: Some(dest.into()),
                before,
                after,
            });
        }
        out.mode = w.attrs.wanted_mode(&t[0], umask, w.source_mode)?.or(regular.map(|c| c.mode));
        return Ok(out);
    }
    let target = Target { path: dest, kind: Kind::File, current: regular };
    let mode = w.attrs.wanted_mode(&target, umask, w.source_mode)?.unwrap_or_else(|| match regular {
        Some(c) => c.mode,
        None => default_mode(false, umask),
    });
    out.mode = Some(mode);
    let q = quote(dest);
    if w.backup && regular.is_some() {
        let name = backup_name(dest, &s.host);
        plan.exec("backup", format!("cp -p -- {q} {}", quote(&name)));
        out.backup_file = Some(name);
    }
    let tmp = format!("{}/.{}.{}.baton.tmp", dirname(dest), basename(dest), s.host.pid);
    let qt = quote(&tmp);
    let check = w.validate.as_ref().map(|v| v.replace("%s", &qt));
    match &w.payload {
        Payload::Bytes(bytes) => {
            let put_dest = if check.is_some() { tmp.clone() } else { dest.to_string() };
            plan.steps.push(Step::Put {
                dest: put_dest,
                content: bytes.clone(),
                mode: Some(mode),
                owner: w.attrs.owner.clone(),
                group: w.attrs.group.clone(),
            });
            if let Some(check) = check {
                plan.exec(
                    "validate",
                    format!("{{ {check}; }} >&2 || {{ rm -f -- {qt}; exit 1; }}; mv -f -- {qt} {q}"),
                );
            }
        }
        Payload::Remote { path, .. } => {
            let mut line = format!("cp -- {} {qt}", quote(path));
            match (&w.attrs.owner, &w.attrs.group) {
                (None, None) => {}
                (o, g) => {
                    let spec = format!(
                        "{}{}",
                        o.as_deref().unwrap_or(""),
                        g.as_ref().map(|g| format!(":{g}")).unwrap_or_default()
                    );
                    line.push_str(&format!(" && chown -- {} {qt}", quote(&spec)));
                }
            }
            line.push_str(&format!(" && chmod 0{mode:04o} -- {qt}"));
            if let Some(check) = check {
                line.push_str(&format!(" && {{ {check}; }} >&2"));
            }
            plan.exec("copy", format!("{{ {line}; }} || {{ rm -f -- {qt}; exit 1; }}; mv -f -- {qt} {q}"));
        }
    }
    plan.diffs.push(content_diff(dest, s.before.as_deref(), &w.payload, regular.is_none()));
    Ok(out)
}

/// Before/after text when both sides are small text; otherwise a note, as Ansible shows it.
fn content_diff(dest: &str, before: Option<&[u8]>, payload: &Payload, created: bool) -> Diff {
    let text = |b: &[u8]| -> Option<String> {
        if b.len() as u64 > MAX_DIFF_BYTES || b.contains(&0) {
            return None;
        }
        String::from_utf8(b.to_vec()).ok()
    };
    let before_text = if created { Some(String::new()) } else { before.and_then(text) };
    let after_text = match payload {
        Payload::Bytes(b) => text(b),
        Payload::Remote { .. } => None,
    };
    let (before, after) = match (before_text, after_text) {
        (Some(b), Some(a)) => (b, a),
        _ => (String::new(), "(binary or large file, or content on the host: diff not shown)\n".to_string()),
    };
    Diff {
        before_header: Some(if created { "/dev/null".into() } else { dest.into() }),
        after_header: Some(dest.into()),
        before,
        after,
    }
}

// ---------------------------------------------------------------------------------------------
// Sources: one file or a tree, on the controller or on the host.

/// One entry of a source tree, relative to where it lands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Dir { rel: String },
    File { rel: String, payload: Payload, mode: u32 },
    Link { rel: String, target: String },
}

impl Entry {
    fn rel(&self) -> &str {
        match self {
            Entry::Dir { rel } | Entry::File { rel, .. } | Entry::Link { rel, .. } => rel,
        }
    }
}

/// Looks a local `src` up in the controller's search path (role `files/`, the playbook's
/// `files/`), keeping a trailing slash, which means "the contents of".
fn find_local(ctx: &ModuleCtx<'_>, src: &str) -> Result<String, String> {
    let found = ctx.controller.find(crate::modules::SearchKind::Files, src)?;
    let mut found = found.to_string_lossy().into_owned();
    if src.ends_with('/') && !found.ends_with('/') {
        found.push('/');
    }
    Ok(found)
}

/// Reads a local source into entries; a directory is walked in name order.
pub fn load_local(src: &str, follow: bool) -> Result<(bool, Vec<Entry>), String> {
    use std::os::unix::fs::PermissionsExt;
    let root = PathBuf::from(src);
    let meta = std::fs::metadata(&root)
        .map_err(|e| format!("could not find or access `{src}` on the controller: {e}"))?;
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read `{}`: {e}", p.display()));
    if !meta.is_dir() {
        let payload = Payload::Bytes(read(&root)?);
        return Ok((
            false,
            vec![Entry::File { rel: String::new(), payload, mode: meta.permissions().mode() & 0o7777 }],
        ));
    }
    let mut entries = Vec::new();
    for item in walkdir::WalkDir::new(&root).follow_links(follow).sort_by_file_name() {
        let item = item.map_err(|e| format!("cannot walk `{src}`: {e}"))?;
        let rel = item.path().strip_prefix(&root).unwrap_or(item.path()).to_string_lossy().into_owned();
        let ft = item.file_type();
        if ft.is_dir() {
            entries.push(Entry::Dir { rel });
        } else if ft.is_symlink() {
            let target =
                std::fs::read_link(item.path()).map_err(|e| format!("cannot read link `{rel}`: {e}"))?;
            entries.push(Entry::Link { rel, target: target.to_string_lossy().into_owned() });
        } else if ft.is_file() {
            let meta = item.metadata().map_err(|e| format!("cannot read `{rel}`: {e}"))?;
            entries.push(Entry::File {
                rel,
                payload: Payload::Bytes(read(item.path())?),
                mode: meta.permissions().mode() & 0o7777,
            });
        }
    }
    Ok((true, entries))
}

/// Turns a probed host tree into source entries (for `remote_src`).
fn remote_entries(root: &str, tree: &[&FileInfo]) -> Vec<Entry> {
    let mut out: Vec<Entry> = tree
        .iter()
        .filter_map(|e| {
            let rel = fileinfo::relative(root, &e.path)?.to_string();
            Some(match e.kind {
                Kind::Dir => Entry::Dir { rel },
                Kind::Link => Entry::Link { rel, target: e.link_target.clone().unwrap_or_default() },
                _ => Entry::File {
                    rel,
                    payload: Payload::Remote {
                        path: e.path.clone(),
                        checksum: e.checksum.clone().unwrap_or_default(),
                    },
                    mode: e.mode,
                },
            })
        })
        .collect();
    out.sort_by(|a, b| a.rel().cmp(b.rel()));
    out
}

// ---------------------------------------------------------------------------------------------
// The whole module: layout, state, plan.

/// What the host has, for every path the copy may touch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub host: HostFacts,
    /// `dest` as given (its trailing slash removed).
    pub dest: Option<FileInfo>,
    /// Every existing entry at and below where the copy lands, by path.
    pub existing: HashMap<String, FileInfo>,
    pub parent_exists: bool,
    /// Current bytes of the single destination file, for the diff.
    pub before: Option<Vec<u8>>,
}

/// Where the copy lands: the file or directory root on the host.
pub fn landing(p: &Params, is_dir_src: bool, dest_is_dir: bool) -> String {
    let dest = fileinfo::trim_slashes(&p.dest);
    let src = match &p.source {
        Source::Content(_) => return dest,
        Source::Local(s) | Source::Remote(s) => s,
    };
    if is_dir_src {
        // `src=dir/` copies what is inside; `src=dir` copies the directory itself.
        if src.ends_with('/') { dest } else { join(&dest, basename(src)) }
    } else if p.dest.ends_with('/') || dest_is_dir {
        join(&dest, basename(src))
    } else {
        dest
    }
}

/// The plan for a whole copy: the landing path and its entries against what exists.
pub fn plan(
    p: &Params,
    entries: &[Entry],
    is_dir_src: bool,
    s: &State,
) -> Result<(Plan, String, WriteOutcome), ModuleError> {
    let fail = |m: String| bad(&m);
    let dest_is_dir = s.dest.as_ref().is_some_and(FileInfo::is_dir);
    if matches!(p.source, Source::Content(_)) && dest_is_dir {
        return Err(fail("can not use `content` with a directory as `dest`".into()));
    }
    let root = landing(p, is_dir_src, dest_is_dir);
    let mut plan = Plan::default();
    if !is_dir_src {
        let Some(Entry::File { payload, mode, .. }) = entries.first() else {
            return Err(fail("nothing to copy".into()));
        };
        let w = Write {
            dest: root.clone(),
            payload: payload.clone(),
            attrs: p.attrs.clone(),
            source_mode: Some(*mode),
            backup: p.backup,
            force: p.force,
            validate: p.validate.clone(),
        };
        // `dest: dir/` that does not exist yet is made first, as Ansible's copy does.
        let make_dir = p.dest.ends_with('/') && s.dest.is_none() && !matches!(p.source, Source::Content(_));
        if make_dir {
            plan.exec("create the destination directory", format!("mkdir -p -- {}", quote(&dirname(&root))));
        }
        let ws = WriteState {
            host: s.host.clone(),
            dest: s.existing.get(&root).cloned(),
            parent_exists: s.parent_exists || s.existing.contains_key(&dirname(&root)) || make_dir,
            before: s.before.clone(),
        };
        let out = plan_write(&w, &ws, &mut plan).map_err(fail)?;
        return Ok((plan, root, out));
    }
    let umask = s.host.umask;
    let mut new_dirs: Vec<String> = Vec::new();
    for entry in entries {
        let path = join(&root, entry.rel());
        let have = s.existing.get(&path);
        match entry {
            Entry::Dir { .. } => match have {
                Some(h) if h.kind == Kind::Dir => {}
                Some(_) => return Err(fail(format!("{path} exists and is not a directory"))),
                None => {
                    plan.exec("mkdir", format!("mkdir -p -- {}", quote(&path)));
                    new_dirs.push(path);
                }
            },
            Entry::Link { target, .. } => {
                if have.is_none_or(|h| h.link_target.as_deref() != Some(target.as_str())) {
                    plan.exec("link", format!("ln -sfn -- {} {}", quote(target), quote(&path)));
                }
            }
            Entry::File { payload, mode, .. } => {
                let w = Write {
                    dest: path.clone(),
                    payload: payload.clone(),
                    attrs: p.attrs.clone(),
                    source_mode: Some(*mode),
                    backup: p.backup,
                    force: p.force,
                    validate: p.validate.clone(),
                };
                // A parent created by this plan exists by the time the file is written.
                let ws = WriteState {
                    host: s.host.clone(),
                    dest: have.cloned(),
                    parent_exists: true,
                    before: None,
                };
                plan_write(&w, &ws, &mut plan).map_err(fail)?;
            }
        }
    }
    // `directory_mode` (and owner/group) apply to the directories this copy creates.
    let dir_attrs =
        Attrs { mode: p.directory_mode.clone(), owner: p.attrs.owner.clone(), group: p.attrs.group.clone() };
    let targets: Vec<Target<'_>> =
        new_dirs.iter().map(|d| Target { path: d, kind: Kind::Dir, current: None }).collect();
    dir_attrs.plan(&mut plan, &targets, umask, None).map_err(fail)?;
    // Only the file contents make a useful diff for a tree; drop the per-file notes.
    plan.diffs.retain(|d| !d.after.starts_with("(binary"));
    Ok((plan, root, WriteOutcome::default()))
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let mut p = Params::parse(&args)?;
    let mut dest = fileinfo::trim_slashes(&p.dest);
    // Local sources are read first: a missing file fails before the host is asked anything.
    let (is_dir_src, mut entries) = match &p.source {
        Source::Content(c) => (
            false,
            vec![Entry::File {
                rel: String::new(),
                payload: Payload::Bytes(c.clone().into_bytes()),
                mode: 0o644,
            }],
        ),
        Source::Local(src) => match find_local(ctx, src).and_then(|found| load_local(&found, p.local_follow))
        {
            Ok(x) => x,
            Err(msg) => return Ok(failed(&p, msg)),
        },
        Source::Remote(_) => (false, Vec::new()),
    };
    if let (Some(want), Some(Entry::File { payload, .. })) = (&p.checksum, entries.first())
        && !is_dir_src
        && &payload.checksum() != want
    {
        return Ok(failed(
            &p,
            format!(
                "copied file does not match the expected checksum. Got: {}. Expected: {want}.",
                payload.checksum()
            ),
        ));
    }
    // `follow: yes`: a link at dest is written through, so everything after works on its target.
    if p.follow && !p.dest.ends_with('/') {
        match followed(ctx, &dest).await? {
            Ok(Some(real)) => {
                p.dest.clone_from(&real);
                dest = real;
            }
            Ok(None) => {}
            Err(msg) => return Ok(failed(&p, msg)),
        }
    }
    // The usual single-file write decides on the host whether the bytes differ and writes
    // them in the same round trip.
    if !is_dir_src
        && !p.dest.ends_with('/')
        && !matches!(p.source, Source::Remote(_))
        && let Some(Entry::File { payload, mode, .. }) = entries.first()
    {
        let w = Write {
            dest: dest.clone(),
            payload: payload.clone(),
            attrs: p.attrs.clone(),
            source_mode: Some(*mode),
            backup: p.backup,
            force: p.force,
            validate: p.validate.clone(),
        };
        let mut data = Map::new();
        data.insert("dest".into(), dest.clone().into());
        if let Source::Local(src) = &p.source {
            data.insert("src".into(), src.clone().into());
        }
        data.insert("checksum".into(), payload.checksum().into());
        if let Payload::Bytes(b) = payload {
            data.insert("md5sum".into(), fileinfo::md5_hex(b).into());
        }
        data.insert("state".into(), "file".into());
        if let OneTrip::Done(mut result) = one_trip_write::write(ctx, &w, data).await? {
            if result.status == Status::Failed {
                result.data.insert("dest".into(), dest.into());
            }
            return Ok(result);
        }
    }
    // One round trip: dest, where a file would land inside it, dest's parent, and for a
    // remote source the source itself. A tree is listed where it may land.
    let src_name = match &p.source {
        Source::Local(s) | Source::Remote(s) => Some(s.clone()),
        Source::Content(_) => None,
    };
    let maybe_dir = is_dir_src || matches!(p.source, Source::Remote(_));
    let slash = src_name.as_ref().is_some_and(|s| s.ends_with('/'));
    let inside = src_name.as_ref().map_or_else(|| dest.clone(), |s| join(&dest, basename(s)));
    let mut probes = vec![
        Probe::new(&dest).recurse(maybe_dir && slash).checksum(Some(Checksum::Sha1)).clock(p.backup),
        Probe::new(&inside).recurse(maybe_dir && !slash).checksum(Some(Checksum::Sha1)),
        Probe::new(dirname(&dest)),
    ];
    if let Source::Remote(src) = &p.source {
        probes.push(Probe::new(src).follow(true).recurse(true).checksum(Some(Checksum::Sha1)));
    }
    let facts = match fileinfo::read(ctx, &probes).await? {
        Ok(f) => f,
        Err(msg) => return Ok(failed(&p, msg)),
    };
    let mut is_dir_src = is_dir_src;
    if let Source::Remote(src) = &p.source {
        let root = fileinfo::trim_slashes(src);
        let Some(top) = facts.get(3, &root) else {
            return Ok(failed(&p, format!("Source {src} not found")));
        };
        is_dir_src = top.is_dir();
        if is_dir_src {
            let tree: Vec<&FileInfo> = facts.tree(3).collect();
            entries = remote_entries(&root, &tree);
        } else {
            let Some(sum) = top.checksum.clone() else {
                return Ok(failed(&p, format!("Source {src} is not readable")));
            };
            let payload = Payload::Remote { path: root.clone(), checksum: sum };
            entries = vec![Entry::File { rel: String::new(), payload, mode: top.mode }];
        }
    }
    let mut state = state_from(&facts, &dest);
    // Ansible's copy action answers `changed` in check mode as soon as the checksums differ,
    // before its module could notice a missing parent directory (an earlier task of the same
    // check run would have created it).
    state.parent_exists |= ctx.check_mode;
    let root = landing(&p, is_dir_src, state.dest.as_ref().is_some_and(FileInfo::is_dir));
    // The current content, only for a diff of a small file that is about to change.
    if ctx.diff
        && !is_dir_src
        && let (Some(cur), Some(Entry::File { payload, .. })) = (state.existing.get(&root), entries.first())
        && cur.kind == Kind::File
        && cur.size <= MAX_DIFF_BYTES
        && cur.checksum.as_deref() != Some(payload.checksum().as_str())
    {
        state.before = ctx.conn.get(&root, ctx.r#become.as_ref()).await.ok();
    }
    let (plan, root, outcome) = match plan(&p, &entries, is_dir_src, &state) {
        Ok(x) => x,
        Err(ModuleError::BadArgs { message, .. }) => return Ok(failed(&p, message)),
        Err(e) => return Err(e),
    };
    let changed = !plan.is_empty();
    let mut data = Map::new();
    data.insert("dest".into(), root.clone().into());
    if let Some(src) = &src_name {
        data.insert("src".into(), src.clone().into());
    }
    if outcome.kept {
        data.insert("msg".into(), "file already exists".into());
    }
    if !is_dir_src && let Some(Entry::File { payload, .. }) = entries.first() {
        data.insert("checksum".into(), payload.checksum().into());
        if let Payload::Bytes(b) = payload {
            data.insert("md5sum".into(), fileinfo::md5_hex(b).into());
            data.insert("size".into(), b.len().into());
        }
        if let Some(cur) = state.existing.get(&root) {
            let mut keys = fileinfo::result_keys(cur);
            keys.remove("size");
            data.extend(keys);
        }
        if let Some(m) = outcome.mode {
            data.insert("mode".into(), super::mode::format_mode(m).into());
        }
        data.insert("state".into(), "file".into());
    }
    if let Some(b) = &outcome.backup_file {
        data.insert("backup_file".into(), b.clone().into());
    }
    // Owner and ids as the host now has them, read back in the same round trip as the change.
    let again = [Probe::new(&root)];
    let then = if is_dir_src { String::new() } else { fileinfo::script(&again) };
    let (mut result, after) = plan.apply_then(ctx, data, &then).await?;
    if result.status == Status::Failed {
        result.data.insert("dest".into(), root.into());
        return Ok(result);
    }
    let after = match after {
        Some(out) if !then.is_empty() => Some(fileinfo::parse(&out)),
        _ if changed && !ctx.check_mode && !is_dir_src => Some(fileinfo::read(ctx, &again).await?),
        _ => None,
    };
    if let Some(Ok(f)) = after
        && let Some(info) = f.get(0, &root)
    {
        result.data.extend(fileinfo::result_keys(info));
        if let Some(Entry::File { payload: Payload::Bytes(b), .. }) = entries.first() {
            result.data.insert("size".into(), b.len().into());
        }
    }
    Ok(result)
}

fn state_from(facts: &Facts, dest: &str) -> State {
    let mut existing: HashMap<String, FileInfo> = HashMap::new();
    for e in facts.entries.iter().filter(|e| e.probe < 2) {
        existing.insert(e.path.clone(), e.clone());
    }
    State {
        host: facts.host.clone(),
        dest: facts.get(0, dest).cloned(),
        parent_exists: facts.get(2, &dirname(dest)).is_some_and(FileInfo::is_dir),
        existing,
        before: None,
    }
}

/// Where a symbolic link at `dest` leads, for `follow: yes`: `None` unless dest is a link to
/// an existing file (a dangling link is replaced by the file, as Ansible does).
async fn followed(ctx: &ModuleCtx<'_>, dest: &str) -> Result<Result<Option<String>, String>, ModuleError> {
    let d = quote(dest);
    let out =
        ctx.exec(format!("if [ -L {d} ] && [ -e {d} ] && ! [ -d {d} ]; then readlink -f -- {d}; fi")).await?;
    if !out.success() {
        return Ok(Err(format!("cannot follow the link {dest}: {}", out.stderr_str().trim())));
    }
    let text = out.stdout_str();
    let path = text.strip_suffix('\n').unwrap_or(&text);
    Ok(Ok((!path.is_empty()).then(|| path.to_string())))
}

fn failed(p: &Params, msg: String) -> TaskResult {
    let mut r = TaskResult::failed(msg);
    r.data.insert("dest".into(), p.dest.clone().into());
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn params(v: Value) -> Params {
        Params::parse(&ModuleArgs(v.as_object().unwrap().clone())).unwrap()
    }

    fn file_with(path: &str, content: &[u8], mode: u32) -> FileInfo {
        FileInfo {
            checksum: Some(fileinfo::sha1_hex(content)),
            size: content.len() as u64,
            ..FileInfo::sample(path, Kind::File, mode)
        }
    }

    fn steps(plan: &Plan) -> Vec<String> {
        plan.steps
            .iter()
            .map(|st| match st {
                Step::Exec { cmd, .. } => cmd.clone(),
                Step::Put { dest, content, mode, owner, group } => format!(
                    "put {dest} {:?} {} {} {}",
                    String::from_utf8_lossy(content),
                    mode.map_or("-".into(), |m| format!("{m:o}")),
                    owner.as_deref().unwrap_or("-"),
                    group.as_deref().unwrap_or("-")
                ),
            })
            .collect()
    }

    fn single(p: &Params, existing: Vec<FileInfo>, parent: bool) -> Result<Vec<String>, ModuleError> {
        let content = match &p.source {
            Source::Content(c) => c.clone().into_bytes(),
            _ => b"local".to_vec(),
        };
        let entries = [Entry::File { rel: String::new(), payload: Payload::Bytes(content), mode: 0o600 }];
        let dest = fileinfo::trim_slashes(&p.dest);
        let s = State {
            dest: existing.iter().find(|e| e.path == dest).cloned(),
            existing: existing.into_iter().map(|e| (e.path.clone(), e)).collect(),
            parent_exists: parent,
            ..State::default()
        };
        plan(p, &entries, false, &s).map(|(plan, _, _)| steps(&plan))
    }

    /// (params, what exists) → the steps; an empty list means `ok`.
    #[test]
    fn single_file_cases_as_data() {
        let cases: Vec<(&str, Value, Vec<FileInfo>, Vec<&str>)> = vec![
            (
                "new file from content",
                json!({"content": "hi\n", "dest": "/etc/x"}),
                vec![],
                vec![r#"put /etc/x "hi\n" 644 - -"#],
            ),
            (
                "same content: nothing",
                json!({"content": "hi\n", "dest": "/etc/x"}),
                vec![file_with("/etc/x", b"hi\n", 0o600)],
                vec![],
            ),
            (
                "different content keeps the old mode",
                json!({"content": "new", "dest": "/etc/x"}),
                vec![file_with("/etc/x", b"old", 0o600)],
                vec![r#"put /etc/x "new" 600 - -"#],
            ),
            (
                "same content, other mode: chmod only",
                json!({"content": "hi", "dest": "/etc/x", "mode": "0640"}),
                vec![file_with("/etc/x", b"hi", 0o644)],
                vec!["chmod 00640 -- /etc/x"],
            ),
            (
                "symbolic mode against the existing file",
                json!({"content": "new", "dest": "/etc/x", "mode": "u+x", "owner": "root", "group": "wheel"}),
                vec![file_with("/etc/x", b"old", 0o644)],
                vec![r#"put /etc/x "new" 744 root wheel"#],
            ),
            (
                "preserve takes the source's mode",
                json!({"src": "files/a", "dest": "/etc/x", "mode": "preserve"}),
                vec![],
                vec![r#"put /etc/x "local" 600 - -"#],
            ),
            (
                "backup before overwriting",
                json!({"content": "new", "dest": "/etc/x", "backup": true}),
                vec![file_with("/etc/x", b"old", 0o644)],
                vec!["cp -p -- /etc/x '/etc/x.4242.2026-01-02@03:04:05~'", r#"put /etc/x "new" 644 - -"#],
            ),
            (
                "no backup of a file that does not exist",
                json!({"content": "new", "dest": "/etc/x", "backup": true}),
                vec![],
                vec![r#"put /etc/x "new" 644 - -"#],
            ),
            (
                "force no keeps an existing file",
                json!({"content": "new", "dest": "/etc/x", "force": false}),
                vec![file_with("/etc/x", b"old", 0o644)],
                vec![],
            ),
            (
                "validate uploads beside, checks, then moves",
                json!({"content": "x", "dest": "/etc/sudoers.d/d", "validate": "visudo -cf %s"}),
                vec![],
                vec![
                    r#"put /etc/sudoers.d/.d.4242.baton.tmp "x" 644 - -"#,
                    "{ visudo -cf /etc/sudoers.d/.d.4242.baton.tmp; } >&2 || { rm -f -- /etc/sudoers.d/.d.4242.baton.tmp; exit 1; }; mv -f -- /etc/sudoers.d/.d.4242.baton.tmp /etc/sudoers.d/d",
                ],
            ),
            (
                "dest ending in / puts the file inside",
                json!({"src": "files/app.conf", "dest": "/etc/app/"}),
                vec![FileInfo::sample("/etc/app", Kind::Dir, 0o755)],
                vec![r#"put /etc/app/app.conf "local" 644 - -"#],
            ),
            (
                "dest an existing directory puts the file inside",
                json!({"src": "files/app.conf", "dest": "/etc/app"}),
                vec![
                    FileInfo::sample("/etc/app", Kind::Dir, 0o755),
                    file_with("/etc/app/app.conf", b"local", 0o644),
                ],
                vec![],
            ),
            (
                "a symlink at dest is replaced by the file",
                json!({"content": "x", "dest": "/etc/x"}),
                vec![FileInfo {
                    link_target: Some("y".into()),
                    ..FileInfo::sample("/etc/x", Kind::Link, 0o777)
                }],
                vec![r#"put /etc/x "x" 644 - -"#],
            ),
        ];
        for (name, args, existing, want) in cases {
            assert_eq!(single(&params(args), existing, true).unwrap(), want, "{name}");
        }
    }

    #[test]
    fn refusals() {
        let err = single(&params(json!({"content": "x", "dest": "/nope/x"})), vec![], false).unwrap_err();
        assert!(err.to_string().contains("Destination directory /nope does not exist"), "{err}");
        let err = single(
            &params(json!({"content": "x", "dest": "/etc"})),
            vec![FileInfo::sample("/etc", Kind::Dir, 0o755)],
            true,
        )
        .unwrap_err();
        assert!(err.to_string().contains("can not use `content` with a directory"), "{err}");
        for (args, want) in [
            (json!({"dest": "/x"}), "`src` (or `content`) is required"),
            (json!({"src": "a", "content": "b", "dest": "/x"}), "mutually exclusive"),
            (json!({"content": "b", "dest": "/x", "validate": "visudo"}), "must contain `%s`"),
            (json!({"content": "b"}), "needs the parameter `dest`"),
        ] {
            let err = Params::parse(&ModuleArgs(args.as_object().unwrap().clone())).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn remote_source_copies_on_the_host() {
        let w = Write {
            dest: "/etc/x".into(),
            payload: Payload::Remote { path: "/tmp/a b".into(), checksum: "abc".into() },
            attrs: Attrs { mode: None, owner: Some("root".into()), group: None },
            source_mode: Some(0o600),
            backup: false,
            force: true,
            validate: None,
        };
        let mut plan = Plan::default();
        plan_write(&w, &WriteState { parent_exists: true, ..WriteState::default() }, &mut plan).unwrap();
        assert_eq!(
            steps(&plan),
            [
                "{ cp -- '/tmp/a b' /etc/.x.4242.baton.tmp && chown -- root /etc/.x.4242.baton.tmp && chmod 00644 -- /etc/.x.4242.baton.tmp; } || { rm -f -- /etc/.x.4242.baton.tmp; exit 1; }; mv -f -- /etc/.x.4242.baton.tmp /etc/x"
            ]
        );
    }

    #[test]
    fn directory_trees() {
        let entries = vec![
            Entry::Dir { rel: String::new() },
            Entry::File { rel: "a".into(), payload: Payload::Bytes(b"A".to_vec()), mode: 0o644 },
            Entry::Dir { rel: "sub".into() },
            Entry::File { rel: "sub/b".into(), payload: Payload::Bytes(b"B".to_vec()), mode: 0o644 },
        ];
        let p = params(json!({"src": "site", "dest": "/srv", "directory_mode": "0750"}));
        let s = State {
            existing: [
                ("/srv/site".to_string(), FileInfo::sample("/srv/site", Kind::Dir, 0o755)),
                ("/srv/site/a".to_string(), file_with("/srv/site/a", b"A", 0o644)),
            ]
            .into(),
            parent_exists: true,
            ..State::default()
        };
        let (plan, root, _) = plan(&p, &entries, true, &s).unwrap();
        assert_eq!(root, "/srv/site");
        assert_eq!(
            steps(&plan),
            [
                "mkdir -p -- /srv/site/sub",
                r#"put /srv/site/sub/b "B" 644 - -"#,
                "chmod 00750 -- /srv/site/sub"
            ]
        );
        // Contents only, into dest itself.
        let p = params(json!({"src": "site/", "dest": "/srv"}));
        assert_eq!(landing(&p, true, true), "/srv");
    }

    #[test]
    fn diff_shows_text_before_and_after() {
        let w = Write {
            dest: "/etc/x".into(),
            payload: Payload::Bytes(b"new\n".to_vec()),
            attrs: Attrs::default(),
            source_mode: None,
            backup: false,
            force: true,
            validate: None,
        };
        let s = WriteState {
            dest: Some(file_with("/etc/x", b"old\n", 0o644)),
            parent_exists: true,
            before: Some(b"old\n".to_vec()),
            ..WriteState::default()
        };
        let mut plan = Plan::default();
        plan_write(&w, &s, &mut plan).unwrap();
        assert_eq!((plan.diffs[0].before.as_str(), plan.diffs[0].after.as_str()), ("old\n", "new\n"));
    }
}
