//! `file`: makes a path a file, directory, symlink, hard link or nothing, with the mode, owner
//! and group asked for, as Ansible's file module does.
//!
//! ```yaml
//! - file: path=/srv/app/releases state=directory mode=0755 owner=deploy
//! - file:
//!     path: /srv/app/current
//!     src: releases/42
//!     state: link
//! - file: path=/srv/app/shared recurse=yes mode=u+rwX,go-w state=directory
//! - file: path=/tmp/flag state=touch
//! - file: path=/tmp/old state=absent
//! ```
//!
//! The current state comes from one [`fileinfo`] round trip (the path, what it links to, the
//! link source, the missing parents for `directory`, the whole tree for `recurse`).

use serde_json::{Map, Value};

use super::fileinfo::{self, AttrChange, Attrs, Facts, FileInfo, HostFacts, Kind, Probe, Target};
use super::plan::{Diff, Plan, Step};
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::quote;
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "file",
    free_form: false,
    params: &[
        "access_time",
        "access_time_format",
        "dest",
        "follow",
        "force",
        "group",
        "mode",
        "modification_time",
        "modification_time_format",
        "name",
        "owner",
        "path",
        "recurse",
        "src",
        "state",
    ],
    run: crate::module_entry!(run),
    run_loop: Some(crate::loop_entry!(run_loop)),
};

/// `modification_time` / `access_time`: leave as is, or set to the current time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// Not given: `now` for `state: touch`, `preserve` otherwise (Ansible's defaults).
    Default,
    Preserve,
    Now,
}

impl Stamp {
    fn parse(args: &ModuleArgs, key: &str) -> Result<Stamp, ModuleError> {
        match args.str(MODULE.name, key)?.as_deref() {
            None => Ok(Stamp::Default),
            Some("preserve") => Ok(Stamp::Preserve),
            Some("now") => Ok(Stamp::Now),
            Some(other) => Err(ModuleError::BadArgs {
                module: MODULE.name.into(),
                message: format!(
                    "`{key}` supports `preserve` and `now`; an explicit time (`{other}`) is not supported"
                ),
            }),
        }
    }

    fn now(self, touch: bool) -> bool {
        self == Stamp::Now || (self == Stamp::Default && touch)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    Absent,
    Directory,
    File,
    Hard,
    Link,
    Touch,
}

impl FileState {
    fn parse(s: &str) -> Option<FileState> {
        Some(match s {
            "absent" => FileState::Absent,
            "directory" => FileState::Directory,
            "file" => FileState::File,
            "hard" => FileState::Hard,
            "link" => FileState::Link,
            "touch" => FileState::Touch,
            _ => return None,
        })
    }

    fn word(self) -> &'static str {
        match self {
            FileState::Absent => "absent",
            FileState::Directory => "directory",
            FileState::File => "file",
            FileState::Hard => "hard",
            FileState::Link => "link",
            FileState::Touch => "touch",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub path: String,
    /// `None`: keep what the path is now (`file` when it does not exist), as Ansible does.
    pub state: Option<FileState>,
    pub attrs: Attrs,
    pub recurse: bool,
    pub src: Option<String>,
    pub force: bool,
    pub follow: bool,
    pub mtime: Stamp,
    pub atime: Stamp,
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let path = match (args.str(m, "path")?, args.str(m, "dest")?, args.str(m, "name")?) {
            (Some(p), _, _) | (None, Some(p), _) | (None, None, Some(p)) => p,
            (None, None, None) => {
                return Err(ModuleError::MissingParam { module: m.into(), param: "path".into() });
            }
        };
        let state = match args.str(m, "state")? {
            None => None,
            Some(s) => Some(FileState::parse(&s).ok_or_else(|| {
                bad(format!("`state` must be one of absent, directory, file, hard, link, touch; got `{s}`"))
            })?),
        };
        let p = Params {
            path: fileinfo::trim_slashes(&path),
            state,
            attrs: Attrs::from_args(args, m)?,
            recurse: args.bool(m, "recurse")?.unwrap_or(false),
            src: args.str(m, "src")?,
            force: args.bool(m, "force")?.unwrap_or(false),
            follow: args.bool(m, "follow")?.unwrap_or(true),
            mtime: Stamp::parse(args, "modification_time")?,
            atime: Stamp::parse(args, "access_time")?,
        };
        if p.recurse && !matches!(p.state, Some(FileState::Directory) | None) {
            return Err(bad("`recurse` requires `state: directory`".into()));
        }
        if p.src.is_some() && !matches!(p.state, Some(FileState::Link | FileState::Hard)) {
            return Err(bad("`src` requires `state: link` or `state: hard`".into()));
        }
        if p.state == Some(FileState::Hard) && p.src.is_none() {
            return Err(ModuleError::MissingParam { module: m.into(), param: "src".into() });
        }
        if matches!(p.attrs.mode, Some(super::mode::Mode::Preserve)) {
            return Err(bad("mode `preserve` only works with copy and template".into()));
        }
        Ok(p)
    }

