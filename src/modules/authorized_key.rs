//! `authorized_key`: SSH public keys in a user's `authorized_keys`, as Ansible's
//! `ansible.posix.authorized_key` module.
//!
//! ```yaml
//! - authorized_key: user=deploy key="{{ lookup('file', 'files/ci.pub') }}"
//! - authorized_key:
//!     user: app
//!     key: |
//!       ssh-ed25519 AAAAC3Nza... alice@laptop
//!       ssh-ed25519 AAAAC3Nzb... bob@laptop
//!     key_options: 'from="10.0.0.0/8",no-agent-forwarding'
//!     exclusive: true
//! - authorized_key: user=app key="ssh-rsa AAAA... old" state=absent
//! ```
//!
//! One command reads the user's passwd entry and the keys file; the new content is computed
//! here, line for line as Ansible does it (keys are matched by their base64 blob, other lines
//! are kept, a key whose options or comment changed is rewritten after the others, new keys go
//! last in the order given); the file is written only when that content differs in Ansible's
//! sense, atomically, owned by the user with mode 0600, after `~/.ssh` (or `path`'s directory)
//! is made 0700 and the user's when `manage_dir` is on. `--diff` shows the file before and after.
//!
//! `key: file:///path/on/host.pub` reads the keys from a file on the host, as the collection's
//! module does (one more command).
//!
//! Not supported: `key` given as a URL (`https://github.com/alice.keys`): the controller does
//! not download it; give the key text (for example with a `lookup`). `validate_certs` is
//! accepted and has nothing to do without URLs.

use serde_json::{Map, Value};

use super::plan::{Diff, Plan, Step};
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::quote;
use crate::event::TaskResult;

pub static MODULE: ModuleDef = ModuleDef {
    name: "authorized_key",
    free_form: false,
    params: &[
        "comment",
        "exclusive",
        "follow",
        "key",
        "key_options",
        "manage_dir",
        "path",
        "state",
        "user",
        "validate_certs",
    ],
    run: crate::module_entry!(run),
    run_loop: None,
};

/// The key types ansible.posix's authorized_key recognises in a key line.
const KEY_TYPES: &[&str] = &[
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "webauthn-sk-ecdsa-sha2-nistp256@openssh.com",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "sk-ssh-ed25519@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "ssh-ed25519",
    "ssh-ed25519-cert-v01@openssh.com",
    "ssh-dss",
    "ssh-rsa",
    "ssh-xmss@openssh.com",
    "ssh-xmss-cert-v01@openssh.com",
    "rsa-sha2-256",
    "rsa-sha2-512",
    "ssh-rsa-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com",
    "ssh-dss-cert-v01@openssh.com",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub user: String,
    pub key: String,
    pub path: Option<String>,
    pub manage_dir: bool,
    pub present: bool,
    pub key_options: Option<String>,
    pub exclusive: bool,
    pub comment: Option<String>,
    pub follow: bool,
    pub validate_certs: bool,
}

