//! `user`: a local account present (with its uid, groups, home, shell, password, ssh key) or
//! absent, as Ansible's user module does it on Linux.
//!
//! ```yaml
//! - user:
//!     name: app
//!     comment: App service
//!     group: app
//!     groups: [deployers, docker]
//!     append: true
//!     shell: /bin/bash
//!     home: /srv/app
//!     password: "{{ app_hash }}"      # already hashed, as Ansible wants it
//!     generate_ssh_key: true
//!     ssh_key_type: ed25519
//! - user: name=olduser state=absent remove=yes
//! ```
//!
//! One command reads the passwd entry, the shadow entry (when readable), the groups listing the
//! user as a member, the groups the task names, whether the home exists and the ssh key; the
//! decision is pure (`useradd`/`usermod` arguments exactly as Ansible builds them, each one
//! quoted); commands run only when something differs. Group membership is read from the groups'
//! member lists (`getent group`), as Ansible's `grp.getgrall()` does, not from `id -Gn`, which
//! would also count the primary group.
//!
//! Not supported (refused as unknown parameters): `seuser`, `login_class`, `hidden`,
//! `profile`, `authorization`, `role` (SELinux, BSD, macOS and Solaris only),
//! `password_expire_account_disable`. `local: yes` looks the account up in `/etc/passwd` only but
//! still uses the shadow tools, not libuser's `luseradd`. `ssh_key_passphrase` is handed to
//! `ssh-keygen -N`, so it shows in the host's process list while the key is generated (Ansible
//! types it into a pty instead).

use serde_json::{Map, Value};

use super::calendar::civil_from_days;
use super::group::{GroupEntry, parse_group_line};
use super::plan::Plan;
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::{join, quote};
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "user",
    free_form: false,
    params: &[
        "append",
        "comment",
        "create_home",
        "createhome",
        "expires",
        "force",
        "generate_ssh_key",
        "group",
        "groups",
        "home",
        "local",
        "move_home",
        "name",
        "non_unique",
        "password",
        "password_expire_max",
        "password_expire_min",
        "password_expire_warn",
        "password_lock",
        "remove",
        "shell",
        "skeleton",
        "ssh_key_bits",
        "ssh_key_comment",
        "ssh_key_file",
        "ssh_key_passphrase",
        "ssh_key_type",
        "state",
        "system",
        "uid",
        "uid_max",
        "uid_min",
        "umask",
        "update_password",
        "user",
    ],
    run: crate::module_entry!(run),
    run_loop: None,
};

/// What Ansible's `ssh_key_*` options ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct SshKeyGen {
    pub bits: u32,
    pub kind: String,
    /// Absolute, or relative to the user's home.
    pub file: String,
    /// `None`: Ansible's `ansible-generated on HOSTNAME`.
    pub comment: Option<String>,
    pub passphrase: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    pub name: String,
    pub present: bool,
    pub uid: Option<u32>,
    pub non_unique: bool,
    pub group: Option<String>,
    /// `groups` joined with commas, as Ansible keeps it (and returns it).
    pub groups: Option<String>,
    pub append: bool,
    pub comment: Option<String>,
    pub home: Option<String>,
    pub shell: Option<String>,
    pub password: Option<String>,
    pub update_always: bool,
    pub create_home: bool,
    pub move_home: bool,
    pub system: bool,
    pub remove: bool,
    pub force: bool,
    pub skeleton: Option<String>,
    pub umask: Option<String>,
    pub password_lock: Option<bool>,
    /// Seconds since the epoch; negative removes the expiry.
    pub expires: Option<f64>,
    pub expire_min: Option<i64>,
    pub expire_max: Option<i64>,
    pub expire_warn: Option<i64>,
    pub local: bool,
    pub uid_min: Option<u32>,
    pub uid_max: Option<u32>,
    pub ssh_key: Option<SshKeyGen>,
}

fn bad(message: String) -> ModuleError {
    ModuleError::BadArgs { module: MODULE.name.into(), message }
}