    /// Where `src` lives: a relative link source is relative to the link's directory.
    fn src_path(&self) -> Option<String> {
        let src = self.src.as_ref()?;
        if src.starts_with('/') {
            return Some(src.clone());
        }
        Some(match self.path.rsplit_once('/') {
            Some(("", _)) => format!("/{src}"),
            Some((dir, _)) => format!("{dir}/{src}"),
            None => src.clone(),
        })
    }

    /// The parents `mkdir -p` would create, outermost first (only their existence is probed).
    fn ancestors(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut p = self.path.as_str();
        while let Some((dir, _)) = p.rsplit_once('/') {
            if dir.is_empty() {
                break;
            }
            out.push(dir.to_string());
            p = dir;
        }
        out.reverse();
        out
    }
}

fn bad(message: String) -> ModuleError {
    ModuleError::BadArgs { module: MODULE.name.to_string(), message }
}

/// What the host has now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub host: HostFacts,
    /// The path itself (a symlink is reported as a link).
    pub path: Option<FileInfo>,
    /// What the path resolves to, when it is a symlink and `follow` is on.
    pub followed: Option<FileInfo>,
    /// Every entry below the path (with `recurse`).
    pub below: Vec<FileInfo>,
    /// The link source (`src`), when it exists.
    pub src: Option<FileInfo>,
    /// The parents of the path that do not exist, outermost first.
    pub missing_parents: Vec<String>,
}

const P_PATH: usize = 0;
const P_FOLLOWED: usize = 1;
const P_SRC: usize = 2;
const P_PARENTS: usize = 3;

fn probes(p: &Params) -> Vec<Probe> {
    let recurse = p.recurse && matches!(p.state, Some(FileState::Directory) | None);
    let own = Probe::new(&p.path).recurse(recurse);
    let mut probes = vec![
        own.clone(),
        // What a link points to; for anything else the path's own record says it all.
        Probe::new(&p.path).follow(true).links_only(true),
        // Without `src`, the path's own probe again, which is read once.
        p.src_path().map_or(own, Probe::new),
    ];
    if p.state == Some(FileState::Directory) {
        probes.extend(p.ancestors().into_iter().map(Probe::new));
    }
    probes
}

fn state_from(p: &Params, probes: &[Probe], facts: &Facts) -> State {
    let path = facts.get(P_PATH, &p.path).cloned();
    let is_link = path.as_ref().is_some_and(|i| i.kind == Kind::Link);
    State {
        host: facts.host.clone(),
        followed: if is_link && p.follow { facts.get(P_FOLLOWED, &p.path).cloned() } else { None },
        below: facts.tree(P_PATH).filter(|e| e.path != p.path).cloned().collect(),
        src: p.src.as_ref().and_then(|_| facts.get(P_SRC, &probes[P_SRC].path).cloned()),
        missing_parents: probes
            .iter()
            .enumerate()
            .skip(P_PARENTS)
            .filter(|(i, pr)| facts.get(*i, &pr.path).is_none())
            .map(|(_, pr)| pr.path.clone())
            .collect(),
        path,
    }
}

/// The state the path is in now, in the file module's words (`hard` for a file with links).
fn current_word(info: Option<&FileInfo>) -> &'static str {
    match info {
        None => "absent",
        Some(i) if i.kind == Kind::File && i.nlink > 1 => "hard",
        Some(i) => i.kind.state_word(),
    }
}

/// The state asked for; without `state`, what the path is now (`file` when it is absent).
fn wanted_state(p: &Params, s: &State) -> FileState {
    p.state.unwrap_or(match s.path.as_ref() {
        Some(_) => match s.followed.as_ref().or(s.path.as_ref()).map(|e| e.kind) {
            Some(Kind::Dir) => FileState::Directory,
            Some(Kind::Link) => FileState::Link,
            _ => FileState::File,
        },
        None if p.recurse => FileState::Directory,
        None => FileState::File,
    })
}

