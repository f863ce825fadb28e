//! `git`: a working copy of a repository at a branch, tag or commit, as Ansible's git module.
//!
//! ```yaml
//! - git: repo=https://git.example.com/app.git dest=/srv/app version=v1.4
//! - git:
//!     repo: /srv/mirror/app.git
//!     dest: /srv/app
//!     version: main
//!     force: true
//! ```
//!
//! One command reads the checkout (HEAD, origin's URL, local modifications) and what the remote
//! has (`git ls-remote`); the decision is made here; `git clone` or `fetch` + `checkout` run
//! only when the checkout is not already at the wanted commit. Results `before`/`after` are
//! the commits, as Ansible reports them.
//!
//! Not supported (refused as unknown parameters): `archive`, `separate_git_dir`,
//! `verify_commit`/`gpg_whitelist`, `reference`, `track_submodules`, `umask`.

use serde_json::{Map, Value};

use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::Command;
use crate::connection::quote::quote;
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "git",
    free_form: false,
    params: &[
        "accept_hostkey",
        "accept_newhostkey",
        "bare",
        "clone",
        "depth",
        "dest",
        "executable",
        "force",
        "key_file",
        "recursive",
        "refspec",
        "remote",
        "repo",
        "single_branch",
        "ssh_opts",
        "update",
        "version",
    ],
    run: crate::module_entry!(run),
    run_loop: None,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub repo: String,
    pub dest: String,
    pub version: String,
    pub remote: String,
    pub clone: bool,
    pub update: bool,
    pub force: bool,
    pub bare: bool,
    pub depth: Option<u32>,
    pub single_branch: bool,
    pub recursive: bool,
    pub refspec: Option<String>,
    pub executable: String,
    /// `GIT_SSH_COMMAND` built from key_file, ssh_opts and accept_*hostkey.
    pub ssh_command: Option<String>,
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let need = |key: &str| -> Result<String, ModuleError> {
            args.str(m, key)?.ok_or_else(|| ModuleError::MissingParam { module: m.into(), param: key.into() })
        };
        let depth = match args.str(m, "depth")? {
            None => None,
            Some(d) => {
                Some(d.parse::<u32>().ok().filter(|d| *d > 0).ok_or_else(|| ModuleError::BadArgs {
                    module: m.into(),
                    message: format!("`depth` must be a positive number, got `{d}`"),
                })?)
            }
        };
        let key_file = args.str(m, "key_file")?;
        let ssh_opts = args.str(m, "ssh_opts")?;
        let accept = args.bool(m, "accept_hostkey")?.unwrap_or(false);
        let accept_new = args.bool(m, "accept_newhostkey")?.unwrap_or(false);
        let ssh_command = (key_file.is_some() || ssh_opts.is_some() || accept || accept_new).then(|| {
            let mut s = String::from("ssh");
            if let Some(k) = &key_file {
                s.push_str(&format!(" -i {} -o IdentitiesOnly=yes", quote(k)));
            }
            if accept {
                s.push_str(" -o StrictHostKeyChecking=no");
            } else if accept_new {
                s.push_str(" -o StrictHostKeyChecking=accept-new");
            }
            if let Some(o) = &ssh_opts {
                s.push(' ');
                s.push_str(o);
            }
            s
        });
        Ok(Params {
            repo: need("repo")?,
            dest: need("dest")?,
            version: args.str(m, "version")?.unwrap_or_else(|| "HEAD".into()),
            remote: args.str(m, "remote")?.unwrap_or_else(|| "origin".into()),
            clone: args.bool(m, "clone")?.unwrap_or(true),
            update: args.bool(m, "update")?.unwrap_or(true),
            force: args.bool(m, "force")?.unwrap_or(false),
            bare: args.bool(m, "bare")?.unwrap_or(false),
            depth,
            single_branch: args.bool(m, "single_branch")?.unwrap_or(false),
            recursive: args.bool(m, "recursive")?.unwrap_or(true),
            refspec: args.str(m, "refspec")?,
            executable: args.str(m, "executable")?.unwrap_or_else(|| "git".into()),
            ssh_command,
        })
    }
}

/// What the host's checkout and the remote look like.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// The checkout's HEAD commit, when `dest` is a repository.
    pub head: Option<String>,
    pub url: Option<String>,
    /// Tracked files differ from HEAD.
    pub dirty: bool,
    /// `dest` exists, is not a repository and is not empty.
    pub occupied: bool,
    /// The remote's refs (`ls-remote`): (commit, ref name).
    pub refs: Vec<(String, String)>,
    /// `ls-remote` failed: its message.
    pub remote_error: Option<String>,
}

