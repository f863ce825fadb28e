//! known_hosts files as OpenSSH writes them: plain and hashed (`|1|salt|hash`) host fields,
//! `[host]:port` names for ports other than 22, pattern lists with `!` negation, and the
//! `@revoked` / `@cert-authority` markers.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{KeyInit, Mac};
use russh::keys::ssh_key::{HashAlg, PublicKey};

use super::pattern::list_match;

/// Host-wide known_hosts file, read after the user's files (never written).
pub const GLOBAL_KNOWN_HOSTS: &str = "/etc/ssh/ssh_known_hosts";

#[derive(Debug, Clone)]
enum Hosts {
    Patterns(Vec<String>),
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
    CertAuthority,
}

#[derive(Debug, Clone)]
struct Entry {
    marker: Marker,
    hosts: Hosts,
    key: PublicKey,
}

/// What known_hosts says about a host's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Known,
    Unknown,
    /// A key of the same type is recorded and it is a different one.
    Mismatch {
        expected: String,
        path: PathBuf,
    },
    Revoked {
        path: PathBuf,
    },
}

/// The entries of one or more known_hosts files.
#[derive(Debug, Clone, Default)]
pub struct KnownHosts {
    entries: Vec<(Entry, PathBuf)>,
}

impl KnownHosts {
    /// Reads every file that exists; unreadable lines are skipped as OpenSSH does.
    pub fn load(paths: &[PathBuf]) -> KnownHosts {
        let mut kh = KnownHosts::default();
        for path in paths {
            if let Ok(text) = std::fs::read_to_string(path) {
                kh.add_text(&text, path);
            }
        }
        kh
    }

    pub fn add_text(&mut self, text: &str, path: &Path) {
        for line in text.lines() {
            if let Some(entry) = parse_line(line) {
                self.entries.push((entry, path.to_path_buf()));
            }
        }
    }

    /// Checks `key` presented by the host known as `name` (see [`lookup_name`]).
    pub fn check(&self, name: &str, key: &PublicKey) -> Verdict {
        let mut mismatch = None;
        let mut known = false;
        for (entry, path) in &self.entries {
            if entry.marker == Marker::CertAuthority || !host_matches(&entry.hosts, name) {
                continue;
            }
            let same_key = entry.key.key_data() == key.key_data();
            if entry.marker == Marker::Revoked {
                if same_key {
                    return Verdict::Revoked { path: path.clone() };
                }
                continue;
            }
            if same_key {
                known = true;
            } else if entry.key.algorithm() == key.algorithm() && mismatch.is_none() {
                mismatch = Some(Verdict::Mismatch { expected: fingerprint(&entry.key), path: path.clone() });
            }
        }
        if known { Verdict::Known } else { mismatch.unwrap_or(Verdict::Unknown) }
    }

    /// Key algorithms recorded for `name`, so key exchange can ask for one of those first
    /// (as OpenSSH orders its host key algorithms).
    pub fn algorithms_for(&self, name: &str) -> Vec<russh::keys::Algorithm> {
        let mut out = Vec::new();
        for (entry, _) in &self.entries {
            if entry.marker == Marker::None && host_matches(&entry.hosts, name) {
                let alg = entry.key.algorithm();
                if !out.contains(&alg) {
                    out.push(alg);
                }
            }
        }
        out
    }
}

/// The name a host is recorded under: `host` on port 22, `[host]:port` otherwise.
pub fn lookup_name(host: &str, port: u16) -> String {
    if port == 22 { host.to_string() } else { format!("[{host}]:{port}") }
}

/// `SHA256:...`, as OpenSSH prints fingerprints.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The key's type as known_hosts spells it (`ssh-ed25519`, `ecdsa-sha2-nistp256`, ...).
pub fn key_type(key: &PublicKey) -> String {
    key.algorithm().as_str().to_string()
}

static APPEND_LOCK: Mutex<()> = Mutex::new(());

/// Records `key` for `name` at the end of `path` (AcceptNew), unless a concurrent connection
/// recorded it first.
pub fn append(path: &Path, name: &str, key: &PublicKey) -> std::io::Result<()> {
    let _guard = APPEND_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if KnownHosts::load(&[path.to_path_buf()]).check(name, key) == Verdict::Known {
        return Ok(());
    }
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
        && !dir.exists()
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    }
    let blob = key.to_bytes().map_err(|e| std::io::Error::other(e.to_string()))?;
    let line = format!("{name} {} {}\n", key_type(key), B64.encode(blob));
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(line.as_bytes())
}