/// Turns (params, current state) into the steps that make the host match.
pub fn plan(p: &Params, s: &State) -> Result<Plan, ModuleError> {
    let mut plan = Plan::default();
    let path = p.path.as_str();
    let q = quote(path);
    let current = s.path.as_ref();
    // A symlink followed stands for what it points to.
    let effective = s.followed.as_ref().or(current);
    let state = wanted_state(p, s);
    let umask = s.host.umask;
    let before = current.map(|c| fileinfo::describe(path, current_word(Some(c)), Some(c.mode), None, None));
    let mut created = false;
    let mut targets: Vec<Target<'_>> = Vec::new();
    match state {
        FileState::Absent => {
            if current.is_some() {
                plan.exec("remove", format!("rm -rf -- {q}"));
            }
        }
        FileState::Directory => match effective {
            None => {
                // `[ -d ]` first: a loop's prelude may have made it already (see run_loop).
                plan.exec(MKDIR, format!("[ -d {q} ] || mkdir -p -- {q}"));
                created = true;
                // Ansible gives the parents it creates the same mode and owner as the path.
                targets.extend(s.missing_parents.iter().map(|d| Target {
                    path: d.as_str(),
                    kind: Kind::Dir,
                    current: None,
                }));
                targets.push(Target { path, kind: Kind::Dir, current: None });
            }
            Some(e) if e.kind == Kind::Dir => {
                targets.push(Target { path, kind: Kind::Dir, current: Some(e) });
                if p.recurse {
                    targets.extend(s.below.iter().map(|b| Target {
                        path: b.path.as_str(),
                        kind: b.kind,
                        current: Some(b),
                    }));
                }
            }
            Some(e) => return Err(bad(format!("{path} already exists as a {}", current_word(Some(e))))),
        },
        FileState::File => match effective {
            None => return Err(bad(format!("file ({path}) is absent, cannot continue"))),
            Some(e) if e.kind == Kind::Dir => {
                return Err(bad(format!("file ({path}) is directory, cannot continue")));
            }
            Some(e) => targets.push(Target { path, kind: e.kind, current: Some(e) }),
        },
        FileState::Touch => {
            let (m, a) = (p.mtime.now(true), p.atime.now(true));
            // Both times preserved: only a missing file is created (the idempotent touch).
            let which = match (m, a) {
                (true, false) => "-m ",
                (false, true) => "-a ",
                _ => "",
            };
            let h = if p.follow || effective.is_some_and(|e| e.kind == Kind::Dir) { "" } else { "-h " };
            if m || a || current.is_none() {
                plan.exec("touch", format!("touch {which}{h}-- {q}"));
            }
            created = current.is_none();
            let kind = effective.map_or(Kind::File, |e| e.kind);
            targets.push(Target { path, kind, current: effective });
        }
        FileState::Link => plan_link(p, s, &mut plan, &mut targets, &mut created)?,
        FileState::Hard => plan_hard(p, s, &mut plan, &mut targets, &mut created)?,
    }
    if !matches!(p.state, Some(FileState::Touch | FileState::Absent)) && !targets.is_empty() {
        let which = match (p.mtime.now(false), p.atime.now(false)) {
            (true, true) => Some(""),
            (true, false) => Some("-m "),
            (false, true) => Some("-a "),
            (false, false) => None,
        };
        if let Some(which) = which {
            plan.exec("set times", format!("touch {which}-- {q}"));
        }
    }
    let changes = p.attrs.plan(&mut plan, &targets, umask, None).map_err(bad)?;
    if !plan.is_empty() {
        plan.diffs.push(diff(p, state, before, created, &changes));
    }
    Ok(plan)
}