/// What `version` names on the remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A branch (or HEAD's branch) at this commit.
    Branch { name: String, commit: String },
    /// A tag, peeled to its commit.
    Tag { name: String, commit: String },
    /// A commit id not named by any ref (maybe abbreviated).
    Commit(String),
}

impl Target {
    pub fn commit(&self) -> &str {
        match self {
            Target::Branch { commit, .. } | Target::Tag { commit, .. } => commit,
            Target::Commit(c) => c,
        }
    }
}

/// Resolves `version` against the remote's refs, as git does: HEAD, a branch, a tag, then a
/// commit id.
pub fn resolve(version: &str, refs: &[(String, String)]) -> Option<Target> {
    let find = |name: &str| refs.iter().find(|(_, r)| r == name).map(|(c, _)| c.clone());
    if version == "HEAD" {
        let commit = find("HEAD")?;
        // The branch HEAD points at, so a clone tracks it.
        let name = refs
            .iter()
            .find(|(c, r)| *c == commit && r.starts_with("refs/heads/"))
            .map(|(_, r)| r.trim_start_matches("refs/heads/").to_string())
            .unwrap_or_else(|| "HEAD".into());
        return Some(Target::Branch { name, commit });
    }
    if let Some(commit) = find(&format!("refs/heads/{version}")) {
        return Some(Target::Branch { name: version.into(), commit });
    }
    if let Some(commit) =
        find(&format!("refs/tags/{version}^{{}}")).or_else(|| find(&format!("refs/tags/{version}")))
    {
        return Some(Target::Tag { name: version.into(), commit });
    }
    (version.len() >= 4 && version.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| Target::Commit(version.into()))
}

/// The one state command.
pub fn state_script(p: &Params) -> String {
    let git = quote(&p.executable);
    let dest = quote(&p.dest);
    let remote = quote(&p.remote);
    let marker = if p.bare { "HEAD" } else { ".git" };
    let mut s = format!(
        "export LC_ALL=C GIT_TERMINAL_PROMPT=0\n\
         if [ -e {dest}/{marker} ]; then\n\
         printf '@head %s\\n' \"$({git} -C {dest} rev-parse --verify -q HEAD)\"\n\
         printf '@url %s\\n' \"$({git} -C {dest} config --get remote.{remote}.url)\"\n"
    );
    if !p.bare {
        s.push_str(&format!(
            "[ -n \"$({git} -C {dest} status --porcelain --untracked-files=no 2>/dev/null)\" ] && echo '@dirty'\n"
        ));
    }
    s.push_str(&format!(
        "elif [ -d {dest} ] && [ -n \"$(ls -A {dest})\" ]; then echo '@occupied'\n\
         elif [ -e {dest} ] && [ ! -d {dest} ]; then echo '@occupied'; fi\n"
    ));
    s.push_str(&format!(
        "refs=$({git} ls-remote {} 2>&1) || {{ printf '@remote-error %s\\n' \"$(printf '%s' \"$refs\" | tr '\\n' ' ')\"; exit 0; }}\n\
         printf '%s\\n' \"$refs\" | sed 's/^/@ref /'\n",
        quote(&p.repo)
    ));
    s
}

pub fn parse_state(out: &str) -> State {
    let mut st = State::default();
    for line in out.lines() {
        let (tag, rest) = line.split_once(' ').unwrap_or((line, ""));
        let rest = rest.trim();
        match tag {
            "@head" if !rest.is_empty() => st.head = Some(rest.into()),
            "@url" if !rest.is_empty() => st.url = Some(rest.into()),
            "@dirty" => st.dirty = true,
            "@occupied" => st.occupied = true,
            "@remote-error" => st.remote_error = Some(rest.into()),
            "@ref" => {
                if let Some((commit, name)) = rest.split_once(char::is_whitespace) {
                    st.refs.push((commit.into(), name.trim().into()));
                }
            }
            _ => {}
        }
    }
    st
}

/// What must happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Already at the wanted commit (or `update: no`).
    Nothing,
    Clone(Target),
    /// Fetch and move the checkout; `set_url` when origin's URL is not `repo`.
    Update {
        target: Target,
        set_url: bool,
    },
    /// Only origin's URL differs.
    SetUrl,
    /// A failure with Ansible's message.
    Fail(String),
}