fn bad(message: String) -> ModuleError {
    ModuleError::BadArgs { module: MODULE.name.into(), message }
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let need = |key: &str| -> Result<String, ModuleError> {
            args.str(m, key)?.ok_or_else(|| ModuleError::MissingParam { module: m.into(), param: key.into() })
        };
        let key = need("key")?;
        if key.starts_with("http") {
            return Err(bad(format!(
                "`key` is a URL (`{key}`): downloading keys is not supported, give the key text instead"
            )));
        }
        let present = match args.str(m, "state")?.as_deref().unwrap_or("present") {
            "present" => true,
            "absent" => false,
            other => return Err(bad(format!("`state` must be one of present, absent; got `{other}`"))),
        };
        Ok(Params {
            user: need("user")?,
            key,
            path: args.str(m, "path")?,
            manage_dir: args.bool(m, "manage_dir")?.unwrap_or(true),
            present,
            key_options: args.str(m, "key_options")?,
            exclusive: args.bool(m, "exclusive")?.unwrap_or(false),
            comment: args.str(m, "comment")?,
            follow: args.bool(m, "follow")?.unwrap_or(false),
            validate_certs: args.bool(m, "validate_certs")?.unwrap_or(true),
        })
    }

    /// The path on the host that a `file:` key names (`file:///a/b` is `/a/b`), as Python's
    /// `urlparse(key).path`.
    pub fn key_file(&self) -> Option<String> {
        let rest = self.key.strip_prefix("file")?;
        let rest = rest.strip_prefix(':').unwrap_or(rest);
        let path = match rest.strip_prefix("//") {
            // `//host/path`: the host part is not the path.
            Some(net) => net.find('/').map_or("", |i| &net[i..]),
            None => rest,
        };
        Some(path.to_string())
    }

    /// The keys to manage, one per line of `key`, blank lines and comments skipped.
    fn new_keys(&self) -> Vec<&str> {
        self.key.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
    }
}

/// `name` or `name=value` options before the key type, in order (duplicates kept).
pub type Options = Vec<(String, Option<String>)>;

/// One line of an authorized_keys file as Ansible's parser sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Key {
        blob: String,
        kind: String,
        options: Options,
        comment: String,
    },
    /// A comment, blank or unparsable line, written back as it was.
    Other(String),
}

/// Splits an options string on commas outside double or single quotes.
pub fn parse_options(text: &str) -> Options {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quote_char: Option<char> = None;
    for c in text.chars() {
        match (quote_char, c) {
            (Some(q), c) if c == q => {
                quote_char = None;
                cur.push(c);
            }
            (None, '"' | '\'') => {
                quote_char = Some(c);
                cur.push(c);
            }
            (None, ',') => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (p, None),
        })
        .collect()
}

/// Options compare as Ansible's option dict does: per name, the values in order; the order
/// of different names does not matter.
fn same_options(a: &Options, b: &Options) -> bool {
    group_options(a) == group_options(b)
}

fn group_options(o: &Options) -> std::collections::BTreeMap<&str, Vec<Option<&str>>> {
    let mut m: std::collections::BTreeMap<&str, Vec<Option<&str>>> = Default::default();
    for (k, v) in o {
        m.entry(k.as_str()).or_default().push(v.as_deref());
    }
    m
}

/// Parses one line; `None` when it holds no key of a known type (Ansible keeps such lines).
pub fn parse_key(raw: &str) -> Option<Line> {
    let raw = raw.replace("\\#", "#");
    let parts: Vec<&str> = raw.split([' ', '\t', '\r', '\n']).filter(|p| !p.is_empty()).collect();
    if parts.first() == Some(&"#") {
        return Some(Line::Other(raw));
    }
    let at = parts.iter().position(|p| KEY_TYPES.contains(p))?;
    let blob = parts.get(at + 1)?;
    Some(Line::Key {
        blob: (*blob).to_string(),
        kind: parts[at].to_string(),
        options: parse_options(&parts[..at].join(" ")),
        comment: parts[at + 2..].join(" "),
    })
}