fn plan_link<'a>(
    p: &'a Params,
    s: &'a State,
    plan: &mut Plan,
    targets: &mut Vec<Target<'a>>,
    created: &mut bool,
) -> Result<(), ModuleError> {
    let path = p.path.as_str();
    let q = quote(path);
    let current = s.path.as_ref();
    let Some(src) = &p.src else {
        return match current {
            Some(c) if c.kind == Kind::Link => {
                targets.push(Target { path: p.path.as_str(), kind: Kind::Link, current: Some(c) });
                Ok(())
            }
            _ => Err(ModuleError::MissingParam { module: MODULE.name.into(), param: "src".into() }),
        };
    };
    // Ansible checks the source first, whatever the path is now.
    if s.src.is_none() && !p.force {
        return Err(bad(format!(
            "src file does not exist, use `force: yes` if you really want to create the link: {}",
            p.src_path().unwrap_or_default()
        )));
    }
    let link = format!("ln -s -- {} {q}", quote(src));
    match current {
        Some(c) if c.kind == Kind::Link && c.link_target.as_deref() == Some(src.as_str()) => {}
        Some(c) if c.kind == Kind::Link => plan.exec("link", format!("ln -sfn -- {} {q}", quote(src))),
        None => {
            *created = true;
            plan.exec("link", link);
        }
        Some(c) if c.kind == Kind::Dir => {
            if !p.force {
                return Err(bad(format!("refusing to convert from directory to symlink for {path}")));
            }
            plan.exec("link", format!("rmdir -- {q} && {link}"));
        }
        Some(c) => {
            if !p.force {
                return Err(bad(format!(
                    "refusing to convert from {} to symlink for {path}",
                    current_word(Some(c))
                )));
            }
            plan.exec("link", format!("rm -f -- {q} && {link}"));
        }
    }
    // Owner and group go on the link itself; a mode goes on what it points to.
    let link_info = current.filter(|c| c.kind == Kind::Link && plan.is_empty());
    targets.push(Target { path: p.path.as_str(), kind: Kind::Link, current: link_info });
    if p.attrs.mode.is_some()
        && let Some(src_info) = &s.src
    {
        let mode_only = Attrs { mode: p.attrs.mode.clone(), owner: None, group: None };
        let t = [Target { path: p.path.as_str(), kind: src_info.kind, current: Some(src_info) }];
        mode_only.plan(plan, &t, s.host.umask, None).map_err(bad)?;
    }
    Ok(())
}

fn plan_hard<'a>(
    p: &'a Params,
    s: &'a State,
    plan: &mut Plan,
    targets: &mut Vec<Target<'a>>,
    created: &mut bool,
) -> Result<(), ModuleError> {
    let path = p.path.as_str();
    let q = quote(path);
    let src = p.src.clone().unwrap_or_default();
    let Some(src_info) = &s.src else {
        return Err(bad(format!("src does not exist: {}", p.src_path().unwrap_or_default())));
    };
    let link = format!("ln -f -- {} {q}", quote(&p.src_path().unwrap_or(src)));
    match s.path.as_ref() {
        Some(c) if c.inode == src_info.inode && c.dev == src_info.dev => {
            targets.push(Target { path, kind: c.kind, current: Some(c) });
            return Ok(());
        }
        None => *created = true,
        Some(c) if c.kind == Kind::Dir => {
            return Err(bad(format!("Cannot link: {path} is a directory")));
        }
        Some(c) if c.kind == Kind::File && !p.force => {
            return Err(bad(if c.nlink > 1 {
                "Cannot link, different hard link exists at destination".to_string()
            } else {
                "Cannot link, file exists at destination".to_string()
            }));
        }
        Some(_) => {}
    }
    plan.exec("link", link);
    // After linking, the path *is* the source file: its attributes are the source's.
    targets.push(Target { path, kind: src_info.kind, current: Some(src_info) });
    Ok(())
}

fn diff(p: &Params, state: FileState, before: Option<String>, created: bool, changes: &[AttrChange]) -> Diff {
    let path = p.path.as_str();
    let root = changes.iter().find(|c| c.path == path);
    let word = match state {
        FileState::Touch => "file",
        s => s.word(),
    };
    let after_mode = root.and_then(|c| c.mode.map(|(_, m)| m));
    let after = fileinfo::describe(
        path,
        word,
        after_mode,
        root.and_then(|c| c.owner.as_ref().map(|o| o.1.as_str())),
        root.and_then(|c| c.group.as_ref().map(|g| g.1.as_str())),
    );
    let mut after = after;
    let below = changes.iter().filter(|c| c.path != path).count();
    if below > 0 {
        after.push_str(&format!("changed below: {below}\n"));
    }
    let before = match before {
        Some(b) if !created => b,
        _ => fileinfo::describe(path, "absent", None, None, None),
    };
    Diff { before_header: Some(path.to_string()), after_header: Some(path.to_string()), before, after }
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    let probes = probes(&p);
    let facts = match fileinfo::read(ctx, &probes).await? {
        Ok(f) => f,
        Err(msg) => return Ok(failed(&p, msg)),
    };
    let decided = match decide(&p, &probes, &facts)? {
        Ok(d) => d,
        Err(failure) => return Ok(failure),
    };
    let (result, after) = decided.item.plan.apply_then(ctx, decided.item.data, &decided.item.then).await?;
    finish(ctx, &p, decided.changed, result, after.map(|a| (a, 0))).await
}

