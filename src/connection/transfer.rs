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
/// name beside `dest` created with `O_EXCL` and mode 0600 (so nobody reads it half-written or
/// before its mode is set), then mode and owner, then a rename over `dest`. An existing
/// destination keeps its owner (when the user may give it) and, without a mode, its mode; a
/// new one without a mode gets what the umask leaves of 0666 (`chmod =rw`), as a plain write
/// would.
///
/// This is how a plan writes a file in the same command as its other changes: the bytes never
/// show in the command line (where `ps` would show them to every user of the host) and no SFTP
/// round trips are needed. It is meant to run in a subshell of its own (`set -e`, `umask`).
/// Like Ansible's atomic move, the rename is not preceded by an fsync.
pub fn stdin_put_script(dest: &str, opts: &PutOptions) -> String {
    let d = quote(dest);
    let mut lines = vec![
        "set -eC".to_string(),
        format!("t={}", quote(&temp_beside(dest))),
        "trap 'rm -f -- \"$t\"' EXIT".to_string(),
        // Created empty and private (O_EXCL through `set -C`), filled after.
        "(umask 077 && : > \"$t\")".to_string(),
        "cat >> \"$t\"".to_string(),
    ];
    match opts.mode {
        Some(mode) => {
            lines.push(format!("chmod {mode:o} \"$t\""));
            lines.push(format!("if [ -e {d} ]; then chown --reference={d} \"$t\" 2>/dev/null || :; fi"));
        }
        None => lines.push(format!(
            "if [ -e {d} ]; then chmod --reference={d} \"$t\"; chown --reference={d} \"$t\" 2>/dev/null || :; \
             else chmod =rw \"$t\"; fi"
        )),
    }
    lines.extend(ownership_commands("\"$t\"", opts));
    lines.push(format!("mv -f -- \"$t\" {d}"));
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

    #[test]
    fn stdin_put_writes_a_private_temp_file_and_renames_it() {
        let opts = PutOptions { mode: Some(0o640), owner: Some("app".into()), group: None, r#become: None };
        let s = stdin_put_script("/srv/my app/conf", &opts);
        assert!(s.starts_with("set -eC\nt='/srv/my app/.conf.baton-tmp-"), "{s}");
        assert!(s.contains("(umask 077 && : > \"$t\")\ncat >> \"$t\"\nchmod 640 \"$t\""), "{s}");
        assert!(s.contains("chown --reference='/srv/my app/conf'"), "{s}");
        assert!(s.contains("chown -- app \"$t\""), "{s}");
        assert!(s.ends_with("mv -f -- \"$t\" '/srv/my app/conf'"), "{s}");
        let keep = stdin_put_script("/etc/x", &PutOptions::default());
        assert!(keep.contains("chmod --reference=/etc/x \"$t\""), "{keep}");
        assert!(keep.contains("else chmod =rw \"$t\"; fi"), "{keep}");
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