/// The pure decision.
pub fn plan(p: &Params, st: &State) -> Action {
    if st.occupied {
        return Action::Fail(format!(
            "Destination path '{}' already exists and is not an empty directory.",
            p.dest
        ));
    }
    let exists = st.head.is_some() || st.url.is_some();
    if !exists && !p.clone {
        return Action::Nothing;
    }
    if exists && !p.update {
        return Action::Nothing;
    }
    if let Some(e) = &st.remote_error {
        return Action::Fail(format!("Failed to read the remote `{}`: {e}", p.repo));
    }
    let Some(target) = resolve(&p.version, &st.refs) else {
        return Action::Fail(format!("Failed to find version `{}` in the remote `{}`", p.version, p.repo));
    };
    let Some(head) = &st.head else {
        return Action::Clone(target);
    };
    let set_url = st.url.as_deref() != Some(p.repo.as_str());
    let at_target = head.starts_with(target.commit()) || target.commit().starts_with(head.as_str());
    if at_target {
        return if set_url { Action::SetUrl } else { Action::Nothing };
    }
    if st.dirty && !p.force {
        return Action::Fail(format!("Local modifications exist in the destination: {} (force=no).", p.dest));
    }
    Action::Update { target, set_url }
}

/// The commands that carry out an action.
pub fn commands(p: &Params, action: &Action) -> Vec<String> {
    let git = quote(&p.executable).into_owned();
    let dest = quote(&p.dest).into_owned();
    let remote = quote(&p.remote).into_owned();
    let depth = p.depth.map(|d| format!(" --depth {d}")).unwrap_or_default();
    let in_dest = format!("{git} -C {dest}");
    let submodules = |cmds: &mut Vec<String>| {
        if p.recursive && !p.bare {
            cmds.push(format!(
                "if [ -f {dest}/.gitmodules ]; then {in_dest} submodule update --init --recursive; fi"
            ));
        }
    };
    let mut cmds = Vec::new();
    match action {
        Action::Nothing | Action::Fail(_) => {}
        Action::SetUrl => cmds.push(format!("{in_dest} remote set-url {remote} {}", quote(&p.repo))),
        Action::Clone(target) => {
            let mut c = format!("{git} clone --origin {remote}{depth}");
            if p.bare {
                c.push_str(" --bare");
            }
            if p.single_branch {
                c.push_str(" --single-branch");
            }
            match target {
                Target::Branch { name, .. } | Target::Tag { name, .. } if name != "HEAD" => {
                    c.push_str(&format!(" --branch {}", quote(name)));
                }
                _ => {}
            }
            // git ignores --depth for a clone from a local path unless it is a file:// URL;
            // origin keeps the path the task names, so the next run sees the same URL.
            let local = p.depth.is_some() && p.repo.starts_with('/');
            let source = if local { format!("file://{}", p.repo) } else { p.repo.clone() };
            c.push_str(&format!(" -- {} {dest}", quote(&source)));
            cmds.push(c);
            if local {
                cmds.push(format!("{in_dest} remote set-url {remote} {}", quote(&p.repo)));
            }
            if let Target::Commit(commit) = target {
                if p.depth.is_some() {
                    cmds.push(format!("{in_dest} fetch{depth} {remote} {}", quote(commit)));
                }
                cmds.push(format!("{in_dest} checkout --force {}", quote(commit)));
            }
            submodules(&mut cmds);
        }
        Action::Update { target, set_url } => {
            if *set_url {
                cmds.push(format!("{in_dest} remote set-url {remote} {}", quote(&p.repo)));
            }
            let refspec = p.refspec.as_deref().map(|r| format!(" {}", quote(r))).unwrap_or_default();
            cmds.push(format!(
                "{in_dest} fetch{depth} --tags --force {remote} '+refs/heads/*:refs/remotes/{}/*'{refspec}",
                p.remote.replace('\'', "")
            ));
            match target {
                Target::Branch { name, commit } if name != "HEAD" && !p.bare => {
                    cmds.push(format!("{in_dest} checkout --force -B {} {}", quote(name), quote(commit)));
                }
                _ if p.bare => {
                    cmds.push(format!("{in_dest} update-ref HEAD {}", quote(target.commit())));
                }
                _ => cmds.push(format!("{in_dest} checkout --force {}", quote(target.commit()))),
            }
            submodules(&mut cmds);
        }
    }
    cmds
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    let env: Vec<(String, String)> =
        p.ssh_command.iter().map(|c| ("GIT_SSH_COMMAND".to_string(), c.clone())).collect();
    let exec = |cmd: String| ctx.exec_with(Command { cmd, env: env.clone(), ..Command::default() });
    let out = exec(state_script(&p)).await?;
    if !out.success() {
        return Ok(TaskResult::failed(format!("could not read the checkout: {}", out.stderr_str().trim())));
    }
    let st = parse_state(&out.stdout_str());
    let action = plan(&p, &st);
    let mut data = Map::new();
    data.insert("before".into(), st.head.clone().map_or(Value::Null, Value::String));
    let remote_url_changed = matches!(action, Action::SetUrl | Action::Update { set_url: true, .. });
    data.insert("remote_url_changed".into(), remote_url_changed.into());
    let after = match &action {
        Action::Fail(msg) => {
            let mut r = TaskResult::failed(msg.clone());
            r.data = data;
            return Ok(r);
        }
        Action::Nothing | Action::SetUrl => st.head.clone(),
        Action::Clone(t) | Action::Update { target: t, .. } => Some(t.commit().to_string()),
    };
    if action == Action::Nothing {
        data.insert("after".into(), after.map_or(Value::Null, Value::String));
        let mut r = TaskResult::new(Status::Ok);
        r.data = data;
        return Ok(r);
    }
    if ctx.diff {
        let mut d = Map::new();
        d.insert("before".into(), format!("{}\n", st.head.as_deref().unwrap_or("")).into());
        d.insert("after".into(), format!("{}\n", after.as_deref().unwrap_or("")).into());
        data.insert("diff".into(), Value::Object(d));
    }
    let mut after = after;
    if !ctx.check_mode {
        for cmd in commands(&p, &action) {
            let out = exec(cmd).await?;
            if !out.success() {
                let mut r = TaskResult::failed(format!("git failed: {}", out.stderr_str().trim()));
                r.rc = out.rc;
                r.data = data;
                return Ok(r);
            }
        }
        // The real commit (a short id in `version` becomes the full one).
        let head = exec(format!("{} -C {} rev-parse HEAD", quote(&p.executable), quote(&p.dest))).await?;
        if head.success() {
            after = Some(head.stdout_str().trim().to_string());
        }
    }
    data.insert("after".into(), after.map_or(Value::Null, Value::String));
    let mut r = TaskResult::new(Status::Changed);
    r.data = data;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const T: &str = "cccccccccccccccccccccccccccccccccccccccc";

    fn params(v: Value) -> Params {
        let Value::Object(m) = v else { panic!() };
        Params::parse(&ModuleArgs(m)).unwrap()
    }

    fn refs() -> Vec<(String, String)> {
        vec![
            (B.into(), "HEAD".into()),
            (B.into(), "refs/heads/main".into()),
            (A.into(), "refs/heads/old".into()),
            (T.into(), "refs/tags/v1".into()),
            (A.into(), "refs/tags/v1^{}".into()),
        ]
    }

    fn checkout(head: &str) -> State {
        State { head: Some(head.into()), url: Some("/srv/src.git".into()), refs: refs(), ..State::default() }
    }

    #[test]
    fn repo_and_dest_are_required() {
        let Value::Object(m) = json!({"repo": "x"}) else { panic!() };
        assert!(Params::parse(&ModuleArgs(m)).unwrap_err().to_string().contains("`dest`"));
    }

    #[test]
    fn versions_resolve_like_git() {
        let r = refs();
        assert_eq!(resolve("HEAD", &r), Some(Target::Branch { name: "main".into(), commit: B.into() }));
        assert_eq!(resolve("old", &r), Some(Target::Branch { name: "old".into(), commit: A.into() }));
        // An annotated tag is peeled to its commit.
        assert_eq!(resolve("v1", &r), Some(Target::Tag { name: "v1".into(), commit: A.into() }));
        assert_eq!(resolve("abc123", &r), Some(Target::Commit("abc123".into())));
        assert_eq!(resolve("nope", &r), None);
    }

    #[test]
    fn an_absent_dest_is_cloned_at_the_branch() {
        let p = params(json!({"repo": "/srv/src.git", "dest": "/srv/app", "version": "main", "depth": 1}));
        let st = State { refs: refs(), ..State::default() };
        let action = plan(&p, &st);
        assert_eq!(action, Action::Clone(Target::Branch { name: "main".into(), commit: B.into() }));
        let cmds = commands(&p, &action);
        // A shallow clone of a local path goes through file://, and origin keeps the path.
        assert_eq!(
            cmds[0],
            "git clone --origin origin --depth 1 --branch main -- file:///srv/src.git /srv/app"
        );
        assert_eq!(cmds[1], "git -C /srv/app remote set-url origin /srv/src.git");
        assert!(cmds[2].contains("submodule update --init --recursive"));
    }

    #[test]
    fn a_commit_id_is_cloned_then_checked_out() {
        let p = params(json!({"repo": "/r", "dest": "/d", "version": "abcd1234", "recursive": false}));
        let cmds = commands(&p, &plan(&p, &State { refs: refs(), ..State::default() }));
        assert_eq!(cmds, ["git clone --origin origin -- /r /d", "git -C /d checkout --force abcd1234"]);
    }

    #[test]
    fn a_checkout_at_the_target_is_ok() {
        let p = params(json!({"repo": "/srv/src.git", "dest": "/srv/app"}));
        assert_eq!(plan(&p, &checkout(B)), Action::Nothing);
        let p = params(json!({"repo": "/srv/src.git", "dest": "/srv/app", "version": B[..7]}));
        assert_eq!(plan(&p, &checkout(B)), Action::Nothing);
    }

    #[test]
    fn a_checkout_elsewhere_is_updated() {
        let p = params(json!({"repo": "/srv/src.git", "dest": "/srv/app", "version": "v1"}));
        let action = plan(&p, &checkout(B));
        assert_eq!(
            action,
            Action::Update { target: Target::Tag { name: "v1".into(), commit: A.into() }, set_url: false }
        );
        let cmds = commands(&p, &action);
        assert!(cmds[0].contains("fetch --tags --force origin"), "{cmds:?}");
        assert_eq!(cmds[1], format!("git -C /srv/app checkout --force {A}"));
        let p = params(json!({"repo": "/srv/src.git", "dest": "/srv/app", "version": "main"}));
        let cmds = commands(&p, &plan(&p, &checkout(A)));
        assert_eq!(cmds[1], format!("git -C /srv/app checkout --force -B main {B}"));
    }

    #[test]
    fn local_modifications_stop_an_update_unless_forced() {
        let p = params(json!({"repo": "/srv/src.git", "dest": "/srv/app", "version": "old"}));
        let dirty = State { dirty: true, ..checkout(B) };
        assert!(matches!(plan(&p, &dirty), Action::Fail(m) if m.contains("Local modifications")));
        let p = params(json!({"repo": "/srv/src.git", "dest": "/srv/app", "version": "old", "force": true}));
        assert!(matches!(plan(&p, &dirty), Action::Update { .. }));
        // Dirty but already at the target: nothing to do, as in Ansible.
        let p = params(json!({"repo": "/srv/src.git", "dest": "/srv/app"}));
        assert_eq!(plan(&p, &State { dirty: true, ..checkout(B) }), Action::Nothing);
    }

    #[test]
    fn a_new_url_is_set() {
        let p = params(json!({"repo": "/srv/other.git", "dest": "/srv/app"}));
        assert_eq!(plan(&p, &checkout(B)), Action::SetUrl);
        assert_eq!(commands(&p, &Action::SetUrl), ["git -C /srv/app remote set-url origin /srv/other.git"]);
    }

    #[test]
    fn update_no_and_clone_no_do_nothing() {
        let p = params(json!({"repo": "/r", "dest": "/d", "update": false}));
        assert_eq!(plan(&p, &checkout(A)), Action::Nothing);
        let p = params(json!({"repo": "/r", "dest": "/d", "clone": false}));
        assert_eq!(plan(&p, &State { refs: refs(), ..State::default() }), Action::Nothing);
    }

    #[test]
    fn an_occupied_dest_or_unknown_version_fails() {
        let p = params(json!({"repo": "/r", "dest": "/d"}));
        assert!(
            matches!(plan(&p, &State { occupied: true, ..State::default() }), Action::Fail(m) if m.contains("not an empty directory"))
        );
        let p = params(json!({"repo": "/r", "dest": "/d", "version": "nope"}));
        assert!(
            matches!(plan(&p, &State { refs: refs(), ..State::default() }), Action::Fail(m) if m.contains("nope"))
        );
        let st = State { remote_error: Some("fatal: not a repo".into()), ..State::default() };
        assert!(matches!(plan(&p, &st), Action::Fail(m) if m.contains("not a repo")));
    }

    #[test]
    fn state_output_is_parsed() {
        let out =
            format!("@head {A}\n@url /srv/src.git\n@dirty\n@ref {B}\tHEAD\n@ref {B}\trefs/heads/main\n");
        let st = parse_state(&out);
        assert_eq!(st.head.as_deref(), Some(A));
        assert!(st.dirty);
        assert_eq!(st.refs.len(), 2);
        assert_eq!(parse_state("@head \n@url \n").head, None);
    }

    #[test]
    fn ssh_options_become_git_ssh_command() {
        let p = params(json!({"repo": "r", "dest": "d", "key_file": "/k", "accept_newhostkey": true}));
        assert_eq!(
            p.ssh_command.as_deref(),
            Some("ssh -i /k -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new")
        );
    }
}