/// What a step that creates the directory is called: a loop makes all of them in one prelude.
const MKDIR: &str = "mkdir";

/// A whole loop of `file` tasks on one host in two round trips: one probe for every item's
/// paths, one command for every item's changes and read-backs. Items that could see each
/// other's changes (the same path, one inside another, links, a relative path) run one by one,
/// as then each item's probe must come after the previous item's change.
async fn run_loop(
    ctx: &ModuleCtx<'_>,
    items: Vec<ModuleArgs>,
) -> Result<Vec<Result<TaskResult, ModuleError>>, ModuleError> {
    let params: Vec<Params> = match items.iter().map(Params::parse).collect::<Result<Vec<_>, _>>() {
        Ok(ps) if independent(&ps) => ps,
        _ => {
            let mut out = Vec::with_capacity(items.len());
            for args in items {
                out.push(run(ctx, args).await);
            }
            return Ok(out);
        }
    };
    let per_item: Vec<Vec<Probe>> = params.iter().map(probes).collect();
    let all: Vec<Probe> = per_item.iter().flatten().cloned().collect();
    let facts = match fileinfo::read(ctx, &all).await? {
        Ok(f) => f,
        // Each item's own probe will say which path it is about.
        Err(_) => {
            let mut out = Vec::with_capacity(items.len());
            for args in items {
                out.push(run(ctx, args).await);
            }
            return Ok(out);
        }
    };
    // Decide every item against the shared probe; an item that cannot be planned fails alone.
    let mut slots: Vec<Result<Result<TaskResult, ModuleError>, bool>> = Vec::with_capacity(params.len());
    let mut batch = Vec::new();
    let mut new_dirs: Vec<String> = Vec::new();
    let mut start = 0;
    for (p, probes) in params.iter().zip(&per_item) {
        let mine = facts.slice(start, probes.len());
        start += probes.len();
        match decide(p, probes, &mine) {
            Ok(Ok(d)) => {
                if d.item.plan.steps.iter().any(|s| matches!(s, Step::Exec { what, .. } if what == MKDIR)) {
                    new_dirs.push(quote(&fileinfo::trim_slashes(&p.path)).into_owned());
                }
                slots.push(Err(d.changed));
                batch.push(d.item);
            }
            Ok(Err(failure)) => slots.push(Ok(Ok(failure))),
            Err(e) => slots.push(Ok(Err(e))),
        }
    }
    // Directories the items create are made by one `mkdir` before the items run.
    let prelude =
        if new_dirs.len() > 1 { format!("mkdir -p -- {}", new_dirs.join(" ")) } else { String::new() };
    // One read-back for every item that changes (one `stat` for all their paths), item k's
    // path as probe k.
    let changing: Vec<&Params> =
        params.iter().zip(&slots).filter(|(_, s)| s.is_err()).map(|(p, _)| p).collect();
    let then = fileinfo::script(&changing.iter().map(|p| again(p)).collect::<Vec<_>>());
    let applied = super::plan::apply_all(ctx, batch, &super::plan::Shared { prelude, then }).await?;
    let shared = applied.shared;
    let mut applied = applied.items.into_iter().enumerate();
    let mut out = Vec::with_capacity(params.len());
    for (p, slot) in params.iter().zip(slots) {
        match slot {
            Ok(done) => out.push(done),
            Err(changed) => {
                let Some((k, (result, after))) = applied.next() else {
                    out.push(Ok(failed(p, "the batched change reported nothing for this item".into())));
                    continue;
                };
                out.push(
                    finish(ctx, p, changed, result, after.map(|a| (a, if shared { k } else { 0 }))).await,
                );
            }
        }
    }
    Ok(out)
}

/// Whether a loop's items may share one probe and one change: absolute, distinct paths none of
/// which is inside another, and no links (whose source may be another item's path).
fn independent(ps: &[Params]) -> bool {
    let simple = ps.iter().all(|p| {
        p.path.starts_with('/')
            && p.src.is_none()
            && matches!(
                p.state,
                Some(FileState::Directory | FileState::Absent | FileState::Touch | FileState::File) | None
            )
    });
    let paths: Vec<String> = ps.iter().map(|p| fileinfo::trim_slashes(&p.path)).collect();
    let nested = |a: &str, b: &str| a == b || b.starts_with(&format!("{}/", a.trim_end_matches('/')));
    simple
        && paths
            .iter()
            .enumerate()
            .all(|(i, a)| paths.iter().enumerate().all(|(j, b)| i == j || !nested(a, b)))
}

