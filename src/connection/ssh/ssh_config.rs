//! Reading `~/.ssh/config` the way OpenSSH does for the settings Baton uses: `Host` blocks with
//! `*`/`?`/`!` patterns, and for each setting the first value obtained wins (so specific blocks
//! go first, `Host *` last). `IdentityFile` accumulates. `Match` blocks are not evaluated and
//! never apply.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::options::{HostKeyPolicy, JumpHost, SshConfigFile};
use super::pattern::{glob_match, list_match};

/// A parsed ssh_config file (with its `Include`s).
#[derive(Debug, Clone, Default)]
pub struct SshConfig {
    blocks: Vec<Block>,
}

#[derive(Debug, Clone)]
struct Block {
    /// `None`: lines before the first `Host`, which apply to every host.
    patterns: Option<Vec<String>>,
    /// A `Match` block: skipped.
    is_match: bool,
    settings: Vec<(String, String)>,
}

/// The settings one host gets from ssh_config.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostConfig {
    pub hostname: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_files: Vec<PathBuf>,
    pub identities_only: Option<bool>,
    pub known_hosts: Vec<PathBuf>,
    pub host_key_policy: Option<HostKeyPolicy>,
    pub connect_timeout: Option<Duration>,
    pub proxy_jump: Option<Vec<JumpHost>>,
}

const MAX_INCLUDE_DEPTH: usize = 8;

impl SshConfig {
    /// Reads the chosen file; a missing or unreadable file is an empty config, as for OpenSSH
    /// when `~/.ssh/config` does not exist.
    pub fn load(which: &SshConfigFile) -> SshConfig {
        let path = match which {
            SshConfigFile::None => return SshConfig::default(),
            SshConfigFile::Path(p) => p.clone(),
            SshConfigFile::User => match dirs::home_dir() {
                Some(h) => h.join(".ssh").join("config"),
                None => return SshConfig::default(),
            },
        };
        let mut config = SshConfig::default();
        config.read_file(&path, None, 0);
        config
    }

    /// Parses config text (no `Include` resolution relative to a file).
    pub fn parse(text: &str) -> SshConfig {
        let mut config = SshConfig::default();
        config.parse_into(text, None, 0);
        config
    }

    fn read_file(&mut self, path: &Path, outer: Option<Vec<String>>, depth: usize) {
        if let Ok(text) = std::fs::read_to_string(path) {
            self.parse_into(&text, outer, depth);
        }
    }

    fn parse_into(&mut self, text: &str, outer: Option<Vec<String>>, depth: usize) {
        self.blocks.push(Block { patterns: outer.clone(), is_match: false, settings: Vec::new() });
        for line in text.lines() {
            let Some((key, value)) = split_line(line) else {
                continue;
            };
            match key.as_str() {
                "host" => self.blocks.push(Block {
                    patterns: Some(words(&value)),
                    is_match: false,
                    settings: Vec::new(),
                }),
                "match" => self.blocks.push(Block {
                    patterns: Some(Vec::new()),
                    is_match: true,
                    settings: Vec::new(),
                }),
                "include" => {
                    if depth >= MAX_INCLUDE_DEPTH {
                        continue;
                    }
                    let current = self.blocks.last().and_then(|b| b.patterns.clone());
                    for file in words(&value) {
                        for path in include_paths(&file) {
                            self.read_file(&path, current.clone(), depth + 1);
                        }
                    }
                    // Lines after the Include belong to the block it appeared in.
                    self.blocks.push(Block { patterns: current, is_match: false, settings: Vec::new() });
                }
                _ => {
                    if let Some(block) = self.blocks.last_mut() {
                        block.settings.push((key, value));
                    }
                }
            }
        }
    }

    /// The settings for `host` (the name as given, before `HostName`).
    pub fn query(&self, host: &str) -> HostConfig {
        let mut hc = HostConfig::default();
        for block in &self.blocks {
            if block.is_match {
                continue;
            }
            if let Some(patterns) = &block.patterns
                && !list_match(patterns.iter().map(String::as_str), host)
            {
                continue;
            }
            for (key, value) in &block.settings {
                apply(&mut hc, key, value);
            }
        }
        hc
    }
}