impl Line {
    /// The line written to the file (a key line as Ansible writes it, with its newline).
    pub fn render(&self) -> String {
        match self {
            Line::Other(raw) if raw.ends_with('\n') => raw.clone(),
            Line::Other(raw) => format!("{raw}\n"),
            Line::Key { blob, kind, options, comment } => {
                let mut opts = options
                    .iter()
                    .map(|(k, v)| match v {
                        Some(v) => format!("{k}={v}"),
                        None => k.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(",");
                if !opts.is_empty() {
                    opts.push(' ');
                }
                format!("{opts}{kind} {blob} {comment}\n")
            }
        }
    }
}

/// One entry of the file, keyed as Ansible keys it (the blob, or the line itself), with the
/// rank that orders the output.
#[derive(Debug, Clone)]
struct Entry {
    id: String,
    line: Line,
    rank: usize,
}

/// An insertion-ordered map, like the Python dict Ansible keeps the file in.
#[derive(Debug, Default)]
struct Entries(Vec<Entry>);

impl Entries {
    fn get(&self, id: &str) -> Option<&Entry> {
        self.0.iter().find(|e| e.id == id)
    }
    fn set(&mut self, id: String, line: Line, rank: usize) {
        match self.0.iter_mut().find(|e| e.id == id) {
            Some(e) => {
                e.line = line;
                e.rank = rank;
            }
            None => self.0.push(Entry { id, line, rank }),
        }
    }
    fn remove(&mut self, id: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|e| e.id != id);
        self.0.len() != before
    }
}

fn parse_file(content: &str) -> Entries {
    let mut entries = Entries::default();
    for (rank, line) in content.split_inclusive('\n').enumerate() {
        let (id, parsed) = match parse_key(line) {
            Some(Line::Key { blob, kind, options, comment }) => {
                (blob.clone(), Line::Key { blob, kind, options, comment })
            }
            Some(Line::Other(raw)) => (raw.clone(), Line::Other(raw)),
            None => (line.to_string(), Line::Other(line.to_string())),
        };
        entries.set(id, parsed, rank);
    }
    entries
}

/// The pure edit: the file's new content, or `None` when nothing must change. `Err` names an
/// invalid key.
pub fn edit(p: &Params, existing: &str) -> Result<Option<String>, String> {
    let mut entries = parse_file(existing);
    let max_rank = entries.0.len();
    let mut keep = Vec::new();
    let mut write = false;
    for (rank, new_key) in p.new_keys().into_iter().enumerate() {
        let Some(Line::Key { blob, kind, mut options, mut comment }) = parse_key(new_key) else {
            return Err(format!("invalid key specified: {new_key}"));
        };
        if let Some(o) = &p.key_options {
            options = parse_options(o);
        }
        if let Some(c) = &p.comment {
            comment = c.clone();
        }
        let mut matched = false;
        let mut differs = false;
        if let Some(Entry { line, .. }) = entries.get(&blob) {
            let same = match line {
                Line::Key { kind: k, options: o, comment: c, .. } => {
                    *k == kind && same_options(o, &options) && *c == comment
                }
                Line::Other(_) => false,
            };
            if !same && p.present {
                differs = true;
            } else {
                matched = true;
            }
        }
        if p.present {
            keep.push(blob.clone());
            if differs && entries.remove(&blob) {
                write = true;
            }
            if !matched {
                let line = Line::Key { blob: blob.clone(), kind, options, comment };
                entries.set(blob, line, max_rank + rank);
                write = true;
            }
        } else if matched {
            entries.remove(&blob);
            write = true;
        }
    }
    if p.present && p.exclusive {
        let before = entries.0.len();
        entries.0.retain(|e| keep.contains(&e.id));
        write |= entries.0.len() != before;
    }
    if !write {
        return Ok(None);
    }
    let mut ordered = entries.0;
    ordered.sort_by_key(|e| e.rank);
    Ok(Some(ordered.iter().map(|e| e.line.render()).collect()))
}

/// The user's entry and the keys file, as the state command found them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    /// uid, gid and home, when the user exists.
    pub user: Option<(u32, u32, String)>,
    /// The keys file's path (resolved when `follow`).
    pub keyfile: String,
    /// The directory `manage_dir` looks after.
    pub sshdir: String,
    /// The file's content; empty when it does not exist, as Ansible reads it.
    pub content: String,
}

