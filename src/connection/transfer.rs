//! What local and SSH uploads share: temp names beside the destination, and the shell script that
//! moves an upload into place as another user (become).

use super::quote::quote;
use super::random::hex_token;
use super::{Become, Command, ConnError, Connection, PutOptions};

/// Directory and file name of a destination path (`.` when it has no directory part).
pub fn split_dest(dest: &str) -> (&str, &str) {
    match dest.rfind('/') {
        Some(0) => ("/", &dest[1..]),
        Some(i) => (&dest[..i], &dest[i + 1..]),
        None => (".", dest),
    }
}

/// A fresh temp name in the destination's own directory, so the final rename stays on one
/// filesystem and is atomic: `dir/.name.baton-tmp-RANDOM`.
pub fn temp_beside(dest: &str) -> String {
    let (dir, name) = split_dest(dest);
    let tmp = format!(".{name}.baton-tmp-{}", hex_token(12));
    if dir == "/" { format!("/{tmp}") } else { format!("{dir}/{tmp}") }
}

/// `chown`/`chgrp` commands for the options' owner and group; `quoted_path` is already shell
/// text (a quoted path or `"$t"`).
pub fn ownership_commands(quoted_path: &str, opts: &PutOptions) -> Vec<String> {
    let mut cmds = Vec::new();
    if let Some(owner) = &opts.owner {
        cmds.push(format!("chown -- {} {quoted_path}", quote(owner)));
    }
    if let Some(group) = &opts.group {
        cmds.push(format!("chgrp -- {} {quoted_path}", quote(group)));
    }
    cmds
}

/// The script, run as the become user, that copies an uploaded file from the login user's
/// private temp dir to a temp name beside `dest`, sets mode and ownership there, and renames it
/// over `dest`. Without a mode, an existing destination keeps its mode and ownership.
pub fn install_script(staged: &str, dest: &str, opts: &PutOptions) -> String {
    let tmp = temp_beside(dest);
    let mut lines = vec![
        "set -e".to_string(),
        format!("t={}", quote(&tmp)),
        "trap 'rm -f \"$t\"' EXIT".to_string(),
        format!("cp -- {} \"$t\"", quote(staged)),
    ];
    match opts.mode {
        Some(mode) => lines.push(format!("chmod {mode:o} \"$t\"")),
        None => lines.push(format!(
            "if [ -e {d} ]; then chmod --reference={d} \"$t\" 2>/dev/null || true; \
             chown --reference={d} \"$t\" 2>/dev/null || true; fi",
            d = quote(dest)
        )),
    }
    lines.extend(ownership_commands("\"$t\"", opts));
    lines.push("sync -- \"$t\" 2>/dev/null || true".to_string());
    lines.push(format!("mv -f -- \"$t\" {}", quote(dest)));
    lines.join("\n")
}

