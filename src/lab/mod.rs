//! A fleet of real OpenSSH hosts on this machine, for tests, benchmarks and trying Baton out.
//!
//! As root, each host is a network namespace with its own address on a private bridge
//! (10.213.N.0/24, never routed off the machine), its own hostname (UTS namespace) and its
//! own filesystem: an overlay of a shared base layer and the machine's `/`, with a private
//! upper directory on a tmpfs, so a file one host writes is invisible to the others. Debian's
//! `sshd` runs chrooted into that overlay. Users: `root`, `deploy` (passwordless sudo) and
//! `op` (sudo with the password [`OP_PASSWORD`]), all accepting the lab's client key.
//!
//! Without root, hosts are `sshd`s on 127.0.0.1 ports running as the current user, each with
//! a directory of its own ([`LabHost::root`]); they share the machine's filesystem and
//! hostname, so tests that need more check [`Lab::mode`] and skip loudly.
//!
//! ```no_run
//! use baton::lab::{Lab, LabOptions};
//! let mut lab = Lab::start(LabOptions { hosts: 3, ..Default::default() })?;
//! println!("baton run all -i {}", lab.inventory_path().display());
//! let out = lab.exec(0, "cat /etc/hostname")?;   // as root inside host01, without SSH
//! lab.kill(1)?;                                   // host02 refuses connections
//! lab.revive(1)?;                                 // and is back, with its files
//! # Ok::<(), baton::lab::LabError>(())
//! ```
//!
//! Dropping the [`Lab`] stops every process it started and removes its namespaces, veths,
//! bridge and tmpfs, also when a test panics; a lab whose owner died is swept by the next
//! one that starts.

mod error;
mod host;
mod rootfs;
mod run;

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub use error::LabError;
pub use host::{Fault, LabHost};
pub use rootfs::{DEPLOY_UID, OP_PASSWORD, OP_UID};

use error::io;
use run::{alive, have, ip, ip_quiet, is_root, run};

/// Where labs keep their state; each lab is a numbered tmpfs under it.
const STATE: &str = "/run/baton-lab";
/// Loopback labs (no root) keep theirs in the temp dir.
const SSHD: &str = "/usr/sbin/sshd";

/// How the hosts are isolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabMode {
    /// Network, mount and UTS namespaces (root).
    Namespaces,
    /// sshd on 127.0.0.1 ports as the current user (no root).
    Loopback,
}

#[derive(Debug, Clone)]
pub struct LabOptions {
    pub hosts: usize,
    /// Force loopback mode even as root.
    pub loopback: bool,
    /// How long one host may take to answer on port 22.
    pub start_timeout: Duration,
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions { hosts: 3, loopback: false, start_timeout: Duration::from_secs(20) }
    }
}

/// A running fleet. Dropping it tears everything down.
#[derive(Debug)]
pub struct Lab {
    id: u32,
    mode: LabMode,
    dir: PathBuf,
    bridge: String,
    hosts: Vec<LabHost>,
    started_in: Duration,
}

fn hostname(i: usize) -> String {
    format!("host{:02}", i + 1)
}

impl Lab {
    /// Why a lab cannot start here, if it cannot (for tests to print before skipping).
    pub fn unavailable() -> Option<String> {
        for tool in [SSHD, "ssh-keygen"] {
            if !have(tool) {
                return Some(format!(
                    "`{tool}` is not installed (apt-get install openssh-server openssh-client)"
                ));
            }
        }
        if is_root() {
            for tool in ["ip", "unshare", "nsenter", "openssl"] {
                if !have(tool) {
                    return Some(format!("`{tool}` is not installed"));
                }
            }
        }
        None
    }

    /// Starts a lab of `opts.hosts` hosts.
    pub fn start(opts: LabOptions) -> Result<Lab, LabError> {
        if let Some(why) = Lab::unavailable() {
            return Err(LabError::Missing(why));
        }
        let mode = if is_root() && !opts.loopback { LabMode::Namespaces } else { LabMode::Loopback };
        let started = Instant::now();
        let mut lab = match mode {
            LabMode::Namespaces => Lab::start_namespaced(&opts)?,
            LabMode::Loopback => Lab::start_loopback(&opts)?,
        };
        lab.started_in = started.elapsed();
        Ok(lab)
    }