/// The one state command: the passwd entry, the file's path, then its content to the end.
pub fn state_script(p: &Params) -> String {
    let mut s = format!(
        "export LC_ALL=C\n\
         if e=$(getent passwd -- {u}); then printf '@passwd %s\\n' \"$e\"; h=$(printf '%s\\n' \"$e\" | cut -d: -f6); fi\n",
        u = quote(&p.user)
    );
    match &p.path {
        Some(path) => s.push_str(&format!("f={}\n", quote(path))),
        None => s.push_str(
            "[ -n \"$e\" ] || exit 0\nf=\"$h/.ssh/authorized_keys\"\nprintf '@sshdir %s\\n' \"$h/.ssh\"\n",
        ),
    }
    if p.follow {
        s.push_str("f=$(readlink -m -- \"$f\")\n");
    }
    s.push_str("printf '@file %s\\n' \"$f\"\nif [ -f \"$f\" ]; then echo '@content'; cat -- \"$f\"; fi\n");
    s
}

/// Parses [`state_script`]'s output.
pub fn parse_state(p: &Params, out: &str) -> State {
    let mut st = State::default();
    let mut rest = out;
    while let Some((line, tail)) = rest.split_once('\n') {
        if line == "@content" {
            st.content = tail.to_string();
            break;
        }
        rest = tail;
        if let Some(e) = line.strip_prefix("@passwd ") {
            let f: Vec<&str> = e.split(':').collect();
            if let (Some(uid), Some(gid), Some(home)) =
                (f.get(2).and_then(|v| v.parse().ok()), f.get(3).and_then(|v| v.parse().ok()), f.get(5))
            {
                st.user = Some((uid, gid, (*home).to_string()));
            }
        } else if let Some(f) = line.strip_prefix("@file ") {
            st.keyfile = f.to_string();
        } else if let Some(d) = line.strip_prefix("@sshdir ") {
            st.sshdir = d.to_string();
        }
    }
    if let Some(path) = &p.path {
        st.sshdir = super::copy::dirname(path);
    }
    st
}

/// Directory steps and the atomic write of `content`.
pub fn plan(p: &Params, st: &State, content: String) -> Plan {
    let mut plan = Plan::default();
    let (uid, gid) = st.user.as_ref().map_or((0, 0), |(u, g, _)| (*u, *g));
    let dir = quote(&st.sshdir);
    if p.manage_dir {
        plan.exec(
            format!("creating {}", st.sshdir),
            format!("[ -d {dir} ] || mkdir -m 0700 -- {dir}; chown -- {uid}:{gid} {dir} && chmod 0700 {dir}"),
        );
    } else {
        let base = quote(&super::copy::dirname(&st.keyfile)).into_owned();
        plan.exec(format!("creating {base}"), format!("[ -d {base} ] || mkdir -p -- {base}"));
    }
    plan.steps.push(Step::Put {
        dest: st.keyfile.clone(),
        content: content.into_bytes(),
        mode: Some(0o600),
        owner: Some(p.user.clone()),
        group: Some(gid.to_string()),
    });
    plan
}

/// Ansible returns the module's parameters plus `keyfile`.
pub fn result_data(p: &Params, keyfile: &str) -> Map<String, Value> {
    let opt = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
    let mut d = Map::new();
    d.insert("user".into(), p.user.clone().into());
    d.insert("key".into(), p.key.clone().into());
    d.insert("path".into(), opt(&p.path));
    d.insert("manage_dir".into(), p.manage_dir.into());
    d.insert("state".into(), if p.present { "present" } else { "absent" }.into());
    d.insert("key_options".into(), opt(&p.key_options));
    d.insert("exclusive".into(), p.exclusive.into());
    d.insert("comment".into(), opt(&p.comment));
    d.insert("follow".into(), p.follow.into());
    d.insert("validate_certs".into(), p.validate_certs.into());
    d.insert("keyfile".into(), keyfile.into());
    d
}