fn number<T: std::str::FromStr>(args: &ModuleArgs, key: &str, what: &str) -> Result<Option<T>, ModuleError> {
    match args.str(MODULE.name, key)? {
        None => Ok(None),
        Some(s) => {
            s.trim().parse::<T>().map(Some).map_err(|_| bad(format!("`{key}` must be {what}, got `{s}`")))
        }
    }
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let name = args
            .str(m, "name")?
            .or(args.str(m, "user")?)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| ModuleError::MissingParam { module: m.into(), param: "name".into() })?;
        let present = match args.str(m, "state")?.as_deref().unwrap_or("present") {
            "present" => true,
            "absent" => false,
            other => return Err(bad(format!("`state` must be one of present, absent; got `{other}`"))),
        };
        let update_always = match args.str(m, "update_password")?.as_deref().unwrap_or("always") {
            "always" => true,
            "on_create" => false,
            other => {
                return Err(bad(format!(
                    "`update_password` must be one of always, on_create; got `{other}`"
                )));
            }
        };
        let create_home = match args.bool(m, "create_home")? {
            Some(b) => b,
            None => args.bool(m, "createhome")?.unwrap_or(true),
        };
        let ssh_key = if args.bool(m, "generate_ssh_key")?.unwrap_or(false) {
            let kind = args.str(m, "ssh_key_type")?.unwrap_or_else(|| "rsa".into());
            Some(SshKeyGen {
                bits: number(args, "ssh_key_bits", "a number of bits")?.unwrap_or(0),
                file: args.str(m, "ssh_key_file")?.unwrap_or_else(|| format!(".ssh/id_{kind}")),
                kind,
                comment: args.str(m, "ssh_key_comment")?,
                passphrase: args.str(m, "ssh_key_passphrase")?,
            })
        } else {
            None
        };
        Ok(Params {
            name,
            present,
            uid: number(args, "uid", "a non-negative number")?,
            non_unique: args.bool(m, "non_unique")?.unwrap_or(false),
            group: args.str(m, "group")?,
            groups: args.str_list(m, "groups")?.map(|g| g.join(",")),
            append: args.bool(m, "append")?.unwrap_or(false),
            comment: args.str(m, "comment")?,
            home: args.str(m, "home")?,
            shell: args.str(m, "shell")?,
            password: args.str(m, "password")?,
            update_always,
            create_home,
            move_home: args.bool(m, "move_home")?.unwrap_or(false),
            system: args.bool(m, "system")?.unwrap_or(false),
            remove: args.bool(m, "remove")?.unwrap_or(false),
            force: args.bool(m, "force")?.unwrap_or(false),
            skeleton: args.str(m, "skeleton")?,
            umask: args.str(m, "umask")?,
            password_lock: args.bool(m, "password_lock")?,
            expires: number(args, "expires", "seconds since the epoch")?,
            expire_min: number(args, "password_expire_min", "a number of days")?,
            expire_max: number(args, "password_expire_max", "a number of days")?,
            expire_warn: number(args, "password_expire_warn", "a number of days")?,
            local: args.bool(m, "local")?.unwrap_or(false),
            uid_min: number(args, "uid_min", "a non-negative number")?,
            uid_max: number(args, "uid_max", "a non-negative number")?,
            ssh_key,
        })
    }

    /// The group names or gids of `groups`, split and trimmed as Ansible does.
    pub fn group_list(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for g in self.groups.iter().flat_map(|g| g.split(',')).map(str::trim).filter(|g| !g.is_empty()) {
            if !out.iter().any(|o| o == g) {
                out.push(g.to_string());
            }
        }
        out
    }

    /// Every group the state command must look up: `group`, `groups` and the user's own name
    /// (`useradd -N` when a group of that name exists).
    fn group_queries(&self) -> Vec<String> {
        let mut q: Vec<String> = self.group.iter().cloned().collect();
        q.extend(self.group_list());
        q.push(self.name.clone());
        q.dedup();
        q
    }
}

/// A passwd entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Passwd {
    pub name: String,
    pub password: String,
    pub uid: u32,
    pub gid: u32,
    pub comment: String,
    pub home: String,
    pub shell: String,
}

/// Parses `name:x:uid:gid:gecos:home:shell`.
pub fn parse_passwd_line(line: &str) -> Option<Passwd> {
    let f: Vec<&str> = line.trim_end_matches(['\n', '\r']).split(':').collect();
    if f.len() < 7 {
        return None;
    }
    Some(Passwd {
        name: f[0].into(),
        password: f[1].into(),
        uid: f[2].parse().ok()?,
        gid: f[3].parse().ok()?,
        comment: f[4].into(),
        home: f[5].into(),
        shell: f[6..].join(":"),
    })
}

/// The shadow fields the module compares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shadow {
    pub hash: String,
    /// Days; -1 when the field is empty.
    pub min: i64,
    pub max: i64,
    pub warn: i64,
    pub expire: i64,
}

pub fn parse_shadow_line(line: &str) -> Option<Shadow> {
    let f: Vec<&str> = line.trim_end_matches(['\n', '\r']).split(':').collect();
    if f.len() < 8 {
        return None;
    }
    let days = |s: &str| s.trim().parse::<i64>().unwrap_or(-1);
    Some(Shadow { hash: f[1].into(), min: days(f[3]), max: days(f[4]), warn: days(f[5]), expire: days(f[7]) })
}

/// The generated key, when it exists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyState {
    pub path: String,
    pub private: bool,
    pub public: bool,
    pub fingerprint: String,
    pub public_key: String,
}

/// Everything the state command found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub user: Option<Passwd>,
    /// `None` when the shadow entry could not be read (not root).
    pub shadow: Option<Shadow>,
    /// Groups whose member list names the user.
    pub members: Vec<String>,
    /// Each looked-up group (by name or gid) and what it is, when it exists.
    pub groups: Vec<(String, GroupEntry)>,
    /// The wanted home (`home`, else the current one) exists.
    pub home_exists: bool,
    pub key: Option<KeyState>,
}

impl State {
    pub fn group(&self, query: &str) -> Option<&GroupEntry> {
        self.groups.iter().find(|(q, _)| q == query).map(|(_, g)| g)
    }

    /// The password field as Ansible's `user_info` sees it: the passwd field unless it is `x`
    /// (or empty), then the shadow hash, then empty when shadow is unreadable.
    pub fn password(&self) -> String {
        match &self.user {
            Some(u) if u.password.len() > 1 => u.password.clone(),
            _ => self.shadow.as_ref().map(|s| s.hash.clone()).unwrap_or_default(),
        }
    }
}

