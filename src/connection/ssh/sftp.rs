//! Transfers over the connection's one SFTP session.
//!
//! An upload goes to a fresh temp name beside the destination (`O_EXCL`, mode 0600), is synced,
//! gets its mode (and owner), and is renamed over the destination with `mv -f` (a rename within
//! one directory, so atomic). With become, the upload lands in a private `mktemp -d` dir of the
//! login user and the become user installs it from there. Files are streamed in chunks, so a
//! 50 MB upload is never held in memory.

use russh_sftp::client::SftpSession;
use russh_sftp::protocol::{FileAttributes, OpenFlags};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::session::SshConnection;
use crate::connection::quote::quote;
use crate::connection::transfer::{install_staged, ownership_commands, temp_beside};
use crate::connection::{Become, ConnError, PutOptions, PutSource};

const CHUNK: usize = 256 * 1024;

fn failed(path: &str, reason: impl std::fmt::Display) -> ConnError {
    ConnError::Transfer { path: path.to_string(), reason: reason.to_string() }
}

/// Upload as the login user: temp file beside `dest`, then rename.
pub async fn put_direct(
    conn: &SshConnection,
    src: PutSource,
    dest: &str,
    opts: &PutOptions,
) -> Result<(), ConnError> {
    let sftp = conn.sftp().await?;
    let tmp = temp_beside(dest);
    let result = put_via(conn, &sftp, src, &tmp, dest, opts).await;
    if result.is_err() {
        let _ = sftp.remove_file(tmp.as_str()).await;
    }
    result
}

async fn put_via(
    conn: &SshConnection,
    sftp: &SftpSession,
    src: PutSource,
    tmp: &str,
    dest: &str,
    opts: &PutOptions,
) -> Result<(), ConnError> {
    upload(sftp, src, tmp, dest).await?;
    let existing = sftp.metadata(dest).await.ok();
    let mode =
        opts.mode.or(existing.as_ref().and_then(|m| m.permissions).map(|p| p & 0o7777)).unwrap_or(0o644);
    let attrs = FileAttributes { permissions: Some(mode), ..FileAttributes::empty() };
    sftp.set_metadata(tmp, attrs)
        .await
        .map_err(|e| failed(dest, format!("cannot set mode {mode:o}: {e}")))?;
    if let Some(m) = &existing
        && let (Some(uid), Some(gid)) = (m.uid, m.gid)
    {
        // Keep the replaced file's owner; only root can, so failure is fine.
        let owner = FileAttributes { uid: Some(uid), gid: Some(gid), ..FileAttributes::empty() };
        let _ = sftp.set_metadata(tmp, owner).await;
    }
    let quoted = quote(tmp).into_owned();
    let mut steps = ownership_commands(&quoted, opts);
    steps.push(format!("mv -f -- {quoted} {}", quote(dest)));
    conn.run_ok(steps.join(" && "), dest).await?;
    Ok(())
}

/// Streams `src` into a new remote file `path` (which must not exist) and syncs it.
async fn upload(sftp: &SftpSession, src: PutSource, path: &str, dest: &str) -> Result<(), ConnError> {
    let attrs = FileAttributes { permissions: Some(0o600), ..FileAttributes::empty() };
    let mut file = sftp
        .open_with_flags_and_attributes(
            path,
            OpenFlags::CREATE | OpenFlags::EXCLUDE | OpenFlags::WRITE,
            attrs,
        )
        .await
        .map_err(|e| failed(dest, format!("cannot create `{path}`: {e}")))?;
    match src {
        PutSource::Bytes(bytes) => file.write_all(&bytes).await.map_err(|e| failed(dest, e))?,
        PutSource::File(from) => {
            let mut reader = tokio::fs::File::open(&from)
                .await
                .map_err(|e| failed(dest, format!("cannot read `{}`: {e}", from.display())))?;
            let mut buf = vec![0u8; CHUNK];
            loop {
                let n = reader
                    .read(&mut buf)
                    .await
                    .map_err(|e| failed(dest, format!("cannot read `{}`: {e}", from.display())))?;
                if n == 0 {
                    break;
                }
                file.write_all(&buf[..n]).await.map_err(|e| failed(dest, e))?;
            }
        }
    }
    file.flush().await.map_err(|e| failed(dest, e))?;
    file.sync_all().await.map_err(|e| failed(dest, e))?;
    file.shutdown().await.map_err(|e| failed(dest, e))?;
    Ok(())
}

/// Upload for a become user: stage in a private temp dir, then install as that user.
pub async fn put_become(
    conn: &SshConnection,
    src: PutSource,
    dest: &str,
    opts: &PutOptions,
    b: &Become,
) -> Result<(), ConnError> {
    let dir = conn.run_ok("mktemp -d \"${TMPDIR:-/tmp}/baton-put-XXXXXXXXXX\"".into(), dest).await?;
    let dir = dir.trim().to_string();
    if dir.is_empty() {
        return Err(failed(dest, "mktemp printed no directory"));
    }
    let staged = format!("{dir}/data");
    let result = async {
        let sftp = conn.sftp().await?;
        upload(&sftp, src, &staged, dest).await?;
        install_staged(conn, &dir, &staged, dest, opts, b).await
    }
    .await;
    let _ = conn.run_ok(format!("rm -rf -- {}", quote(&dir)), dest).await;
    result
}

/// Reads a whole remote file as the login user.
pub async fn get(conn: &SshConnection, src: &str) -> Result<Vec<u8>, ConnError> {
    let sftp = conn.sftp().await?;
    let mut file = sftp.open(src).await.map_err(|e| failed(src, e))?;
    let mut out = Vec::new();
    file.read_to_end(&mut out).await.map_err(|e| failed(src, e))?;
    Ok(out)
}