/// The shell lines that write a file whose bytes arrive on the command's stdin: into a temp
/// name beside `dest` created with `O_EXCL` (`set -C`), then mode and owner, then a rename over
/// `dest` (`mv -T`: a directory there is an error, not a place to move into). An existing
/// destination keeps its owner (when the user may give it) and, without a mode, its mode; a
/// new one without a mode gets what the umask leaves of 0666, as a plain write would.
///
/// The temp file is born with its final mode when a umask can say it (no execute or special
/// bits: `umask 137` makes 0640) and private (0600) otherwise, chmod'ed after: never more open
/// than the file will be. Each process counts on a busy fleet, so nothing runs that the state
/// does not need: no chown when we already own the file, no cleanup after a successful rename.
///
/// This is how a plan writes a file in the same command as its other changes: the bytes never
/// show in the command line (where `ps` would show them to every user of the host) and no SFTP
/// round trips are needed. It is meant to run in a subshell of its own (`set -e`, `trap`).
/// Like Ansible's atomic move, the rename is not preceded by an fsync.
pub fn stdin_put_script(dest: &str, opts: &PutOptions) -> String {
    let d = quote(dest);
    let mut lines = vec![
        "set -eC".to_string(),
        format!("t={}", quote(&temp_beside(dest))),
        "trap 'rm -f -- \"$t\"' EXIT".to_string(),
    ];
    let keep_owner = format!(
        "if [ -e {d} ] && ! {{ [ -O {d} ] && [ -G {d} ]; }}; then chown --reference={d} \"$t\" 2>/dev/null || :; fi"
    );
    match opts.mode {
        Some(mode) if mode & 0o7111 == 0 => {
            lines.push(format!("(umask {:03o} && cat > \"$t\")", !mode & 0o777));
            lines.push(keep_owner);
        }
        Some(mode) => {
            lines.push("(umask 077 && cat > \"$t\")".to_string());
            lines.push(format!("chmod {mode:o} \"$t\""));
            lines.push(keep_owner);
        }
        None => {
            // Private while filled when an existing file's mode is still to be copied.
            lines.push(format!(
                "if [ -e {d} ]; then (umask 077 && cat > \"$t\"); chmod --reference={d} \"$t\"; \
                 else cat > \"$t\"; fi"
            ));
            lines.push(keep_owner);
        }
    }
    lines.extend(ownership_commands("\"$t\"", opts));
    lines.push(format!("mv -fT -- \"$t\" {d}"));
    lines.push("trap - EXIT".to_string());
    lines.join("\n")
}

/// Moves a file staged in the login user's private temp dir into place as the become user.
///
/// A become user other than root cannot read that dir, so it is granted read access with an
/// ACL, or (when the login user is root) given the files (never by making them world-readable).
pub async fn install_staged(
    conn: &dyn Connection,
    staged_dir: &str,
    staged: &str,
    dest: &str,
    opts: &PutOptions,
    b: &Become,
) -> Result<(), ConnError> {
    let fail = |reason: String| ConnError::Transfer { path: dest.to_string(), reason };
    if b.user != "root" {
        // An ACL first; without setfacl (or ACL support) a root login hands the files to the
        // become user instead, as Ansible does. Never world-readable.
        let grant = format!(
            "{{ setfacl -m u:{u}:x {d} && setfacl -m u:{u}:r {f}; }} 2>/dev/null || chown -- {u} {d} {f}",
            u = quote(&b.user),
            d = quote(staged_dir),
            f = quote(staged)
        );
        let out = conn.exec(&Command::new(grant)).await?;
        if !out.success() {
            return Err(fail(format!(
                "cannot let `{}` read the uploaded file (setfacl and chown failed: {})",
                b.user,
                out.stderr_str().trim()
            )));
        }
    }
    let mut cmd = Command::new(install_script(staged, dest, opts));
    cmd.r#become = Some(b.clone());
    let out = conn.exec(&cmd).await?;
    if !out.success() {
        return Err(fail(out.stderr_str().trim().to_string()));
    }
    Ok(())
}