/// The one state command.
pub fn state_script(p: &Params) -> String {
    let name = quote(&p.name);
    let mut s = String::from("export LC_ALL=C\n");
    if p.local {
        s.push_str(&format!(
            "e=$(N={name} awk -F: '$1 == ENVIRON[\"N\"] {{ print; exit }}' /etc/passwd 2>/dev/null)\n"
        ));
    } else {
        s.push_str(&format!("e=$(getent passwd -- {name}) || e=\n"));
    }
    s.push_str(&format!(
        "h=\nif [ -n \"$e\" ]; then\n\
         printf '@passwd %s\\n' \"$e\"; h=$(printf '%s\\n' \"$e\" | cut -d: -f6)\n\
         if sh=$(getent shadow -- {name} 2>/dev/null); then printf '@shadow %s\\n' \"$sh\"; fi\n\
         getent group | N={name} awk -F: '{{ n = split($4, m, \",\"); for (i = 1; i <= n; i++) if (m[i] == ENVIRON[\"N\"]) {{ print \"@member \" $1; break }} }}'\n\
         fi\n"
    ));
    for q in p.group_queries() {
        let q = quote(&q);
        s.push_str(&format!("if g=$(getent group -- {q}); then printf '@group %s\\t%s\\n' {q} \"$g\"; fi\n"));
    }
    let home = p.home.as_deref().map_or_else(|| "\"$h\"".to_string(), |h| quote(h).into_owned());
    s.push_str(&format!("H={home}\nif [ -n \"$H\" ] && [ -e \"$H\" ]; then echo '@home'; fi\n"));
    if let Some(k) = &p.ssh_key {
        let path = if k.file.starts_with('/') {
            quote(&k.file).into_owned()
        } else {
            format!("\"$H\"/{}", quote(&k.file))
        };
        s.push_str(&format!(
            "k={path}\nprintf '@keypath %s\\n' \"$k\"\n\
             if [ -e \"$k.pub\" ]; then echo '@keypub'; fi\n\
             if [ -e \"$k\" ]; then echo '@keyprivate'; printf '@fingerprint %s\\n' \"$(ssh-keygen -l -f \"$k\" 2>&1)\"; \
             printf '@publickey %s\\n' \"$(cat -- \"$k.pub\" 2>/dev/null)\"; fi\n"
        ));
    }
    s
}

pub fn parse_state(out: &str) -> State {
    let mut st = State::default();
    for line in out.lines() {
        let (tag, rest) = line.split_once(' ').unwrap_or((line, ""));
        match tag {
            "@passwd" => st.user = parse_passwd_line(rest),
            "@shadow" => st.shadow = parse_shadow_line(rest),
            "@member" => st.members.push(rest.to_string()),
            "@group" => {
                if let Some((q, g)) = rest.split_once('\t')
                    && let Some(g) = parse_group_line(g)
                {
                    st.groups.push((q.to_string(), g));
                }
            }
            "@home" => st.home_exists = true,
            "@keypath" => st.key.get_or_insert_with(KeyState::default).path = rest.to_string(),
            "@keypub" => st.key.get_or_insert_with(KeyState::default).public = true,
            "@keyprivate" => st.key.get_or_insert_with(KeyState::default).private = true,
            "@fingerprint" => st.key.get_or_insert_with(KeyState::default).fingerprint = rest.to_string(),
            "@publickey" => st.key.get_or_insert_with(KeyState::default).public_key = rest.trim().to_string(),
            _ => {}
        }
    }
    st
}

/// `expires` (seconds) as useradd's `-e` date.
fn expire_date(expires: f64) -> String {
    let (y, m, d) = civil_from_days((expires / 86_400.0).floor() as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// What the module decided.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    pub plan: Plan,
    /// The account is created (or removed) by this plan.
    pub creates: bool,
    pub removes: bool,
}

fn exec(plan: &mut Plan, what: &str, argv: &[String]) {
    plan.exec(what, join(argv));
}

/// Finds a group by name or gid, or Ansible's failure.
fn need_group<'a>(st: &'a State, g: &str) -> Result<&'a GroupEntry, String> {
    st.group(g).ok_or_else(|| format!("Group {g} does not exist"))
}

fn useradd(p: &Params, st: &State) -> Result<Vec<String>, String> {
    let mut a: Vec<String> = vec!["useradd".into()];
    let mut arg = |xs: &[&str]| a.extend(xs.iter().map(|x| x.to_string()));
    if let Some(uid) = p.uid {
        arg(&["-u", &uid.to_string()]);
        if p.non_unique {
            arg(&["-o"]);
        }
    }
    if let Some(g) = &p.group {
        need_group(st, g)?;
        arg(&["-g", g]);
    } else if st.group(&p.name).is_some() {
        arg(&["-N"]);
    }
    let groups = p.group_list();
    if !groups.is_empty() {
        for g in &groups {
            need_group(st, g)?;
        }
        arg(&["-G", &groups.join(",")]);
    }
    if let Some(c) = &p.comment {
        arg(&["-c", c]);
    }
    if let Some(h) = &p.home {
        arg(&["-d", h]);
    }
    if let Some(s) = &p.shell {
        arg(&["-s", s]);
    }
    if let Some(e) = p.expires {
        arg(&["-e", &if e < 0.0 { String::new() } else { expire_date(e) }]);
    }
    if let Some(pw) = &p.password {
        let pw = if p.password_lock == Some(true) { format!("!{pw}") } else { pw.clone() };
        arg(&["-p", &pw]);
    }
    if p.create_home {
        arg(&["-m"]);
        if let Some(k) = &p.skeleton {
            arg(&["-k", k]);
        }
        if let Some(u) = &p.umask {
            arg(&["-K", &format!("UMASK={u}")]);
        }
    } else {
        arg(&["-M"]);
    }
    if p.system {
        arg(&["-r"]);
    }
    if let Some(min) = p.uid_min {
        arg(&["-K", &format!("UID_MIN={min}")]);
    }
    if let Some(max) = p.uid_max {
        arg(&["-K", &format!("UID_MAX={max}")]);
    }
    arg(&[&p.name]);
    Ok(a)
}