    fn start_namespaced(opts: &LabOptions) -> Result<Lab, LabError> {
        std::fs::create_dir_all(STATE).map_err(io(format!("create {STATE}")))?;
        let (id, dir) = {
            // Sweeping and claiming under one lock: otherwise a thread still sweeping a dead
            // lab's number deletes the bridge another thread has just made under that number.
            let _lock = StateLock::take()?;
            sweep();
            claim_slot()?
        };
        let bridge = format!("btl{id}");
        let mut lab = Lab {
            id,
            mode: LabMode::Namespaces,
            dir: dir.clone(),
            bridge: bridge.clone(),
            hosts: Vec::new(),
            started_in: Duration::ZERO,
        };
        // From here on, Drop cleans up whatever was made.
        run(Command::new("mount").args(["-t", "tmpfs", "-o", "mode=700", "tmpfs"]).arg(&dir))?;
        std::fs::write(dir.join("owner"), std::process::id().to_string())
            .map_err(io("write the lab owner"))?;
        let subnet = |host: u8| Ipv4Addr::new(10, 213, id as u8, host);
        ip(&["link", "add", &bridge, "type", "bridge"])?;
        ip(&["addr", "add", &format!("{}/24", subnet(1)), "dev", &bridge])?;
        ip(&["link", "set", &bridge, "up"])?;
        // Packets for the lab range never leave the machine, even when a bridge is gone.
        ip_quiet(&["route", "add", "unreachable", "10.213.0.0/16", "metric", "4000"]);

        let client_pub = rootfs::keygen(&dir.join("client_key"), "baton-lab-client")?;
        let base = dir.join("base");
        rootfs::build_base(&base, &client_pub)?;
        let n = opts.hosts.clamp(1, 250);
        let mut hosts_file = String::from("127.0.0.1 localhost\n");
        for i in 0..n {
            let _ = writeln!(hosts_file, "{} {}", subnet(i as u8 + 2), hostname(i));
        }
        for i in 0..n {
            let name = hostname(i);
            let hdir = dir.join("hosts").join(&name);
            lab.hosts.push(LabHost {
                name: name.clone(),
                addr: subnet(i as u8 + 2),
                port: 22,
                root: hdir.join("root"),
                netns: format!("btl{id}-{name}"),
                veth: format!("btl{id}h{}", i + 1),
                upper: hdir.join("upper"),
                work: hdir.join("work"),
                log: hdir.join("sshd.log"),
                child: None,
                fault: None,
            });
        }
        // Hosts are set up in parallel: `ip`, `ssh-keygen` and sshd's start dominate.
        let known: Vec<Result<String, LabError>> = std::thread::scope(|s| {
            let handles: Vec<_> = lab
                .hosts
                .iter_mut()
                .map(|h| {
                    let (bridge, base, hosts_file) = (&bridge, &base, &hosts_file);
                    s.spawn(move || -> Result<String, LabError> {
                        for d in [&h.root, &h.upper, &h.work] {
                            std::fs::create_dir_all(d).map_err(io(format!("create {}", d.display())))?;
                        }
                        let key = rootfs::keygen(&h.upper.join("etc/ssh/lab_host_key"), &h.name)?;
                        rootfs::prepare_upper(&h.upper, &h.name, hosts_file)?;
                        h.create_network(bridge, 24)?;
                        h.start_namespaced(base)?;
                        let mut parts = key.split_whitespace();
                        Ok(format!(
                            "{} {} {}",
                            h.addr,
                            parts.next().unwrap_or_default(),
                            parts.next().unwrap_or_default()
                        ))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|j| {
                    j.join().unwrap_or_else(|_| {
                        Err(LabError::HostStart { host: "?".into(), message: "setup thread panicked".into() })
                    })
                })
                .collect()
        });
        let mut known_hosts = String::new();
        for line in known {
            let _ = writeln!(known_hosts, "{}", line?);
        }
        std::fs::write(dir.join("known_hosts"), known_hosts).map_err(io("write known_hosts"))?;
        for h in &mut lab.hosts {
            h.wait_ready(opts.start_timeout)?;
        }
        lab.write_inventory("root", "-o IdentitiesOnly=yes")?;
        Ok(lab)
    }

    fn start_loopback(opts: &LabOptions) -> Result<Lab, LabError> {
        let tmp = std::env::temp_dir().join(format!("baton-lab-{}-{}", std::process::id(), next_local_id()));
        std::fs::create_dir_all(&tmp).map_err(io(format!("create {}", tmp.display())))?;
        let mut lab = Lab {
            id: 0,
            mode: LabMode::Loopback,
            dir: tmp.clone(),
            bridge: String::new(),
            hosts: Vec::new(),
            started_in: Duration::ZERO,
        };
        let client_pub = rootfs::keygen(&tmp.join("client_key"), "baton-lab-client")?;
        let auth = tmp.join("authorized_keys");
        std::fs::write(&auth, &client_pub).map_err(io("write authorized_keys"))?;
        let mut known_hosts = String::new();
        for i in 0..opts.hosts.clamp(1, 250) {
            let name = hostname(i);
            let hdir = tmp.join("hosts").join(&name);
            let root = hdir.join("root");
            std::fs::create_dir_all(&root).map_err(io(format!("create {}", root.display())))?;
            let port = free_port()?;
            let key = rootfs::keygen(&hdir.join("host_key"), &name)?;
            let config = hdir.join("sshd_config");
            let text = rootfs::sshd_config(
                &format!("127.0.0.1:{port}"),
                &hdir.join("host_key").display().to_string(),
                &auth.display().to_string(),
                &format!("SetEnv BATON_LAB_ROOT={}\n", root.display()),
            );
            std::fs::write(&config, text).map_err(io("write sshd_config"))?;
            let mut parts = key.split_whitespace();
            let _ = writeln!(
                known_hosts,
                "[127.0.0.1]:{port} {} {}",
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default()
            );
            let mut h = LabHost {
                name,
                addr: Ipv4Addr::LOCALHOST,
                port,
                root,
                netns: String::new(),
                veth: String::new(),
                upper: PathBuf::new(),
                work: PathBuf::new(),
                log: hdir.join("sshd.log"),
                child: None,
                fault: None,
            };
            h.start_loopback(&config)?;
            lab.hosts.push(h);
        }
        std::fs::write(tmp.join("known_hosts"), known_hosts).map_err(io("write known_hosts"))?;
        for h in &mut lab.hosts {
            h.wait_ready(opts.start_timeout)?;
        }
        let user = crate::connection::ssh::options::local_user();
        lab.write_inventory(&user, "-o IdentitiesOnly=yes")?;
        Ok(lab)
    }

    /// An INI inventory of the hosts (group `fleet`) that Baton and Ansible both read.
    fn write_inventory(&self, user: &str, extra_args: &str) -> Result<(), LabError> {
        let mut text = String::from("# Written by the Baton lab; removed with it.\n[fleet]\n");
        for h in &self.hosts {
            let _ = writeln!(text, "{} ansible_host={} ansible_port={}", h.name, h.addr, h.port);
        }
        let _ = write!(
            text,
            "\n[fleet:vars]\nansible_user={user}\nansible_ssh_private_key_file={key}\n\
             ansible_ssh_common_args='-o UserKnownHostsFile={kh} -o StrictHostKeyChecking=yes {extra_args}'\n\
             ansible_python_interpreter=/usr/bin/python3\n",
            key = self.client_key().display(),
            kh = self.known_hosts().display(),
        );
        std::fs::write(self.inventory_path(), text).map_err(io("write the lab inventory"))
    }

    pub fn mode(&self) -> LabMode {
        self.mode
    }

    pub fn hosts(&self) -> &[LabHost] {
        &self.hosts
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn inventory_path(&self) -> PathBuf {
        self.dir.join("inventory.ini")
    }

    pub fn known_hosts(&self) -> PathBuf {
        self.dir.join("known_hosts")
    }

    pub fn client_key(&self) -> PathBuf {
        self.dir.join("client_key")
    }

    /// How long starting took.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    fn host(&self, i: usize) -> Result<&LabHost, LabError> {
        self.hosts.get(i).ok_or(LabError::NoHost(i))
    }

    fn host_mut(&mut self, i: usize) -> Result<&mut LabHost, LabError> {
        self.hosts.get_mut(i).ok_or(LabError::NoHost(i))
    }

    /// Runs a shell command as root inside host `i` (its namespaces and root), without SSH.
    /// In loopback mode it runs on the machine, in the host's directory.
    pub fn exec(&self, i: usize, cmd: &str) -> Result<Output, LabError> {
        let h = self.host(i)?;
        let mut command = match self.mode {
            LabMode::Namespaces => {
                let pid = h.pid().filter(|p| alive(*p)).ok_or_else(|| LabError::HostDown(h.name.clone()))?;
                let mut c = Command::new("nsenter");
                c.args(["-t", &pid.to_string(), "-m", "-u", "-n", "-r", "-w", "--", "/bin/sh", "-c", cmd]);
                c
            }
            LabMode::Loopback => {
                let mut c = Command::new("/bin/sh");
                c.args(["-c", cmd]).current_dir(&h.root);
                c
            }
        };
        command.output().map_err(io(format!("run `{cmd}` on {}", h.name)))
    }

    /// A file of host `i`, read from the controller's side.
    pub fn read_file(&self, i: usize, path: &str) -> Result<Vec<u8>, LabError> {
        let p = self.host_path(i, path)?;
        std::fs::read(&p).map_err(io(format!("read {}", p.display())))
    }

    /// Writes a file on host `i` from the controller's side.
    pub fn write_file(&self, i: usize, path: &str, bytes: &[u8]) -> Result<(), LabError> {
        let p = self.host_path(i, path)?;
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).map_err(io(format!("create {}", d.display())))?;
        }
        std::fs::write(&p, bytes).map_err(io(format!("write {}", p.display())))
    }

    /// Where a host path is, seen from the controller: inside the host's mounted overlay
    /// (namespaces; through `/proc/PID/root`, since the overlay is mounted in the host's own
    /// mount namespace) or its directory (loopback).
    pub fn host_path(&self, i: usize, path: &str) -> Result<PathBuf, LabError> {
        let h = self.host(i)?;
        let rel = path.trim_start_matches('/');
        match self.mode {
            LabMode::Namespaces => {
                let pid = h.pid().filter(|p| alive(*p)).ok_or_else(|| LabError::HostDown(h.name.clone()))?;
                Ok(PathBuf::from(format!("/proc/{pid}/root")).join(rel))
            }
            LabMode::Loopback => Ok(h.root.join(rel)),
        }
    }

    /// The host crashes: sshd and every session end; connections are refused.
    pub fn kill(&mut self, i: usize) -> Result<(), LabError> {
        let h = self.host_mut(i)?;
        h.kill_all();
        h.fault = Some(Fault::Killed);
        Ok(())
    }

    /// The host's network is cut: packets to it go nowhere, connects hang until timeout.
    pub fn cut(&mut self, i: usize) -> Result<(), LabError> {
        if self.mode == LabMode::Loopback {
            // No network of its own: freezing is the closest a loopback host gets.
            return self.freeze(i);
        }
        let h = self.host_mut(i)?;
        h.link(false)?;
        h.fault = Some(Fault::Cut);
        Ok(())
    }

    /// The host stops answering mid-command (every process SIGSTOPped).
    pub fn freeze(&mut self, i: usize) -> Result<(), LabError> {
        let h = self.host_mut(i)?;
        h.freeze(true);
        h.fault = Some(Fault::Frozen);
        Ok(())
    }

    /// Undoes a fault; a killed host starts again with the files it had, like after a reboot.
    pub fn revive(&mut self, i: usize) -> Result<(), LabError> {
        let mode = self.mode;
        let base = self.dir.join("base");
        let dir = self.dir.clone();
        let h = self.host_mut(i)?;
        match h.fault.take() {
            None => {}
            Some(Fault::Cut) => h.link(true)?,
            Some(Fault::Frozen) => h.freeze(false),
            Some(Fault::Killed) => {
                match mode {
                    LabMode::Namespaces => h.start_namespaced(&base)?,
                    LabMode::Loopback => {
                        h.start_loopback(&dir.join("hosts").join(&h.name).join("sshd_config"))?
                    }
                }
                h.wait_ready(Duration::from_secs(20))?;
            }
        }
        Ok(())
    }

    fn teardown(&mut self) {
        for h in &mut self.hosts {
            h.kill_all();
            if self.mode == LabMode::Namespaces {
                h.destroy_network();
            }
        }
        match self.mode {
            LabMode::Namespaces => {
                ip_quiet(&["link", "del", &self.bridge]);
                let _ = Command::new("umount").arg("-l").arg(&self.dir).output();
                let _ = std::fs::remove_dir(&self.dir);
            }
            LabMode::Loopback => {
                let _ = std::fs::remove_dir_all(&self.dir);
            }
        }
        let _ = self.id;
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.teardown();
    }
}

fn next_local_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
}

