//! Helpers shared by the connection tests (included with `#[path]`): a throwaway OpenSSH server
//! on 127.0.0.1 with generated host and client keys, and an atomicity checker for uploads.
//!
//! Until the lab harness (`baton::lab::Fleet`) is ready this is self-contained: it needs root
//! and `/usr/sbin/sshd`, and tests print `SKIPPED: ...` and return when either is missing.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use baton::connection::ssh::{HostKeyPolicy, SshConfigFile, SshOptions};

pub const SSHD: &str = "/usr/sbin/sshd";

/// True when the tests can start sshd and create users; otherwise says so loudly.
pub fn can_run(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        eprintln!("SKIPPED: {test}: needs root to run sshd and create test users");
        return false;
    }
    if !Path::new(SSHD).exists() {
        eprintln!("SKIPPED: {test}: {SSHD} is not installed");
        return false;
    }
    true
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

pub fn keygen(kind: &str, path: &Path) {
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-q", "-t", kind, "-N", "", "-C", "baton-test", "-f"]).arg(path);
    if kind == "rsa" {
        cmd.args(["-b", "2048"]);
    }
    run(&mut cmd);
}

/// `SHA256:...` of a public key file, from ssh-keygen itself.
pub fn fingerprint(pub_path: &Path) -> String {
    let out = Command::new("ssh-keygen").arg("-lf").arg(pub_path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().nth(1).unwrap().to_string()
}

/// An sshd on 127.0.0.1:port, killed on drop.
pub struct Sshd {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// `ssh-ed25519 AAAA...` of the host key.
    pub host_key: String,
    pub host_pub: PathBuf,
    /// Client keys in authorized_keys: ed25519, rsa, ecdsa.
    pub client_key: PathBuf,
    pub rsa_key: PathBuf,
    pub ecdsa_key: PathBuf,
    /// A key that is NOT authorized.
    pub stranger_key: PathBuf,
    /// known_hosts with this server's key under `[127.0.0.1]:port`.
    pub known_hosts: PathBuf,
}

impl Sshd {
    pub fn start() -> Sshd {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_path_buf();
        // Other users (the sudo test users) must reach authorized_keys.
        run(Command::new("chmod").arg("755").arg(&d));
        keygen("ed25519", &d.join("host"));
        keygen("ed25519", &d.join("client"));
        keygen("rsa", &d.join("client_rsa"));
        keygen("ecdsa", &d.join("client_ecdsa"));
        keygen("ed25519", &d.join("stranger"));
        let mut authorized = String::new();
        for k in ["client", "client_rsa", "client_ecdsa"] {
            authorized.push_str(&std::fs::read_to_string(d.join(format!("{k}.pub"))).unwrap());
        }
        std::fs::write(d.join("authorized_keys"), authorized).unwrap();
        run(Command::new("chmod").arg("644").arg(d.join("authorized_keys")));
        let _ = std::fs::create_dir_all("/run/sshd");

        let port = free_port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host\nPidFile none\n\
             AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n\
             PermitRootLogin yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             Subsystem sftp internal-sftp\nLogLevel ERROR\nMaxSessions 64\nMaxStartups 64\n\
             AllowTcpForwarding yes\n",
            d = d.display()
        );
        std::fs::write(d.join("sshd_config"), config).unwrap();
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        // Wait for the listening socket without connecting (a probe connection makes sshd log
        // "Connection closed" noise).
        while !listening(port) {
            assert!(Instant::now() < deadline, "sshd did not start on port {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        let host_key = std::fs::read_to_string(d.join("host.pub")).unwrap();
        let host_key = host_key.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        let known_hosts = d.join("known_hosts");
        std::fs::write(&known_hosts, format!("[127.0.0.1]:{port} {host_key}\n")).unwrap();
        Sshd {
            child,
            port,
            host_pub: d.join("host.pub"),
            client_key: d.join("client"),
            rsa_key: d.join("client_rsa"),
            ecdsa_key: d.join("client_ecdsa"),
            stranger_key: d.join("stranger"),
            known_hosts,
            host_key,
            dir,
        }
    }

    /// Options for logging in as `user` with the ed25519 client key, strict host key checking
    /// against this server's known_hosts, and no ssh_config or agent from the machine.
    pub fn options(&self, user: &str) -> SshOptions {
        let mut o = SshOptions::new("127.0.0.1");
        o.port = Some(self.port);
        o.user = Some(user.into());
        o.identity_files = vec![self.client_key.clone()];
        o.identities_only = Some(true);
        o.known_hosts = vec![self.known_hosts.clone()];
        o.host_key_policy = Some(HostKeyPolicy::Strict);
        o.use_agent = Some(false);
        o.ssh_config = SshConfigFile::None;
        o
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the per-connection sshd processes (children of the listener), leaving the
    /// listener up: every open session dies.
    pub fn kill_sessions(&self) {
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // Field 4 (after the parenthesised name) is the parent pid.
            let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
            let ppid: u32 = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
            if ppid == self.pid() {
                // SAFETY: kill(2) with a pid we just read; worst case it is gone already.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.kill_sessions();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether something listens on 127.0.0.1:`port`, from /proc/net/tcp.
fn listening(port: u16) -> bool {
    let wanted = format!("0100007F:{port:04X}");
    std::fs::read_to_string("/proc/net/tcp")
        .map(|t| {
            t.lines().any(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() > 3 && f[1] == wanted && f[3] == "0A"
            })
        })
        .unwrap_or(false)
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Reads `path` in a loop on another thread until stopped; every read must be one of the
/// `allowed` whole contents (or the file may be absent before the first upload). Returns how
/// many reads it made.
pub struct AtomicChecker {
    stop: Arc<AtomicBool>,
    reads: Arc<AtomicUsize>,
    handle: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl AtomicChecker {
    pub fn start(path: PathBuf, allowed: Vec<(u8, usize)>) -> AtomicChecker {
        let stop = Arc::new(AtomicBool::new(false));
        let reads = Arc::new(AtomicUsize::new(0));
        let (s, r) = (stop.clone(), reads.clone());
        let handle = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let Ok(bytes) = std::fs::read(&path) else {
                    continue;
                };
                r.fetch_add(1, Ordering::Relaxed);
                let ok = allowed.iter().any(|&(b, len)| bytes.len() == len && bytes.iter().all(|&x| x == b));
                if !ok {
                    return Err(format!(
                        "saw a partial file: {} bytes, first {:?}, last {:?}",
                        bytes.len(),
                        bytes.first(),
                        bytes.last()
                    ));
                }
            }
            Ok(())
        });
        AtomicChecker { stop, reads, handle: Some(handle) }
    }

    pub fn finish(mut self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        let result = self.handle.take().unwrap().join().unwrap();
        result.unwrap();
        self.reads.load(Ordering::Relaxed)
    }
}

/// Writes `len` copies of `byte` to a new file in `dir`.
pub fn filled_file(dir: &Path, name: &str, byte: u8, len: usize) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, vec![byte; len]).unwrap();
    path
}

pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}