/// What one item decided: its plan with the result keys and read-back, and whether it changes.
struct Decided {
    item: super::plan::Item,
    changed: bool,
}

/// Plans one item from its probe; the inner error is the item's own failure.
fn decide(p: &Params, probes: &[Probe], facts: &Facts) -> Result<Result<Decided, TaskResult>, ModuleError> {
    let state = state_from(p, probes, facts);
    let plan = match plan(p, &state) {
        Ok(plan) => plan,
        Err(ModuleError::BadArgs { message, .. }) => return Ok(Err(failed(p, message))),
        Err(e) => return Err(e),
    };
    let changed = !plan.is_empty();
    let mut predicted = data(p, state.followed.as_ref().or(state.path.as_ref()));
    if changed {
        // Check mode reports the state the path would be in.
        let word = match wanted_state(p, &state) {
            FileState::Touch => "file",
            w => w.word(),
        };
        predicted.insert("state".into(), word.into());
    }
    // What the path looks like now, read back rather than guessed (uid of a new owner, ...),
    // in the same round trip as the change.
    let then = fileinfo::script(&[again(p)]);
    Ok(Ok(Decided { item: super::plan::Item { plan, data: predicted, then }, changed }))
}

/// The probe that reads the path back after a change.
fn again(p: &Params) -> Probe {
    Probe::new(&p.path).follow(p.follow && p.state != Some(FileState::Link))
}

/// The item's result with the read-back's attributes (read again if the read-back failed).
async fn finish(
    ctx: &ModuleCtx<'_>,
    p: &Params,
    changed: bool,
    mut result: TaskResult,
    after: Option<(Vec<u8>, usize)>,
) -> Result<TaskResult, ModuleError> {
    if result.status == Status::Failed {
        result.data.insert("path".into(), p.path.clone().into());
        return Ok(result);
    }
    if changed && !ctx.check_mode {
        // The read-back, and which of its probes is this item's.
        let (facts, k) = match after {
            Some((out, k)) => (fileinfo::parse(&out), k),
            None => (fileinfo::read(ctx, &[again(p)]).await?, 0),
        };
        if let Ok(facts) = facts {
            let mut fresh = data(p, facts.get(k, &p.path));
            if let Some(d) = result.data.remove("diff") {
                fresh.insert("diff".into(), d);
            }
            result.data = fresh;
        }
    }
    Ok(result)
}

/// The result keys: `path`, `state`, and the path's attributes when it exists.
fn data(p: &Params, info: Option<&FileInfo>) -> Map<String, Value> {
    let mut m = Map::new();
    // Ansible's touch answers with `dest`, every other state with `path`.
    let key = if p.state == Some(FileState::Touch) { "dest" } else { "path" };
    m.insert(key.into(), p.path.clone().into());
    match (p.state, info) {
        (Some(FileState::Absent), _) | (_, None) => {
            m.insert("state".into(), "absent".into());
        }
        (state, Some(info)) => {
            m.extend(fileinfo::result_keys(info));
            if let Some(FileState::Link | FileState::Hard) = state {
                m.insert("state".into(), state.map_or("link", FileState::word).into());
                m.insert("dest".into(), p.path.clone().into());
                if let Some(src) = &p.src {
                    m.insert("src".into(), src.clone().into());
                }
            }
        }
    }
    m
}