/// Reads the keys of a `file:` key from the host; `Err` is Ansible's message.
pub fn key_file_script(path: &str) -> String {
    let q = quote(path);
    format!(
        "[ -e {q} ] || {{ printf 'Path to a key file not found: %s\\n' {q} >&2; exit 1; }}\n\
         [ -f {q} ] || {{ printf 'Path to a key is a directory and must be a file: %s\\n' {q} >&2; exit 1; }}\n\
         cat -- {q}"
    )
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let mut p = Params::parse(&args)?;
    let shown_key = p.key.clone();
    if let Some(path) = p.key_file() {
        let out = ctx.exec(key_file_script(&path)).await?;
        if !out.success() {
            return Ok(TaskResult::failed(out.stderr_str().trim().to_string()));
        }
        p.key = out.stdout_str();
    }
    let out = ctx.exec(state_script(&p)).await?;
    if !out.success() {
        return Ok(TaskResult::failed(format!(
            "could not read the keys of `{}`: {}",
            p.user,
            out.stderr_str().trim()
        )));
    }
    let st = parse_state(&p, &out.stdout_str());
    if st.user.is_none() && !(ctx.check_mode && p.path.is_some()) {
        return Ok(TaskResult::failed(if ctx.check_mode {
            "Either user must exist or you must provide full path to key file in check mode".to_string()
        } else {
            format!("Failed to lookup user {}: getpwnam(): name not found: '{}'", p.user, p.user)
        }));
    }
    let new = match edit(&p, &st.content) {
        Ok(n) => n,
        Err(msg) => return Ok(TaskResult::failed(msg)),
    };
    let data = result_data(&Params { key: shown_key, ..p.clone() }, &st.keyfile);
    let Some(after) = new else {
        return Plan::default().apply(ctx, data).await;
    };
    let mut plan = plan(&p, &st, after.clone());
    plan.diffs.push(Diff {
        before_header: Some(st.keyfile.clone()),
        after_header: Some(st.keyfile.clone()),
        before: st.content.clone(),
        after,
    });
    plan.apply(ctx, data).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIaaaa alice@laptop";
    const B: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIbbbb bob@laptop";
    const R: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQrrrr";

    fn params(v: Value) -> Params {
        let Value::Object(m) = v else { panic!() };
        Params::parse(&ModuleArgs(m)).unwrap()
    }

    fn edited(v: Value, existing: &str) -> Option<String> {
        edit(&params(v), existing).unwrap()
    }

    #[test]
    fn cases_key_and_file_to_new_content() {
        // (params, file before, file after or None for no change)
        let cases: Vec<(Value, String, Option<String>)> = vec![
            // A new key goes into an empty (or missing) file.
            (json!({"user": "u", "key": A}), String::new(), Some(format!("{A}\n"))),
            // Already there: nothing to do, whatever the spacing.
            (json!({"user": "u", "key": A}), format!("{A}\n"), None),
            (
                json!({"user": "u", "key": A}),
                "ssh-ed25519   AAAAC3NzaC1lZDI1NTE5AAAAIaaaa  alice@laptop\n".into(),
                None,
            ),
            // Appended after the other lines, which stay as they were.
            (
                json!({"user": "u", "key": B}),
                format!("# managed\n{A}\n"),
                Some(format!("# managed\n{A}\n{B}\n")),
            ),
            // A key without comment is written with Ansible's trailing space, and then matches.
            (json!({"user": "u", "key": R}), String::new(), Some(format!("{R} \n"))),
            (json!({"user": "u", "key": R}), format!("{R} \n"), None),
            // Several keys at once, in the order given; present ones untouched.
            (
                json!({"user": "u", "key": format!("{A}\n\n# note\n{B}\n")}),
                format!("{A}\n"),
                Some(format!("{A}\n{B}\n")),
            ),
            // Absent removes by blob, whatever the comment.
            (
                json!({"user": "u", "key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIaaaa other", "state": "absent"}),
                format!("{A}\n{B}\n"),
                Some(format!("{B}\n")),
            ),
            (json!({"user": "u", "key": A, "state": "absent"}), format!("{B}\n"), None),
            // A changed comment rewrites the key, after the others.
            (
                json!({"user": "u", "key": A, "comment": "ci"}),
                format!("{A}\n{B}\n"),
                Some(format!("{B}\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIaaaa ci\n")),
            ),
            // key_options replace the key's own; same options in another order match.
            (
                json!({"user": "u", "key": A, "key_options": "no-pty,from=\"10.0.0.1,10.0.0.2\""}),
                format!("{A}\n"),
                Some(format!("no-pty,from=\"10.0.0.1,10.0.0.2\" {A}\n")),
            ),
            (
                json!({"user": "u", "key": A, "key_options": "from=\"10.0.0.1,10.0.0.2\",no-pty"}),
                format!("no-pty,from=\"10.0.0.1,10.0.0.2\" {A}\n"),
                None,
            ),
            // Options dropped from the key text: rewritten without them.
            (json!({"user": "u", "key": A}), format!("no-pty {A}\n"), Some(format!("{A}\n"))),
            // Exclusive removes every other line, comments included.
            (
                json!({"user": "u", "key": B, "exclusive": true}),
                format!("# keep?\n{A}\n{B}\n"),
                Some(format!("{B}\n")),
            ),
            (json!({"user": "u", "key": B, "exclusive": true}), format!("{B}\n"), None),
            // A last line without newline gets one before the new key.
            (json!({"user": "u", "key": B}), "# x".into(), Some(format!("# x\n{B}\n"))),
        ];
        for (args, before, want) in cases {
            assert_eq!(edited(args.clone(), &before), want, "{args} on {before:?}");
        }
    }

    #[test]
    fn invalid_keys_are_refused() {
        let p = params(json!({"user": "u", "key": "not a key"}));
        assert_eq!(edit(&p, "").unwrap_err(), "invalid key specified: not a key");
        let p = params(json!({"user": "u", "key": "ssh-ed25519"}));
        assert!(edit(&p, "").is_err());
    }

    #[test]
    fn key_lines_are_parsed_like_ansible() {
        assert_eq!(
            parse_key("command=\"echo hi\",no-pty ssh-rsa AAAA x y\n"),
            Some(Line::Key {
                blob: "AAAA".into(),
                kind: "ssh-rsa".into(),
                options: vec![("command".into(), Some("\"echo hi\"".into())), ("no-pty".into(), None)],
                comment: "x y".into(),
            })
        );
        assert_eq!(parse_key("# a comment\n"), Some(Line::Other("# a comment\n".into())));
        assert_eq!(parse_key("\n"), None);
        assert_eq!(parse_key("garbage line\n"), None);
        assert_eq!(
            parse_options("a,b=1,c=\"x,y\",b=2"),
            vec![
                ("a".into(), None),
                ("b".into(), Some("1".into())),
                ("c".into(), Some("\"x,y\"".into())),
                ("b".into(), Some("2".into()))
            ]
        );
        assert!(same_options(&parse_options("a,b=1"), &parse_options("b=1,a")));
        assert!(!same_options(&parse_options("b=1,b=2"), &parse_options("b=2,b=1")));
    }

    #[test]
    fn state_output_is_parsed_with_the_content_verbatim() {
        let p = params(json!({"user": "app", "key": A}));
        let out = format!(
            "@passwd app:x:1001:1002:App:/home/app:/bin/sh\n@sshdir /home/app/.ssh\n@file /home/app/.ssh/authorized_keys\n@content\n{A}\n@file fake\n"
        );
        let st = parse_state(&p, &out);
        assert_eq!(st.user, Some((1001, 1002, "/home/app".into())));
        assert_eq!(st.keyfile, "/home/app/.ssh/authorized_keys");
        assert_eq!(st.sshdir, "/home/app/.ssh");
        assert_eq!(st.content, format!("{A}\n@file fake\n"));
        let st = parse_state(&p, "");
        assert_eq!(st.user, None);
        let p = params(json!({"user": "app", "key": A, "path": "/etc/ssh/keys/app"}));
        let st = parse_state(&p, "@file /etc/ssh/keys/app\n");
        assert_eq!((st.sshdir.as_str(), st.content.as_str()), ("/etc/ssh/keys", ""));
    }

    #[test]
    fn the_state_script_quotes_and_follows() {
        let s = state_script(&params(json!({"user": "a b", "key": A})));
        assert!(s.contains("getent passwd -- 'a b'") && s.contains("/.ssh/authorized_keys"), "{s}");
        let s = state_script(&params(json!({"user": "a", "key": A, "path": "/k eys", "follow": true})));
        assert!(s.contains("f='/k eys'") && s.contains("readlink -m"), "{s}");
    }

    #[test]
    fn the_write_makes_the_dir_and_puts_the_file_0600_as_the_user() {
        let p = params(json!({"user": "app", "key": A}));
        let st = State {
            user: Some((1001, 1002, "/home/app".into())),
            keyfile: "/home/app/.ssh/authorized_keys".into(),
            sshdir: "/home/app/.ssh".into(),
            content: String::new(),
        };
        let plan = plan(&p, &st, format!("{A}\n"));
        assert_eq!(plan.steps.len(), 2);
        let Step::Exec { cmd, .. } = &plan.steps[0] else { panic!() };
        assert!(cmd.contains("mkdir -m 0700 -- /home/app/.ssh"), "{cmd}");
        assert!(cmd.contains("chown -- 1001:1002 /home/app/.ssh && chmod 0700"), "{cmd}");
        assert_eq!(
            plan.steps[1],
            Step::Put {
                dest: "/home/app/.ssh/authorized_keys".into(),
                content: format!("{A}\n").into_bytes(),
                mode: Some(0o600),
                owner: Some("app".into()),
                group: Some("1002".into()),
            }
        );
        let p = params(json!({"user": "app", "key": A, "manage_dir": false, "path": "/srv/keys/app"}));
        let st = State { keyfile: "/srv/keys/app".into(), ..st };
        let Step::Exec { cmd, .. } = &plan_for(&p, &st).steps[0] else { panic!() };
        assert_eq!(cmd, "[ -d /srv/keys ] || mkdir -p -- /srv/keys");
    }

    fn plan_for(p: &Params, st: &State) -> Plan {
        plan(p, st, String::new())
    }

    #[test]
    fn file_keys_are_read_from_the_host() {
        let key_file = |k: &str| params(json!({"user": "u", "key": k})).key_file();
        assert_eq!(key_file("file:///home/u/k.pub").as_deref(), Some("/home/u/k.pub"));
        assert_eq!(key_file("file:/k.pub").as_deref(), Some("/k.pub"));
        assert_eq!(key_file("file://host/k.pub").as_deref(), Some("/k.pub"));
        assert_eq!(key_file(A), None);
        let s = key_file_script("/a b");
        assert!(s.contains("[ -e '/a b' ]") && s.ends_with("cat -- '/a b'"), "{s}");
    }

    #[test]
    fn params_are_validated() {
        let err = |v: Value| {
            let Value::Object(m) = v else { panic!() };
            Params::parse(&ModuleArgs(m)).unwrap_err().to_string()
        };
        assert!(err(json!({"key": A})).contains("`user`"));
        assert!(err(json!({"user": "u"})).contains("`key`"));
        assert!(err(json!({"user": "u", "key": A, "state": "gone"})).contains("`gone`"));
        assert!(err(json!({"user": "u", "key": "https://github.com/u.keys"})).contains("URL"));
        let p = params(json!({"user": "u", "key": A}));
        assert!(p.manage_dir && p.present && !p.exclusive);
    }

    #[test]
    fn result_echoes_the_params_and_keyfile() {
        let d = result_data(&params(json!({"user": "u", "key": A})), "/home/u/.ssh/authorized_keys");
        assert_eq!(d["keyfile"], "/home/u/.ssh/authorized_keys");
        assert_eq!((d["state"].clone(), d["path"].clone()), (json!("present"), Value::Null));
    }
}