/// `usermod`'s arguments, empty when nothing differs.
fn usermod(p: &Params, st: &State, u: &Passwd) -> Result<Vec<String>, String> {
    let mut a: Vec<String> = Vec::new();
    let mut arg = |xs: &[&str]| a.extend(xs.iter().map(|x| x.to_string()));
    if let Some(uid) = p.uid.filter(|uid| *uid != u.uid) {
        arg(&["-u", &uid.to_string()]);
        if p.non_unique {
            arg(&["-o"]);
        }
    }
    if let Some(g) = &p.group {
        let g = need_group(st, g)?;
        if g.gid != u.gid {
            arg(&["-g", &g.gid.to_string()]);
        }
    }
    if let Some(groups) = &p.groups {
        let current: std::collections::BTreeSet<&str> = st.members.iter().map(String::as_str).collect();
        let mut need = false;
        let mut wanted: Vec<String> = Vec::new();
        if groups.is_empty() {
            need = !current.is_empty() && !p.append;
        } else {
            for g in p.group_list() {
                let name = need_group(st, &g)?.name.clone();
                if !wanted.contains(&name) {
                    wanted.push(name);
                }
            }
            let wanted_set: std::collections::BTreeSet<&str> = wanted.iter().map(String::as_str).collect();
            let differs = current != wanted_set;
            if differs && p.append {
                if wanted.iter().any(|g| !current.contains(g.as_str())) {
                    arg(&["-a"]);
                    need = true;
                }
            } else if differs {
                need = true;
            }
        }
        if need {
            arg(&["-G", &wanted.join(",")]);
        }
    }
    if let Some(c) = p.comment.as_ref().filter(|c| **c != u.comment) {
        arg(&["-c", c]);
    }
    if let Some(h) = p.home.as_ref().filter(|h| **h != u.home) {
        arg(&["-d", h]);
        if p.move_home {
            arg(&["-m"]);
        }
    }
    if let Some(s) = p.shell.as_ref().filter(|s| **s != u.shell) {
        arg(&["-s", s]);
    }
    if let Some(e) = p.expires {
        // Ansible reads an unreadable shadow's expiry as 0 and an empty field as -1.
        let current = st.shadow.as_ref().map_or(0, |s| s.expire);
        if e < 0.0 {
            if current >= 0 {
                arg(&["-e", ""]);
            }
        } else if current < 0 || civil_from_days(current) != civil_from_days((e / 86_400.0).floor() as i64) {
            arg(&["-e", &expire_date(e)]);
        }
    }
    let pw = st.password();
    let mut lock: Option<&str> = None;
    if p.password_lock == Some(true) && !pw.starts_with('!') {
        lock = Some("-L");
    } else if p.password_lock == Some(false) && pw.starts_with('!') {
        lock = Some("-U");
    }
    match &p.password {
        Some(want) if p.update_always && pw.trim_start_matches('!') != want.trim_start_matches('!') => {
            let want = if p.password_lock == Some(true) { format!("!{want}") } else { want.clone() };
            arg(&["-p", &want]);
        }
        _ => {
            if let Some(l) = lock {
                arg(&[l]);
            }
        }
    }
    if !a.is_empty() {
        a.insert(0, "usermod".into());
        a.push(p.name.clone());
    }
    Ok(a)
}

/// `chage` for the password_expire_* options that differ (all when shadow is unreadable).
fn chage(p: &Params, shadow: Option<&Shadow>) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    for (flag, want, have) in [
        ("-m", p.expire_min, shadow.map(|s| s.min)),
        ("-M", p.expire_max, shadow.map(|s| s.max)),
        ("-W", p.expire_warn, shadow.map(|s| s.warn)),
    ] {
        if let Some(w) = want
            && have != Some(w)
        {
            a.push(flag.into());
            a.push(w.to_string());
        }
    }
    if !a.is_empty() {
        a.insert(0, "chage".into());
        a.push(p.name.clone());
    }
    a
}

/// The user's uid:gid and home, looked up when the step runs (after useradd/usermod).
fn lookup(p: &Params) -> String {
    format!(
        "e=$(getent passwd -- {n}); ug=$(printf '%s\\n' \"$e\" | cut -d: -f3,4); h=$(printf '%s\\n' \"$e\" | cut -d: -f6)",
        n = quote(&p.name)
    )
}

/// Creates a missing home from the skeleton with login.defs' HOME_MODE (or UMASK), as Ansible's
/// `create_homedir` + `chown_homedir`.
fn create_home_script(p: &Params) -> String {
    let home = p.home.as_deref().map_or_else(|| "$h".to_string(), |h| quote(h).into_owned());
    let skel = quote(p.skeleton.as_deref().unwrap_or("/etc/skel")).into_owned();
    format!(
        "set -e; {lookup}; H={home}\n\
         if [ ! -e \"$H\" ]; then\n\
         mkdir -p -- \"$(dirname -- \"$H\")\"\n\
         if [ -d {skel} ]; then cp -R -P -- {skel} \"$H\"; else mkdir -p -- \"$H\"; fi\n\
         hm=$(awk '$1 == \"HOME_MODE\" && NF == 2 && $2 ~ /^[0-9]+$/ {{ print $2; exit }}' /etc/login.defs 2>/dev/null || true)\n\
         um=$(awk '$1 == \"UMASK\" && NF == 2 && $2 ~ /^[0-9]+$/ {{ u = $2 }} END {{ print u }}' /etc/login.defs 2>/dev/null || true)\n\
         if [ -n \"$hm\" ]; then mode=$hm; elif [ -n \"$um\" ]; then mode=$(printf '%o' $(( 0777 & ~0$um ))); else mode=755; fi\n\
         chmod \"$mode\" \"$H\"; chown -R -h -- \"$ug\" \"$H\"\n\
         fi",
        lookup = lookup(p)
    )
}