fn failed(p: &Params, msg: String) -> TaskResult {
    let mut r = TaskResult::failed(msg);
    r.data.insert("path".into(), p.path.clone().into());
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::plan::Step;
    use serde_json::json;

    fn params(v: Value) -> Params {
        Params::parse(&ModuleArgs(v.as_object().unwrap().clone())).unwrap()
    }

    fn info(path: &str, kind: Kind, mode: u32) -> FileInfo {
        FileInfo::sample(path, kind, mode)
    }

    fn link(path: &str, target: &str) -> FileInfo {
        FileInfo { link_target: Some(target.into()), ..info(path, Kind::Link, 0o777) }
    }

    fn cmds(p: &Params, s: &State) -> Vec<String> {
        plan(p, s)
            .unwrap()
            .steps
            .into_iter()
            .map(|st| match st {
                Step::Exec { cmd, .. } => cmd,
                Step::Put { dest, .. } => format!("put {dest}"),
            })
            .collect()
    }

    fn state(path: Option<FileInfo>) -> State {
        State { path, ..State::default() }
    }

    /// (params, state) → the commands the plan runs; an empty list means `ok`.
    #[test]
    fn cases_as_data() {
        let dir = |m| Some(info("/srv/app", Kind::Dir, m));
        let file = |m| Some(info("/srv/app", Kind::File, m));
        let cases: Vec<(&str, Value, State, Vec<&str>)> = vec![
            (
                "new directory with mode and missing parents",
                json!({"path": "/srv/app", "state": "directory", "mode": "0750"}),
                State { missing_parents: vec!["/srv".into()], ..State::default() },
                vec!["[ -d /srv/app ] || mkdir -p -- /srv/app", "chmod 00750 -- /srv /srv/app"],
            ),
            (
                "existing directory, same mode",
                json!({"path": "/srv/app/", "state": "directory", "mode": "0755"}),
                state(dir(0o755)),
                vec![],
            ),
            (
                "existing directory, symbolic mode",
                json!({"path": "/srv/app", "state": "directory", "mode": "g+w"}),
                state(dir(0o755)),
                vec!["chmod 00775 -- /srv/app"],
            ),
            (
                "owner and group by name, only the group differs",
                json!({"path": "/srv/app", "owner": "deploy", "group": "www"}),
                state(file(0o644)),
                vec!["chown -h -- :www /srv/app"],
            ),
            (
                "numeric owner matching",
                json!({"path": "/srv/app", "owner": 1000}),
                state(file(0o644)),
                vec![],
            ),
            (
                "absent path, state absent",
                json!({"path": "/srv/app", "state": "absent"}),
                state(None),
                vec![],
            ),
            (
                "remove a directory",
                json!({"path": "/srv/app", "state": "absent"}),
                state(dir(0o755)),
                vec!["rm -rf -- /srv/app"],
            ),
            (
                "touch always runs",
                json!({"path": "/srv/app", "state": "touch"}),
                state(file(0o644)),
                vec!["touch -- /srv/app"],
            ),
            (
                "touch a new file with a mode",
                json!({"path": "/srv/app", "state": "touch", "mode": "0600"}),
                state(None),
                vec!["touch -- /srv/app", "chmod 00600 -- /srv/app"],
            ),
            (
                "new symlink",
                json!({"path": "/srv/cur", "state": "link", "src": "rel 1"}),
                State { src: Some(info("/srv/rel 1", Kind::Dir, 0o755)), ..State::default() },
                vec!["ln -s -- 'rel 1' /srv/cur"],
            ),
            (
                "symlink already right",
                json!({"path": "/srv/cur", "state": "link", "src": "rel"}),
                State { path: Some(link("/srv/cur", "rel")), src: dir(0o755), ..State::default() },
                vec![],
            ),
            (
                "symlink pointing elsewhere",
                json!({"path": "/srv/cur", "state": "link", "src": "new", "force": true}),
                state(Some(link("/srv/cur", "old"))),
                vec!["ln -sfn -- new /srv/cur"],
            ),
            (
                "symlink over a file with force",
                json!({"path": "/srv/app", "state": "link", "src": "/x", "force": true}),
                state(file(0o644)),
                vec!["rm -f -- /srv/app && ln -s -- /x /srv/app"],
            ),
            (
                "owner of a symlink is set on the link",
                json!({"path": "/srv/cur", "state": "link", "src": "rel", "owner": "root"}),
                State { path: Some(link("/srv/cur", "rel")), src: dir(0o755), ..State::default() },
                vec!["chown -h -- root /srv/cur"],
            ),
            (
                "hard link",
                json!({"path": "/srv/h", "state": "hard", "src": "/srv/f"}),
                State { src: Some(info("/srv/f", Kind::File, 0o644)), ..State::default() },
                vec!["ln -f -- /srv/f /srv/h"],
            ),
            (
                "hard link already there",
                json!({"path": "/srv/h", "state": "hard", "src": "/srv/f"}),
                State {
                    path: Some(FileInfo { nlink: 2, ..info("/srv/h", Kind::File, 0o644) }),
                    src: Some(FileInfo { nlink: 2, ..info("/srv/f", Kind::File, 0o644) }),
                    ..State::default()
                },
                vec![],
            ),
            (
                "recurse sets modes below, grouped",
                json!({"path": "/srv/app", "state": "directory", "recurse": true, "mode": "u=rwX,go=rX"}),
                State {
                    path: dir(0o700),
                    below: vec![
                        info("/srv/app/a", Kind::File, 0o600),
                        info("/srv/app/b", Kind::File, 0o644),
                        info("/srv/app/d", Kind::Dir, 0o700),
                        link("/srv/app/l", "a"),
                    ],
                    ..State::default()
                },
                vec!["chmod 00644 -- /srv/app/a", "chmod 00755 -- /srv/app /srv/app/d"],
            ),
            (
                "recurse owner includes links",
                json!({"path": "/srv/app", "state": "directory", "recurse": true, "owner": "root"}),
                State { path: dir(0o755), below: vec![link("/srv/app/l", "a")], ..State::default() },
                vec!["chown -h -- root /srv/app /srv/app/l"],
            ),
            (
                "followed symlink to a directory",
                json!({"path": "/srv/app", "state": "directory", "mode": "0700"}),
                State { path: Some(link("/srv/app", "real")), followed: dir(0o755), ..State::default() },
                vec!["chmod 00700 -- /srv/app"],
            ),
            (
                "no state keeps a directory a directory",
                json!({"path": "/srv/app", "mode": "0755"}),
                state(dir(0o755)),
                vec![],
            ),
            (
                "chown then setgid again",
                json!({"path": "/srv/app", "group": "www", "mode": "2755"}),
                state(file(0o2755)),
                vec!["chown -h -- :www /srv/app", "chmod 02755 -- /srv/app"],
            ),
        ];
        for (name, args, s, want) in cases {
            assert_eq!(cmds(&params(args), &s), want, "{name}");
        }
    }

    #[test]
    fn refusals_match_ansible_wording() {
        let cases: Vec<(Value, State, &str)> = vec![
            (json!({"path": "/f", "state": "file"}), state(None), "file (/f) is absent, cannot continue"),
            (
                json!({"path": "/f", "state": "directory"}),
                state(Some(info("/f", Kind::File, 0o644))),
                "/f already exists as a file",
            ),
            (
                json!({"path": "/f", "state": "link", "src": "/x"}),
                State {
                    path: Some(info("/f", Kind::File, 0o644)),
                    src: Some(info("/x", Kind::File, 0o644)),
                    ..State::default()
                },
                "refusing to convert from file to symlink for /f",
            ),
            (json!({"path": "/f", "state": "link", "src": "/x"}), state(None), "src file does not exist"),
            (
                json!({"path": "/f", "state": "hard", "src": "/x"}),
                State {
                    path: Some(info("/f", Kind::File, 0o644)),
                    src: Some(FileInfo { inode: 9, ..info("/x", Kind::File, 0o644) }),
                    ..State::default()
                },
                "Cannot link, file exists at destination",
            ),
        ];
        for (args, s, want) in cases {
            let err = plan(&params(args), &s).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn bad_arguments_are_caught_before_the_host() {
        for (args, want) in [
            (json!({"state": "directory"}), "needs the parameter `path`"),
            (json!({"path": "/x", "state": "dir"}), "`state` must be one of"),
            (json!({"path": "/x", "state": "file", "recurse": true}), "`recurse` requires"),
            (json!({"path": "/x", "src": "/y"}), "`src` requires"),
            (json!({"path": "/x", "mode": "u+q"}), "not a valid mode"),
        ] {
            let err = Params::parse(&ModuleArgs(args.as_object().unwrap().clone())).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn aliases_and_relative_link_sources() {
        let p = params(json!({"dest": "/a/b/c", "state": "link", "src": "../x"}));
        assert_eq!(p.path, "/a/b/c");
        assert_eq!(p.src_path().as_deref(), Some("/a/b/../x"));
        assert_eq!(params(json!({"name": "/a/b/c"})).ancestors(), vec!["/a", "/a/b"]);
    }

    #[test]
    fn diff_shows_state_and_mode() {
        let p = params(json!({"path": "/srv/app", "state": "directory", "mode": "0700"}));
        let d = plan(&p, &state(Some(info("/srv/app", Kind::Dir, 0o755)))).unwrap().diffs;
        assert_eq!(d[0].before, "path: /srv/app\nstate: directory\nmode: 0755\n");
        assert_eq!(d[0].after, "path: /srv/app\nstate: directory\nmode: 0700\n");
    }
}