/// Reads a whole file as the become user (`cat` through sudo).
pub async fn read_as(conn: &dyn Connection, src: &str, b: &Become) -> Result<Vec<u8>, ConnError> {
    let mut cmd = Command::new(format!("cat -- {}", quote(src)));
    cmd.r#become = Some(b.clone());
    let out = conn.exec(&cmd).await?;
    if !out.success() {
        return Err(ConnError::Transfer {
            path: src.to_string(),
            reason: out.stderr_str().trim().to_string(),
        });
    }
    Ok(out.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_sit_beside_the_destination() {
        assert_eq!(split_dest("/etc/app.conf"), ("/etc", "app.conf"));
        assert_eq!(split_dest("/x"), ("/", "x"));
        assert_eq!(split_dest("rel"), (".", "rel"));
        let t = temp_beside("/etc/app.conf");
        assert!(t.starts_with("/etc/.app.conf.baton-tmp-"), "{t}");
        assert!(temp_beside("/x").starts_with("/.x.baton-tmp-"));
    }

    /// Runs [`stdin_put_script`] under this machine's `sh` with umask 022, `bytes` on stdin.
    fn put_here(dest: &std::path::Path, mode: Option<u32>, bytes: &[u8]) -> std::process::Output {
        use std::io::Write as _;
        let opts = PutOptions { mode, ..PutOptions::default() };
        let script = stdin_put_script(&dest.display().to_string(), &opts);
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("umask 022; (\n{script}\n)"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(bytes).unwrap();
        child.wait_with_output().unwrap()
    }

    fn mode_of(p: &std::path::Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    fn leftovers(dir: &std::path::Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("baton-tmp"))
            .collect()
    }

    #[test]
    fn stdin_put_writes_the_mode_asked_for_keeps_an_existing_one_and_leaves_no_temp_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("app env");
        for (mode, want) in
            [(Some(0o640), 0o640), (Some(0o755), 0o755), (Some(0o4750), 0o4750), (None, 0o4750)]
        {
            let out = put_here(&f, mode, b"A=1\n");
            assert!(out.status.success(), "{mode:?}: {}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(std::fs::read(&f).unwrap(), b"A=1\n");
            assert_eq!(mode_of(&f), want, "{mode:?}");
        }
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(put_here(&f, None, b"B=2\n").status.success());
        assert_eq!((std::fs::read(&f).unwrap(), mode_of(&f)), (b"B=2\n".to_vec(), 0o600), "kept");
        let new = dir.path().join("new");
        assert!(put_here(&new, None, b"x").status.success());
        assert_eq!(mode_of(&new), 0o644, "a new file without a mode gets the umask's");
        // A rename that fails leaves the destination alone and no temp file behind.
        let blocked = dir.path().join("blocked");
        std::fs::create_dir(&blocked).unwrap();
        std::fs::write(blocked.join("keep"), "x").unwrap();
        let out = put_here(&blocked, Some(0o644), b"y");
        assert!(!out.status.success());
        assert!(blocked.is_dir());
        assert_eq!(leftovers(dir.path()), Vec::<String>::new());
        assert_eq!(leftovers(&blocked), Vec::<String>::new());
    }

    #[test]
    fn stdin_put_sets_the_owner_asked_for_and_keeps_one_it_does_not_have() {
        let opts = PutOptions { mode: Some(0o640), owner: Some("app".into()), group: None, r#become: None };
        let s = stdin_put_script("/srv/my app/conf", &opts);
        assert!(s.starts_with("set -eC\nt='/srv/my app/.conf.baton-tmp-"), "{s}");
        assert!(s.contains("(umask 137 && cat > \"$t\")\n"), "{s}");
        assert!(!s.contains("chmod"), "{s}");
        assert!(
            s.contains(
                "! { [ -O '/srv/my app/conf' ] && [ -G '/srv/my app/conf' ]; }; then chown --reference="
            ),
            "{s}"
        );
        assert!(s.contains("chown -- app \"$t\""), "{s}");
        assert!(s.ends_with("mv -fT -- \"$t\" '/srv/my app/conf'\ntrap - EXIT"), "{s}");
    }

    #[test]
    fn install_script_sets_mode_owner_and_renames() {
        let opts = PutOptions {
            mode: Some(0o640),
            owner: Some("app".into()),
            group: Some("web ops".into()),
            r#become: None,
        };
        let s = install_script("/tmp/baton-x/data", "/srv/my app/conf", &opts);
        assert!(s.contains("t='/srv/my app/.conf.baton-tmp-"), "{s}");
        assert!(s.contains("cp -- /tmp/baton-x/data \"$t\""));
        assert!(s.contains("chmod 640 \"$t\""));
        assert!(s.contains("chown -- app \"$t\""));
        assert!(s.contains("chgrp -- 'web ops' \"$t\""));
        assert!(s.ends_with("mv -f -- \"$t\" '/srv/my app/conf'"));
    }
}
