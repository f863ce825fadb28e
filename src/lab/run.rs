//! Running the system tools the lab is built with (`ip`, `ssh-keygen`, `nsenter`, ...).

use std::process::{Command, Output};

use super::error::{LabError, io};

/// Runs a command to the end; a non-zero exit is an error carrying its stderr.
pub fn run(cmd: &mut Command) -> Result<Output, LabError> {
    let shown = format!("{cmd:?}");
    let out = cmd.output().map_err(io(format!("run {shown}")))?;
    if !out.status.success() {
        return Err(LabError::Command {
            command: shown,
            message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out)
}

/// `ip ARGS...`.
pub fn ip(args: &[&str]) -> Result<Output, LabError> {
    run(Command::new("ip").args(args))
}

/// `ip ARGS...`, ignoring failure (tear-down of things that may already be gone).
pub fn ip_quiet(args: &[&str]) {
    let _ = Command::new("ip").args(args).output();
}

/// Whether a program is on PATH (or an absolute path that exists).
pub fn have(program: &str) -> bool {
    if program.starts_with('/') {
        return std::path::Path::new(program).exists();
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// Whether a process is alive.
pub fn alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

pub fn signal(pid: i32, sig: i32) {
    // SAFETY: sending a signal to a pid we recorded; failure (already gone) is fine.
    unsafe {
        libc::kill(pid, sig);
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}