/// Records one setting unless an earlier block already decided it.
fn apply(hc: &mut HostConfig, key: &str, value: &str) {
    let first = words(value).into_iter().next().unwrap_or_default();
    match key {
        "hostname" if hc.hostname.is_none() => hc.hostname = Some(first),
        "user" if hc.user.is_none() => hc.user = Some(first),
        "port" if hc.port.is_none() => hc.port = first.parse().ok(),
        "identityfile" => hc.identity_files.push(PathBuf::from(first)),
        "identitiesonly" if hc.identities_only.is_none() => hc.identities_only = yes_no(&first),
        "userknownhostsfile" if hc.known_hosts.is_empty() => {
            hc.known_hosts = words(value).into_iter().map(PathBuf::from).collect();
        }
        "stricthostkeychecking" if hc.host_key_policy.is_none() => {
            hc.host_key_policy = HostKeyPolicy::parse(&first);
        }
        "connecttimeout" if hc.connect_timeout.is_none() => {
            hc.connect_timeout = first.parse().ok().map(Duration::from_secs);
        }
        "proxyjump" if hc.proxy_jump.is_none() => hc.proxy_jump = JumpHost::parse_list(&first),
        _ => {}
    }
}

fn yes_no(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}

/// Splits `Keyword value`, `Keyword=value` or `Keyword = value`; `None` for blanks and comments.
fn split_line(line: &str) -> Option<(String, String)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line.find(|c: char| c.is_whitespace() || c == '=').unwrap_or(line.len());
    let key = line[..end].to_ascii_lowercase();
    let rest = line[end..].trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim();
    Some((key, rest.to_string()))
}

/// Splits a value into words, honouring double quotes.
fn words(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in value.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut current));
                    any = false;
                }
            }
            c => {
                current.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(current);
    }
    out
}

/// The files an `Include` names: `~` expanded, relative paths under `~/.ssh`, and `*`/`?`
/// in the file name matched against the directory's entries.
fn include_paths(spec: &str) -> Vec<PathBuf> {
    let home = dirs::home_dir().unwrap_or_default();
    let path = if let Some(rest) = spec.strip_prefix("~/") {
        home.join(rest)
    } else if spec.starts_with('/') {
        PathBuf::from(spec)
    } else {
        home.join(".ssh").join(spec)
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if !name.contains(['*', '?']) {
        return vec![path];
    }
    let Some(dir) = path.parent() else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| glob_match(&name, &e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
# global before any Host
ConnectTimeout 7

Host web-* !web-bastion
    User deploy
    IdentityFile ~/.ssh/web_%h
    Port=2222

Host web-01
    User other
    HostName 10.0.0.1

Match host foo
    User matched

Host bastion
    HostName bastion.example.com
    ProxyJump none

Host *
    User fallback
    IdentityFile ~/.ssh/id_default
    UserKnownHostsFile "/etc/baton known" /tmp/kh2
    StrictHostKeyChecking accept-new
    ProxyJump ops@bastion:2200
"#;

    #[test]
    fn first_value_wins_and_identity_files_accumulate() {
        let c = SshConfig::parse(CONFIG);
        let web = c.query("web-01");
        assert_eq!(web.user.as_deref(), Some("deploy"));
        assert_eq!(web.hostname.as_deref(), Some("10.0.0.1"));
        assert_eq!(web.port, Some(2222));
        assert_eq!(web.connect_timeout, Some(Duration::from_secs(7)));
        assert_eq!(
            web.identity_files,
            vec![PathBuf::from("~/.ssh/web_%h"), PathBuf::from("~/.ssh/id_default")]
        );
        assert_eq!(web.known_hosts, vec![PathBuf::from("/etc/baton known"), PathBuf::from("/tmp/kh2")]);
        assert_eq!(web.host_key_policy, Some(HostKeyPolicy::AcceptNew));
        assert_eq!(web.proxy_jump.as_ref().unwrap()[0].host, "bastion");
    }

    #[test]
    fn negated_patterns_and_match_blocks_do_not_apply() {
        let c = SshConfig::parse(CONFIG);
        let b = c.query("web-bastion");
        assert_eq!(b.user.as_deref(), Some("fallback"));
        assert_eq!(b.port, None);
        let foo = c.query("foo");
        assert_eq!(foo.user.as_deref(), Some("fallback"));
        let bastion = c.query("bastion");
        assert_eq!(bastion.proxy_jump, Some(vec![]));
    }

    #[test]
    fn unknown_hosts_get_only_the_wildcard_block() {
        let c = SshConfig::parse("Host db\n User x\n");
        assert_eq!(c.query("web"), HostConfig::default());
    }

    #[test]
    fn words_honour_quotes() {
        assert_eq!(words(r#"a "b c" d"#), vec!["a", "b c", "d"]);
    }
}