fn host_matches(hosts: &Hosts, name: &str) -> bool {
    match hosts {
        Hosts::Patterns(p) => list_match(p.iter().map(String::as_str), name),
        Hosts::Hashed { salt, hash } => {
            let Ok(mut mac) = hmac::Hmac::<sha1::Sha1>::new_from_slice(salt) else {
                return false;
            };
            mac.update(name.as_bytes());
            mac.verify_slice(hash).is_ok()
        }
    }
}

fn parse_line(line: &str) -> Option<Entry> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut fields = line.split_whitespace();
    let mut first = fields.next()?;
    let marker = match first {
        "@revoked" => Marker::Revoked,
        "@cert-authority" => Marker::CertAuthority,
        m if m.starts_with('@') => return None,
        _ => Marker::None,
    };
    if marker != Marker::None {
        first = fields.next()?;
    }
    let hosts = if let Some(hashed) = first.strip_prefix("|1|") {
        let (salt, hash) = hashed.split_once('|')?;
        Hosts::Hashed { salt: B64.decode(salt).ok()?, hash: B64.decode(hash).ok()? }
    } else {
        Hosts::Patterns(first.split(',').map(str::to_string).collect())
    };
    let key_type = fields.next()?;
    let blob = fields.next()?;
    let key = PublicKey::from_openssh(&format!("{key_type} {blob}")).ok()?;
    Some(Entry { marker, hosts, key })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED_A: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGrmsFsQ9xnABqLiaBJHR8ers34SNDq9wmxFoXlsgF3R";
    const ED_B: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPxVXYGM6r56dWqjBHylmYohJps1eW9f2fNQ5W68t1GY";

    fn key(s: &str) -> PublicKey {
        PublicKey::from_openssh(s).unwrap()
    }

    fn hashed(name: &str, salt: &[u8]) -> String {
        let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(salt).unwrap();
        mac.update(name.as_bytes());
        format!("|1|{}|{}", B64.encode(salt), B64.encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn plain_entries_and_ports() {
        let mut kh = KnownHosts::default();
        kh.add_text(&format!("web1,10.0.0.1 {ED_A}\n[10.0.0.2]:2222 {ED_A} comment\n"), Path::new("kh"));
        assert_eq!(kh.check("web1", &key(ED_A)), Verdict::Known);
        assert_eq!(kh.check("10.0.0.1", &key(ED_A)), Verdict::Known);
        assert_eq!(kh.check(&lookup_name("10.0.0.2", 2222), &key(ED_A)), Verdict::Known);
        assert_eq!(kh.check("10.0.0.2", &key(ED_A)), Verdict::Unknown);
        match kh.check("web1", &key(ED_B)) {
            Verdict::Mismatch { expected, .. } => assert_eq!(expected, fingerprint(&key(ED_A))),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn hashed_entries() {
        let mut kh = KnownHosts::default();
        let line = format!("{} {ED_A}\n", hashed("[127.0.0.1]:2200", b"0123456789abcdefghij"));
        kh.add_text(&line, Path::new("kh"));
        assert_eq!(kh.check("[127.0.0.1]:2200", &key(ED_A)), Verdict::Known);
        assert_eq!(kh.check("127.0.0.1", &key(ED_A)), Verdict::Unknown);
    }

    #[test]
    fn markers_and_negation() {
        let mut kh = KnownHosts::default();
        kh.add_text(
            &format!(
                "@cert-authority *.example.com {ED_B}\n@revoked * {ED_B}\n*.example.com,!bad.example.com {ED_A}\n#c\n\ngarbage\n"
            ),
            Path::new("kh"),
        );
        assert_eq!(kh.check("a.example.com", &key(ED_A)), Verdict::Known);
        assert_eq!(kh.check("bad.example.com", &key(ED_A)), Verdict::Unknown);
        assert!(matches!(kh.check("a.example.com", &key(ED_B)), Verdict::Revoked { .. }));
        assert_eq!(kh.algorithms_for("a.example.com").len(), 1);
    }

    #[test]
    fn fingerprints_look_like_openssh() {
        assert!(fingerprint(&key(ED_A)).starts_with("SHA256:"));
        assert_eq!(key_type(&key(ED_A)), "ssh-ed25519");
    }

    #[test]
    fn append_records_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/known_hosts");
        append(&path, "[h]:2200", &key(ED_A)).unwrap();
        append(&path, "[h]:2200", &key(ED_A)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.starts_with("[h]:2200 ssh-ed25519 AAAA"));
    }
}
