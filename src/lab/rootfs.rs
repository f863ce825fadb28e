//! The hosts' filesystems: one shared base layer (users, sudo rules, authorized keys, the
//! sshd configuration, a clean /root) over the machine's own `/`, and one upper directory
//! per host (its hostname, host key, and everything written on it).

use std::os::unix::fs::{PermissionsExt, chown};
use std::path::Path;
use std::process::Command;

use super::error::{LabError, io};
use super::run::run;

/// The users every host has besides root: `deploy` (passwordless sudo) and `op` (sudo with
/// the password [`OP_PASSWORD`]).
pub const DEPLOY_UID: u32 = 2901;
pub const OP_UID: u32 = 2902;
pub const OP_PASSWORD: &str = "op-secret";

/// The sshd configuration of a lab host. `listen` is `0.0.0.0:22` in namespaces or
/// `127.0.0.1:PORT` on loopback.
pub fn sshd_config(listen: &str, host_key: &str, authorized_keys: &str, extra: &str) -> String {
    format!(
        "ListenAddress {listen}\nHostKey {host_key}\nPermitRootLogin prohibit-password\nPubkeyAuthentication yes\n\
         PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nAuthorizedKeysFile {authorized_keys}\n\
         MaxStartups 2000:30:4000\nMaxSessions 2000\nSubsystem sftp internal-sftp\nPidFile none\nStrictModes no\n\
         LogLevel ERROR\nAcceptEnv LANG LC_*\n{extra}"
    )
}

fn write(path: &Path, text: &str, mode: u32) -> Result<(), LabError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(format!("create {}", dir.display())))?;
    }
    std::fs::write(path, text).map_err(io(format!("write {}", path.display())))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(io(format!("chmod {}", path.display())))
}

fn read(path: &str) -> Result<String, LabError> {
    std::fs::read_to_string(path).map_err(io(format!("read {path}")))
}

/// Marks a directory of an overlay's lower layer opaque, so the layers under it do not show
/// through (a clean /root instead of the machine's).
fn make_opaque(dir: &Path) -> Result<(), LabError> {
    let path = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes())
        .map_err(|_| LabError::Command { command: "setxattr".into(), message: "path has a NUL".into() })?;
    // SAFETY: both strings are NUL-terminated and outlive the call.
    let rc = unsafe {
        libc::setxattr(path.as_ptr(), c"trusted.overlay.opaque".as_ptr(), c"y".as_ptr().cast(), 1, 0)
    };
    if rc != 0 {
        return Err(LabError::Io {
            what: format!("mark {} opaque", dir.display()),
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(())
}

/// Builds the base layer in `base` for hosts that accept `client_pub`.
pub fn build_base(base: &Path, client_pub: &str) -> Result<(), LabError> {
    let hash = run(Command::new("openssl").args(["passwd", "-6", "-salt", "batonlab", OP_PASSWORD]))?;
    let hash = String::from_utf8_lossy(&hash.stdout).trim().to_string();
    let mut passwd = read("/etc/passwd")?;
    let mut shadow = read("/etc/shadow").unwrap_or_default();
    let mut group = read("/etc/group")?;
    for (name, uid, pw) in [("deploy", DEPLOY_UID, "*".to_string()), ("op", OP_UID, hash)] {
        if !passwd.lines().any(|l| l.starts_with(&format!("{name}:"))) {
            passwd.push_str(&format!("{name}:x:{uid}:{uid}:Baton lab {name}:/home/{name}:/bin/sh\n"));
            shadow.push_str(&format!("{name}:{pw}:19000:0:99999:7:::\n"));
            group.push_str(&format!("{name}:x:{uid}:\n"));
        }
        let ssh = base.join("home").join(name).join(".ssh");
        write(&ssh.join("authorized_keys"), client_pub, 0o600)?;
        for p in [base.join("home").join(name), ssh.clone(), ssh.join("authorized_keys")] {
            chown(&p, Some(uid), Some(uid)).map_err(io(format!("chown {}", p.display())))?;
        }
    }
    write(&base.join("etc/passwd"), &passwd, 0o644)?;
    write(&base.join("etc/shadow"), &shadow, 0o640)?;
    write(&base.join("etc/group"), &group, 0o644)?;
    write(
        &base.join("etc/sudoers.d/baton-lab"),
        "deploy ALL=(ALL:ALL) NOPASSWD: ALL\nop ALL=(ALL:ALL) ALL\nDefaults:op !lecture\n",
        0o440,
    )?;
    write(
        &base.join("etc/ssh/sshd_lab_config"),
        &sshd_config("0.0.0.0:22", "/etc/ssh/lab_host_key", ".ssh/authorized_keys", ""),
        0o644,
    )?;
    // A clean /root: skel files and the client key only.
    let root = base.join("root");
    std::fs::create_dir_all(root.join(".ssh")).map_err(io("create the base /root"))?;
    if let Ok(entries) = std::fs::read_dir("/etc/skel") {
        for e in entries.flatten() {
            if e.path().is_file() {
                let _ = std::fs::copy(e.path(), root.join(e.file_name()));
            }
        }
    }
    write(&root.join(".ssh/authorized_keys"), client_pub, 0o600)?;
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700))
        .map_err(io("chmod the base /root"))?;
    make_opaque(&root)?;
    Ok(())
}

/// A host's own files in its upper layer: hostname, hosts, host key (already generated).
pub fn prepare_upper(upper: &Path, name: &str, hosts_file: &str) -> Result<(), LabError> {
    write(&upper.join("etc/hostname"), &format!("{name}\n"), 0o644)?;
    write(&upper.join("etc/hosts"), hosts_file, 0o644)
}

/// Generates an ed25519 key pair at `path` (and `path.pub`); returns the public key line.
pub fn keygen(path: &Path, comment: &str) -> Result<String, LabError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(format!("create {}", dir.display())))?;
    }
    run(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"]).arg(path))?;
    let public = path.with_extension("pub");
    let public =
        if public.exists() { public } else { std::path::PathBuf::from(format!("{}.pub", path.display())) };
    std::fs::read_to_string(&public).map_err(io(format!("read {}", public.display())))
}