/// Generates the key with ssh-keygen and gives it to the user, as Ansible's `ssh_key_gen`.
fn ssh_keygen_script(p: &Params, k: &SshKeyGen) -> String {
    let path = if k.file.starts_with('/') {
        quote(&k.file).into_owned()
    } else {
        format!("\"$h\"/{}", quote(&k.file))
    };
    let bits = if k.bits > 0 { format!(" -b {}", k.bits) } else { String::new() };
    let comment = k
        .comment
        .as_deref()
        .map_or_else(|| "\"ansible-generated on $(uname -n)\"".to_string(), |c| quote(c).into_owned());
    let pass = quote(k.passphrase.as_deref().unwrap_or("")).into_owned();
    let relative_needs_home = if k.file.starts_with('/') {
        String::new()
    } else {
        format!(
            "[ -d \"$h\" ] || {{ echo \"User {} home directory does not exist\" >&2; exit 1; }}\n",
            p.name.replace(['"', '$', '`', '\\'], "")
        )
    };
    format!(
        "set -e; {lookup}\n{relative_needs_home}k={path}; d=$(dirname -- \"$k\")\n\
         if [ ! -e \"$d\" ]; then mkdir -m 0700 -- \"$d\"; chown -- \"$ug\" \"$d\"; fi\n\
         rm -f -- \"$k\" \"$k.pub\"\n\
         ssh-keygen -q -t {kind}{bits} -C {comment} -f \"$k\" -N {pass} </dev/null\n\
         chown -- \"$ug\" \"$k\" \"$k.pub\"",
        lookup = lookup(p),
        kind = quote(&k.kind),
    )
}

/// The pure decision from (params, state). `Err` is a failure with Ansible's message.
pub fn plan(p: &Params, st: &State) -> Result<Decision, String> {
    let mut d = Decision::default();
    let Some(u) = &st.user else {
        if p.present {
            exec(&mut d.plan, "useradd", &useradd(p, st)?);
            if let Some(h) = p.home.as_ref().filter(|_| p.create_home) {
                // useradd cannot create missing parents of the home.
                let parent = super::copy::dirname(h);
                d.plan.steps.insert(
                    0,
                    super::plan::Step::Exec {
                        what: "creating the home's parent".into(),
                        cmd: format!("mkdir -p -- {}", quote(&parent)),
                    },
                );
            }
            let cmd = chage(p, None);
            if !cmd.is_empty() {
                exec(&mut d.plan, "chage", &cmd);
            }
            if let Some(k) = &p.ssh_key {
                d.plan.exec("ssh-keygen", ssh_keygen_script(p, k));
            }
            d.creates = true;
        }
        return Ok(d);
    };
    if !p.present {
        let mut a = vec!["userdel".to_string()];
        if p.force {
            a.push("-f".into());
        }
        if p.remove {
            a.push("-r".into());
        }
        a.push(p.name.clone());
        exec(&mut d.plan, "userdel", &a);
        d.removes = true;
        return Ok(d);
    }
    let cmd = usermod(p, st, u)?;
    let moves_home = p.move_home && cmd.iter().any(|a| a == "-d");
    if !cmd.is_empty() {
        exec(&mut d.plan, "usermod", &cmd);
    }
    if p.create_home && !st.home_exists && !moves_home {
        d.plan.exec("creating the home", create_home_script(p));
    }
    if let Some(k) = &p.ssh_key {
        let exists = st.key.as_ref().is_some_and(|k| k.private || k.public);
        if !exists || p.force {
            d.plan.exec("ssh-keygen", ssh_keygen_script(p, k));
        }
    }
    let cmd = chage(p, st.shadow.as_ref());
    if !cmd.is_empty() {
        exec(&mut d.plan, "chage", &cmd);
    }
    Ok(d)
}

/// Ansible's result keys for the account as `st` shows it.
pub fn result_data(p: &Params, d: &Decision, st: &State) -> Map<String, Value> {
    let mut r = Map::new();
    r.insert("name".into(), p.name.clone().into());
    r.insert("state".into(), if p.present { "present" } else { "absent" }.into());
    if d.removes {
        r.insert("force".into(), p.force.into());
        r.insert("remove".into(), p.remove.into());
    }
    if p.present {
        if d.creates {
            r.insert("system".into(), p.system.into());
            r.insert("create_home".into(), p.create_home.into());
        } else {
            r.insert("append".into(), p.append.into());
            r.insert("move_home".into(), p.move_home.into());
        }
        if p.password.is_some() {
            r.insert("password".into(), "NOT_LOGGING_PASSWORD".into());
        }
        if let Some(u) = &st.user {
            r.insert("uid".into(), u.uid.into());
            r.insert("group".into(), u.gid.into());
            r.insert("comment".into(), u.comment.clone().into());
            r.insert("home".into(), u.home.clone().into());
            r.insert("shell".into(), u.shell.clone().into());
            if let Some(g) = &p.groups {
                r.insert("groups".into(), g.clone().into());
            }
            if let Some(k) = &st.key {
                r.insert("ssh_fingerprint".into(), k.fingerprint.clone().into());
                r.insert("ssh_key_file".into(), k.path.clone().into());
                let public = if k.public_key.is_empty() { Value::Null } else { k.public_key.clone().into() };
                r.insert("ssh_public_key".into(), public);
            }
        }
    }
    r
}