fn free_port() -> Result<u16, LabError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(io("find a free port"))?;
    l.local_addr().map(|a| a.port()).map_err(io("find a free port"))
}

/// An exclusive `flock` on the labs' state directory, held while labs are swept and claimed.
/// Each `take` opens its own file description, so it excludes other threads as well as
/// other processes; the kernel releases it when the file is closed or its owner dies.
struct StateLock(#[allow(dead_code)] std::fs::File);

impl StateLock {
    fn take() -> Result<StateLock, LabError> {
        use std::os::fd::AsRawFd;
        let path = PathBuf::from(STATE).join(".lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(format!("open {}", path.display())))?;
        // SAFETY: flock on a descriptor this function owns; no memory is involved.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io(format!("lock {}", path.display()))(std::io::Error::last_os_error()));
        }
        Ok(StateLock(file))
    }
}

/// Claims the lowest free lab number (1..=250) by creating its directory.
fn claim_slot() -> Result<(u32, PathBuf), LabError> {
    for id in 1..=250u32 {
        let dir = PathBuf::from(STATE).join(id.to_string());
        if std::fs::create_dir(&dir).is_ok() {
            return Ok((id, dir));
        }
    }
    Err(LabError::NoSlot)
}

/// Removes labs whose owning process is gone (a test run that was killed).
fn sweep() {
    let Ok(entries) = std::fs::read_dir(STATE) else { return };
    for e in entries.flatten() {
        let Some(id) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let owner =
            std::fs::read_to_string(e.path().join("owner")).ok().and_then(|s| s.trim().parse::<i32>().ok());
        if owner.is_some_and(alive) {
            continue;
        }
        if owner.is_none() {
            // Being set up right now by another process, or a crash before the owner file:
            // only sweep it when it is old.
            let fresh = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age < Duration::from_secs(60));
            if fresh {
                continue;
            }
        }
        // Processes chrooted into this lab's hosts.
        let prefix = e.path();
        if let Ok(procs) = std::fs::read_dir("/proc") {
            for p in procs.flatten() {
                let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
                if std::fs::read_link(p.path().join("root")).is_ok_and(|r| r.starts_with(&prefix)) {
                    run::signal(pid, libc::SIGCONT);
                    run::signal(pid, libc::SIGKILL);
                }
            }
        }
        if let Ok(out) = Command::new("ip").args(["netns", "list"]).output() {
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                let ns = line.split_whitespace().next().unwrap_or_default();
                if ns.starts_with(&format!("btl{id}-")) {
                    ip_quiet(&["netns", "del", ns]);
                }
            }
        }
        ip_quiet(&["link", "del", &format!("btl{id}")]);
        let _ = Command::new("umount").arg("-l").arg(e.path()).output();
        let _ = std::fs::remove_dir_all(e.path());
    }
}
