//! One lab host: its network namespace and veth, its sshd (chrooted into the host's overlay
//! inside its own mount and UTS namespaces), and the faults a test can inject.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::error::{LabError, io};
use super::run::{alive, ip, ip_quiet, signal};

/// What a test can do to a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Killed,
    Cut,
    Frozen,
}

/// A host of the lab.
#[derive(Debug)]
pub struct LabHost {
    /// `host01`, `host02`, ...
    pub name: String,
    pub addr: Ipv4Addr,
    pub port: u16,
    /// The host's `/` as the controller sees it (namespaces: its overlay; loopback: its dir).
    pub root: PathBuf,
    pub(crate) netns: String,
    pub(crate) veth: String,
    pub(crate) upper: PathBuf,
    pub(crate) work: PathBuf,
    pub(crate) log: PathBuf,
    pub(crate) child: Option<Child>,
    pub(crate) fault: Option<Fault>,
}

impl LabHost {
    pub fn socket(&self) -> SocketAddr {
        SocketAddr::from((self.addr, self.port))
    }

    /// The sshd's pid (the root of the host's processes), when it runs.
    pub fn pid(&self) -> Option<i32> {
        self.child.as_ref().map(|c| c.id() as i32)
    }

    /// Creates the namespace and its veth on `bridge` with the host's address.
    pub(crate) fn create_network(&self, bridge: &str, prefix_len: u8) -> Result<(), LabError> {
        let peer = format!("{}p", self.veth);
        ip(&["netns", "add", &self.netns])?;
        ip(&["link", "add", &self.veth, "type", "veth", "peer", "name", &peer])?;
        ip(&["link", "set", &peer, "netns", &self.netns])?;
        ip(&["link", "set", &self.veth, "master", bridge, "up"])?;
        let ns = ["-n", self.netns.as_str()];
        ip(&[&ns[..], &["link", "set", &peer, "name", "eth0"]].concat())?;
        let cidr = format!("{}/{prefix_len}", self.addr);
        ip(&[&ns[..], &["addr", "add", &cidr, "dev", "eth0"]].concat())?;
        ip(&[&ns[..], &["link", "set", "eth0", "up"]].concat())?;
        ip(&[&ns[..], &["link", "set", "lo", "up"]].concat())?;
        Ok(())
    }

    /// Starts sshd in the host's namespaces, over its overlay (`base` above the machine's `/`).
    pub(crate) fn start_namespaced(&mut self, base: &std::path::Path) -> Result<(), LabError> {
        let r = self.root.display().to_string();
        let script = format!(
            "set -e; mount -t overlay overlay -o lowerdir={base}:/,upperdir={upper},workdir={work} {r}; \
             mount --rbind /dev {r}/dev; mount -t proc proc {r}/proc; mount -t sysfs sysfs {r}/sys; \
             mount -t tmpfs -o mode=1777 tmpfs {r}/tmp; mount -t tmpfs -o mode=755 tmpfs {r}/run; \
             mkdir -p {r}/run/sshd {r}/run/lock; ln -s /run/lock {r}/var/lock 2>/dev/null || true; \
             hostname {name}; exec chroot {r} /usr/sbin/sshd -D -e -f /etc/ssh/sshd_lab_config",
            base = base.display(),
            upper = self.upper.display(),
            work = self.work.display(),
            name = self.name,
        );
        let mut command = Command::new("ip");
        command
            .args([
                "netns",
                "exec",
                &self.netns,
                "unshare",
                "--mount",
                "--uts",
                "--propagation",
                "private",
                "--",
                "sh",
                "-c",
            ])
            .arg(script);
        self.spawn_logged(command)
    }

    /// Starts the host's sshd with its output in the host's log, and records the process.
    fn spawn_logged(&mut self, mut command: Command) -> Result<(), LabError> {
        let log = std::fs::File::create(&self.log).map_err(io(format!("create {}", self.log.display())))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(io("clone a log handle"))?)
            .stderr(log)
            .spawn()
            .map_err(io(format!("start {}", self.name)))?;
        self.child = Some(child);
        Ok(())
    }

    /// Starts sshd as the current user on 127.0.0.1 (no root: no namespaces).
    pub(crate) fn start_loopback(&mut self, config: &std::path::Path) -> Result<(), LabError> {
        let mut command = Command::new("/usr/sbin/sshd");
        command.args(["-D", "-e", "-f"]).arg(config);
        self.spawn_logged(command)
    }

    /// Waits until sshd accepts connections.
    pub(crate) fn wait_ready(&mut self, limit: Duration) -> Result<(), LabError> {
        let started = Instant::now();
        loop {
            if TcpStream::connect_timeout(&self.socket(), Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                return Err(LabError::HostStart {
                    host: self.name.clone(),
                    message: format!("sshd exited ({status}): {}", log.trim()),
                });
            }
            if started.elapsed() > limit {
                return Err(LabError::HostStart {
                    host: self.name.clone(),
                    message: "sshd did not answer in time".into(),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every process of the host: those whose root is the host's root (sshd and its sessions,
    /// all chrooted there), plus the sshd itself.
    pub(crate) fn processes(&self) -> Vec<i32> {
        let mut pids: Vec<i32> = Vec::new();
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for e in entries.flatten() {
                let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
                if std::fs::read_link(e.path().join("root")).is_ok_and(|r| r == self.root) {
                    pids.push(pid);
                }
            }
        }
        if let Some(p) = self.pid()
            && !pids.contains(&p)
        {
            pids.push(p);
        }
        pids
    }

    /// Ends every process of the host (a crash, as far as its clients can tell).
    pub(crate) fn kill_all(&mut self) {
        for pid in self.processes() {
            signal(pid, libc::SIGCONT);
            signal(pid, libc::SIGKILL);
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // The mount namespace goes with its last process; wait for the stragglers.
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline && self.processes().iter().any(|p| alive(*p)) {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub(crate) fn freeze(&self, on: bool) {
        for pid in self.processes() {
            signal(pid, if on { libc::SIGSTOP } else { libc::SIGCONT });
        }
    }

    pub(crate) fn link(&self, up: bool) -> Result<(), LabError> {
        ip(&["link", "set", &self.veth, if up { "up" } else { "down" }]).map(|_| ())
    }

    /// Removes the namespace (and with it the veth).
    pub(crate) fn destroy_network(&self) {
        ip_quiet(&["netns", "del", &self.netns]);
        ip_quiet(&["link", "del", &self.veth]);
    }
}