async fn read(ctx: &ModuleCtx<'_>, p: &Params) -> Result<Result<State, String>, ModuleError> {
    let out = ctx.exec(state_script(p)).await?;
    if !out.success() {
        return Ok(Err(format!("could not read the account `{}`: {}", p.name, out.stderr_str().trim())));
    }
    Ok(Ok(parse_state(&out.stdout_str())))
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    let st = match read(ctx, &p).await? {
        Ok(st) => st,
        Err(msg) => return Ok(TaskResult::failed(msg)),
    };
    if ctx.check_mode && p.present && st.user.is_none() {
        // Ansible answers `changed` for an account it would create before it looks at the
        // groups: a group created by an earlier task of the same check run does not exist yet.
        let mut r = TaskResult::new(Status::Changed);
        r.data.insert("name".into(), p.name.clone().into());
        r.data.insert("state".into(), "present".into());
        return Ok(r);
    }
    let d = match plan(&p, &st) {
        Ok(d) => d,
        Err(msg) => {
            let mut r = TaskResult::failed(msg);
            r.data.insert("name".into(), p.name.clone().into());
            return Ok(r);
        }
    };
    if d.plan.is_empty() || ctx.check_mode {
        // Nothing to do, or a prediction: Ansible reports only `changed` for an account it
        // would create or remove.
        let shown = if d.creates || d.removes { State::default() } else { st };
        let data = result_data(&p, &d, &shown);
        return d.plan.clone().apply(ctx, data).await;
    }
    let mut result = d.plan.clone().apply(ctx, Map::new()).await?;
    if result.status == Status::Failed {
        result.data.insert("name".into(), p.name.clone().into());
        return Ok(result);
    }
    let after = if d.removes {
        State::default()
    } else {
        match read(ctx, &p).await? {
            Ok(st) => st,
            Err(msg) => return Ok(TaskResult::failed(msg)),
        }
    };
    result.data = result_data(&p, &d, &after);
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::plan::Step;
    use serde_json::json;

    fn params(v: Value) -> Params {
        let Value::Object(m) = v else { panic!() };
        Params::parse(&ModuleArgs(m)).unwrap()
    }

    fn parse_err(v: Value) -> String {
        let Value::Object(m) = v else { panic!() };
        Params::parse(&ModuleArgs(m)).unwrap_err().to_string()
    }

    fn cmds(d: &Decision) -> Vec<String> {
        d.plan
            .steps
            .iter()
            .map(|s| match s {
                Step::Exec { cmd, .. } => cmd.clone(),
                Step::Put { dest, .. } => format!("put {dest}"),
            })
            .collect()
    }

    fn grp(name: &str, gid: u32) -> (String, GroupEntry) {
        (name.into(), GroupEntry { name: name.into(), gid, members: vec![] })
    }

    /// An existing `app` (uid 1001, primary group app 1001, in `web`), shadow readable.
    fn existing() -> State {
        State {
            user: Some(Passwd {
                name: "app".into(),
                password: "x".into(),
                uid: 1001,
                gid: 1001,
                comment: "App".into(),
                home: "/home/app".into(),
                shell: "/bin/sh".into(),
            }),
            shadow: Some(Shadow { hash: "$6$old".into(), min: 0, max: 99999, warn: 7, expire: -1 }),
            members: vec!["web".into()],
            groups: vec![
                grp("app", 1001),
                grp("web", 2001),
                grp("db", 2002),
                ("2002".into(), grp("db", 2002).1),
            ],
            home_exists: true,
            key: None,
        }
    }

    fn groups_only() -> State {
        State { groups: vec![grp("web", 2001), grp("db", 2002), grp("staff", 50)], ..State::default() }
    }

    #[test]
    fn cases_creating_an_account() {
        // (params, state, commands)
        let cases: Vec<(Value, State, Vec<&str>)> = vec![
            (json!({"name": "app"}), State::default(), vec!["useradd -m app"]),
            // A group named like the user already exists: -N, as Ansible.
            (json!({"name": "web"}), groups_only(), vec!["useradd -N -m web"]),
            (
                json!({"name": "app", "uid": 1500, "non_unique": true, "group": "staff", "groups": ["web", "db"],
                       "comment": "App user", "shell": "/bin/bash", "system": true, "create_home": false}),
                groups_only(),
                vec!["useradd -u 1500 -o -g staff -G web,db -c 'App user' -s /bin/bash -M -r app"],
            ),
            (
                json!({"name": "app", "home": "/srv/homes/app", "skeleton": "/etc/skel2", "umask": "077"}),
                State::default(),
                vec!["mkdir -p -- /srv/homes", "useradd -d /srv/homes/app -m -k /etc/skel2 -K UMASK=077 app"],
            ),
            (
                json!({"name": "app", "password": "$6$salt$hash", "password_lock": true}),
                State::default(),
                vec!["useradd -p '!$6$salt$hash' -m app"],
            ),
            (
                json!({"name": "app", "expires": 1_767_225_600}),
                State::default(),
                vec!["useradd -e 2026-01-01 -m app"],
            ),
            (json!({"name": "app", "expires": -1}), State::default(), vec!["useradd -e '' -m app"]),
            (json!({"name": "app", "groups": "web, db"}), groups_only(), vec!["useradd -G web,db -m app"]),
            (json!({"name": "app", "groups": []}), State::default(), vec!["useradd -m app"]),
            (
                json!({"name": "app", "uid_min": 5000, "uid_max": 5999}),
                State::default(),
                vec!["useradd -m -K UID_MIN=5000 -K UID_MAX=5999 app"],
            ),
            (
                json!({"name": "app", "password_expire_max": 90, "password_expire_min": 1}),
                State::default(),
                vec!["useradd -m app", "chage -m 1 -M 90 app"],
            ),
            (json!({"name": "app", "state": "absent"}), State::default(), vec![]),
        ];
        for (args, st, want) in cases {
            let d = plan(&params(args.clone()), &st).unwrap();
            assert_eq!(cmds(&d), want, "{args}");
            assert_eq!(d.creates, !want.is_empty(), "{args}");
        }
    }

    #[test]
    fn cases_modifying_an_account() {
        let cases: Vec<(Value, Vec<&str>)> = vec![
            (json!({"name": "app"}), vec![]),
            (
                json!({"name": "app", "uid": 1001, "comment": "App", "shell": "/bin/sh", "home": "/home/app"}),
                vec![],
            ),
            (json!({"name": "app", "uid": 1600}), vec!["usermod -u 1600 app"]),
            (json!({"name": "app", "group": "web"}), vec!["usermod -g 2001 app"]),
            (json!({"name": "app", "group": "app"}), vec![]),
            (json!({"name": "app", "groups": ["web"]}), vec![]),
            (json!({"name": "app", "groups": ["web", "db"]}), vec!["usermod -G web,db app"]),
            (json!({"name": "app", "groups": ["2002"]}), vec!["usermod -G db app"]),
            (json!({"name": "app", "groups": ["db"], "append": true}), vec!["usermod -a -G db app"]),
            // Appending what is already there does nothing, extra memberships stay.
            (json!({"name": "app", "groups": ["web"], "append": true}), vec![]),
            (json!({"name": "app", "groups": []}), vec!["usermod -G '' app"]),
            (json!({"name": "app", "groups": [], "append": true}), vec![]),
            (json!({"name": "app", "comment": "The app"}), vec!["usermod -c 'The app' app"]),
            (
                json!({"name": "app", "home": "/srv/app", "move_home": true}),
                vec!["usermod -d /srv/app -m app"],
            ),
            (json!({"name": "app", "shell": "/bin/bash"}), vec!["usermod -s /bin/bash app"]),
            (json!({"name": "app", "password": "$6$old"}), vec![]),
            (json!({"name": "app", "password": "$6$new"}), vec!["usermod -p '$6$new' app"]),
            (json!({"name": "app", "password": "$6$new", "update_password": "on_create"}), vec![]),
            (json!({"name": "app", "password_lock": true}), vec!["usermod -L app"]),
            (json!({"name": "app", "password_lock": false}), vec![]),
            (
                json!({"name": "app", "password": "$6$new", "password_lock": true}),
                vec!["usermod -p '!$6$new' app"],
            ),
            (json!({"name": "app", "expires": 1_767_225_600.5}), vec!["usermod -e 2026-01-01 app"]),
            (json!({"name": "app", "expires": -1}), vec![]),
            (
                json!({"name": "app", "password_expire_max": 99999, "password_expire_warn": 14}),
                vec!["chage -W 14 app"],
            ),
            (json!({"name": "app", "state": "absent"}), vec!["userdel app"]),
            (
                json!({"name": "app", "state": "absent", "remove": true, "force": true}),
                vec!["userdel -f -r app"],
            ),
        ];
        for (args, want) in cases {
            let d = plan(&params(args.clone()), &existing()).unwrap();
            assert_eq!(cmds(&d), want, "{args}");
            assert!(!d.creates, "{args}");
        }
    }

    #[test]
    fn locked_accounts_and_expiry_are_compared_with_shadow() {
        let mut st = existing();
        st.shadow = Some(Shadow { hash: "!$6$old".into(), expire: 20454, ..Shadow::default() });
        let p = params(json!({"name": "app", "password_lock": false}));
        assert_eq!(cmds(&plan(&p, &st).unwrap()), ["usermod -U app"]);
        let p = params(json!({"name": "app", "password_lock": true, "password": "$6$old"}));
        assert!(cmds(&plan(&p, &st).unwrap()).is_empty());
        // 20454 days is 2026-01-01: same day, no change; another day or none: -e.
        let p = params(json!({"name": "app", "expires": 1_767_260_000}));
        assert!(cmds(&plan(&p, &st).unwrap()).is_empty());
        let p = params(json!({"name": "app", "expires": -1}));
        assert_eq!(cmds(&plan(&p, &st).unwrap()), ["usermod -e '' app"]);
        // Without shadow, the password always differs (Ansible reads it as empty).
        st.shadow = None;
        let p = params(json!({"name": "app", "password": "$6$old"}));
        assert_eq!(cmds(&plan(&p, &st).unwrap()), ["usermod -p '$6$old' app"]);
        let p = params(json!({"name": "app", "password_expire_max": 90}));
        assert_eq!(cmds(&plan(&p, &st).unwrap()), ["chage -M 90 app"]);
    }

    #[test]
    fn missing_groups_fail_like_ansible() {
        let p = params(json!({"name": "app", "group": "nope"}));
        assert_eq!(plan(&p, &State::default()).unwrap_err(), "Group nope does not exist");
        assert_eq!(plan(&p, &existing()).unwrap_err(), "Group nope does not exist");
        let p = params(json!({"name": "app", "groups": ["web", "nope"]}));
        assert_eq!(plan(&p, &existing()).unwrap_err(), "Group nope does not exist");
    }

    #[test]
    fn a_missing_home_is_created_and_a_moved_one_is_not() {
        let st = State { home_exists: false, ..existing() };
        let d = plan(&params(json!({"name": "app"})), &st).unwrap();
        let c = cmds(&d);
        assert_eq!(c.len(), 1);
        assert!(c[0].contains("cp -R -P -- /etc/skel \"$H\"") && c[0].contains("chown -R -h"), "{}", c[0]);
        assert!(cmds(&plan(&params(json!({"name": "app", "create_home": false})), &st).unwrap()).is_empty());
        let d = plan(&params(json!({"name": "app", "home": "/srv/app", "move_home": true})), &st).unwrap();
        assert_eq!(cmds(&d), ["usermod -d /srv/app -m app"]);
        let d = plan(&params(json!({"name": "app", "home": "/srv/app"})), &st).unwrap();
        assert_eq!(cmds(&d).len(), 2);
        assert!(cmds(&d)[1].contains("H=/srv/app"));
    }

    #[test]
    fn ssh_keys_are_generated_once_unless_forced() {
        let p = params(json!({"name": "app", "generate_ssh_key": true, "ssh_key_type": "ed25519"}));
        let c = cmds(&plan(&p, &existing()).unwrap());
        assert_eq!(c.len(), 1);
        assert!(c[0].contains("k=\"$h\"/.ssh/id_ed25519"), "{}", c[0]);
        assert!(
            c[0].contains("ssh-keygen -q -t ed25519 -C \"ansible-generated on $(uname -n)\" -f \"$k\" -N ''"),
            "{}",
            c[0]
        );
        let st = State {
            key: Some(KeyState { private: true, public: true, ..KeyState::default() }),
            ..existing()
        };
        assert!(cmds(&plan(&p, &st).unwrap()).is_empty());
        let p = params(json!({"name": "app", "generate_ssh_key": true, "force": true, "ssh_key_bits": 4096,
                              "ssh_key_file": "/etc/app/key", "ssh_key_comment": "app key"}));
        let c = cmds(&plan(&p, &st).unwrap());
        assert!(c[0].contains("k=/etc/app/key") && c[0].contains("-t rsa -b 4096 -C 'app key'"), "{}", c[0]);
        // A new account gets its key after useradd.
        let c = cmds(&plan(&p, &State::default()).unwrap());
        assert_eq!(c.len(), 2);
        assert!(c[1].contains("ssh-keygen"));
    }

    #[test]
    fn state_output_is_parsed() {
        let out = "@passwd app:x:1001:1001:App,,,:/home/app:/bin/bash\n\
                   @shadow app:$6$abc:19000:0:99999:7:::\n\
                   @member web\n@member db\n\
                   @group app\tapp:x:1001:\n@group 2002\tdb:x:2002:app\n@home\n\
                   @keypath /home/app/.ssh/id_rsa\n@keypub\n@keyprivate\n\
                   @fingerprint 3072 SHA256:xyz app (RSA)\n@publickey ssh-rsa AAAA app\n";
        let st = parse_state(out);
        let u = st.user.clone().unwrap();
        assert_eq!((u.uid, u.gid, u.comment.as_str(), u.shell.as_str()), (1001, 1001, "App,,,", "/bin/bash"));
        assert_eq!(
            st.shadow,
            Some(Shadow { hash: "$6$abc".into(), min: 0, max: 99999, warn: 7, expire: -1 })
        );
        assert_eq!(st.members, ["web", "db"]);
        assert_eq!(st.group("2002").map(|g| g.name.as_str()), Some("db"));
        assert!(st.home_exists);
        assert_eq!(st.password(), "$6$abc");
        let k = st.key.unwrap();
        assert!(k.private && k.public && k.fingerprint.starts_with("3072 SHA256"));
        assert_eq!(parse_state(""), State::default());
        assert_eq!(parse_passwd_line("bad:line"), None);
    }

    #[test]
    fn the_state_script_quotes_every_name() {
        let s = state_script(&params(json!({"name": "a'b", "groups": ["g 1"], "home": "/h x"})));
        assert!(s.contains("getent passwd -- 'a'\\''b'"), "{s}");
        assert!(s.contains("getent group -- 'g 1'"), "{s}");
        assert!(s.contains("H='/h x'"), "{s}");
        let s = state_script(&params(json!({"name": "app", "local": true})));
        assert!(s.contains("/etc/passwd") && !s.contains("getent passwd"), "{s}");
    }

    #[test]
    fn result_keys_follow_ansible() {
        let p = params(json!({"name": "app", "groups": ["web", "db"], "password": "$6$x"}));
        let st = existing();
        let d = plan(&p, &st).unwrap();
        let r = Value::Object(result_data(&p, &d, &st));
        assert_eq!(r["uid"], 1001);
        assert_eq!(r["group"], 1001);
        assert_eq!(r["groups"], "web,db");
        assert_eq!(r["password"], "NOT_LOGGING_PASSWORD");
        assert_eq!((r["append"].clone(), r["move_home"].clone()), (json!(false), json!(false)));
        let p = params(json!({"name": "app", "system": true}));
        let d = plan(&p, &State::default()).unwrap();
        let r = Value::Object(result_data(&p, &d, &st));
        assert_eq!((r["system"].clone(), r["create_home"].clone()), (json!(true), json!(true)));
        let p = params(json!({"name": "app", "state": "absent", "remove": true}));
        let d = plan(&p, &st).unwrap();
        let r = Value::Object(result_data(&p, &d, &State::default()));
        assert_eq!(r, json!({"name": "app", "state": "absent", "force": false, "remove": true}));
    }

    #[test]
    fn params_are_validated() {
        assert!(parse_err(json!({})).contains("`name`"));
        assert!(parse_err(json!({"name": "a", "state": "locked"})).contains("`locked`"));
        assert!(parse_err(json!({"name": "a", "uid": "abc"})).contains("`uid`"));
        assert!(parse_err(json!({"name": "a", "update_password": "sometimes"})).contains("`sometimes`"));
        assert!(parse_err(json!({"name": "a", "expires": "soon"})).contains("`expires`"));
        assert_eq!(params(json!({"user": "a"})).name, "a");
        assert!(!params(json!({"name": "a", "createhome": false})).create_home);
        assert_eq!(params(json!({"name": "a", "groups": "x,y"})).groups.as_deref(), Some("x,y"));
    }
}
