//! The local connection: commands run on the controller through tokio::process, with the same
//! become wrapper and the same atomic uploads as over SSH.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::ChildStdin;
use tokio::sync::mpsc;

use super::drive::{ProcEvent, Process, drive_with_timeout, signal_name};
use super::quote::quote;
use super::random::hex_token;
use super::transfer::{install_staged, ownership_commands, temp_beside};
use super::{Become, Command, ConnError, Connection, ExecOutput, PutOptions, PutSource, r#become};

/// Runs everything on this machine, as the user Baton runs as (or the become user).
#[derive(Debug, Default)]
pub struct LocalConnection {
    closed: AtomicBool,
}

impl LocalConnection {
    pub fn new() -> LocalConnection {
        LocalConnection::default()
    }

    fn check_open(&self) -> Result<(), ConnError> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(ConnError::Lost {
                host: "localhost".into(),
                reason: "the connection was closed".into(),
            });
        }
        Ok(())
    }

    /// Writes the upload to a temp file beside `dest`, then renames it over `dest`.
    async fn put_direct(&self, src: PutSource, dest: &str, opts: &PutOptions) -> Result<(), ConnError> {
        let tmp = temp_beside(dest);
        let result = self.put_via(src, &tmp, dest, opts).await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&tmp).await;
        }
        result
    }

    async fn put_via(
        &self,
        src: PutSource,
        tmp: &str,
        dest: &str,
        opts: &PutOptions,
    ) -> Result<(), ConnError> {
        let fail = |reason: String| ConnError::Transfer { path: dest.to_string(), reason };
        write_new_file(src, Path::new(tmp)).await.map_err(|e| fail(e.to_string()))?;
        let existing = tokio::fs::metadata(dest).await.ok();
        let mode = opts.mode.or(existing.as_ref().map(|m| m.mode() & 0o7777)).unwrap_or(0o644);
        tokio::fs::set_permissions(tmp, std::fs::Permissions::from_mode(mode))
            .await
            .map_err(|e| fail(format!("cannot set mode {mode:o}: {e}")))?;
        if let Some(m) = &existing {
            // Keep the replaced file's owner; only root can, so failure is fine.
            let _ = std::os::unix::fs::chown(tmp, Some(m.uid()), Some(m.gid()));
        }
        let chown = ownership_commands(&quote(tmp), opts);
        if !chown.is_empty() {
            let out = self.exec(&Command::new(chown.join(" && "))).await?;
            if !out.success() {
                return Err(fail(out.stderr_str().trim().to_string()));
            }
        }
        tokio::fs::rename(tmp, dest).await.map_err(|e| fail(format!("cannot rename into place: {e}")))
    }

    /// Stages the upload in a private temp dir, then lets the become user install it.
    async fn put_become(
        &self,
        src: PutSource,
        dest: &str,
        opts: &PutOptions,
        b: &Become,
    ) -> Result<(), ConnError> {
        let dir = std::env::temp_dir().join(format!("baton-put-{}", hex_token(12)));
        std::fs::DirBuilder::new().mode(0o700).create(&dir).map_err(|e| ConnError::Transfer {
            path: dest.to_string(),
            reason: format!("cannot create a private temp dir: {e}"),
        })?;
        let staged = dir.join("data");
        let result = async {
            write_new_file(src, &staged)
                .await
                .map_err(|e| ConnError::Transfer { path: dest.to_string(), reason: e.to_string() })?;
            let (dir_s, staged_s) = (path_str(&dir), path_str(&staged));
            install_staged(self, &dir_s, &staged_s, dest, opts, b).await
        }
        .await;
        let _ = tokio::fs::remove_dir_all(&dir).await;
        result
    }
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Creates `path` (which must not exist, mode 0600), streams `src` into it and syncs it.
async fn write_new_file(src: PutSource, path: &Path) -> std::io::Result<()> {
    let mut file = tokio::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).await?;
    match src {
        PutSource::Bytes(bytes) => file.write_all(&bytes).await?,
        PutSource::File(from) => {
            let mut reader = tokio::fs::File::open(&from).await.map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot read `{}`: {e}", from.display()))
            })?;
            tokio::io::copy(&mut reader, &mut file).await?;
        }
    }
    file.flush().await?;
    file.sync_all().await
}

#[async_trait]
impl Connection for LocalConnection {
    async fn exec(&self, cmd: &Command) -> Result<ExecOutput, ConnError> {
        self.check_open()?;
        let prepared = r#become::prepare(cmd)?;
        // Without become, sh runs the script itself: a second sh in between would turn a
        // signal into exit code 128+N.
        let line = match &cmd.r#become {
            None => r#become::script(cmd)?,
            Some(_) => prepared.line,
        };
        let mut proc = LocalProcess::spawn(&line)?;
        drive_with_timeout(&mut proc, prepared.watch, cmd.stdin.clone(), cmd.timeout, &cmd.cmd).await
    }

    async fn put(&self, src: PutSource, dest: &str, opts: &PutOptions) -> Result<(), ConnError> {
        self.check_open()?;
        match &opts.r#become {
            Some(b) => self.put_become(src, dest, opts, b).await,
            None => self.put_direct(src, dest, opts).await,
        }
    }

    async fn get(&self, src: &str, r#become: Option<&Become>) -> Result<Vec<u8>, ConnError> {
        self.check_open()?;
        match r#become {
            None => tokio::fs::read(src)
                .await
                .map_err(|e| ConnError::Transfer { path: src.to_string(), reason: e.to_string() }),
            Some(b) => super::transfer::read_as(self, src, b).await,
        }
    }

    async fn close(&self) -> Result<(), ConnError> {
        self.closed.store(true, Ordering::Relaxed);
        Ok(())
    }
}

/// A child of `/bin/sh -c`, in its own process group so a timeout kills everything it started.
struct LocalProcess {
    pid: Option<i32>,
    stdin: Option<ChildStdin>,
    events: mpsc::Receiver<ProcEvent>,
}

impl LocalProcess {
    fn spawn(line: &str) -> Result<LocalProcess, ConnError> {
        let mut child = tokio::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(line)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()?;
        let pid = child.id().and_then(|p| i32::try_from(p).ok());
        let stdin = child.stdin.take();
        let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
        let (tx, events) = mpsc::channel(64);
        tokio::spawn(async move {
            let out_tx = tx.clone();
            let err_tx = tx.clone();
            tokio::join!(pump(stdout, out_tx, ProcEvent::Stdout), pump(stderr, err_tx, ProcEvent::Stderr));
            let event = match child.wait().await {
                Ok(status) => {
                    use std::os::unix::process::ExitStatusExt;
                    match (status.code(), status.signal()) {
                        (Some(rc), _) => ProcEvent::Exit(rc),
                        (None, Some(sig)) => ProcEvent::Signal(signal_name(sig)),
                        (None, None) => ProcEvent::Exit(-1),
                    }
                }
                Err(_) => ProcEvent::Exit(-1),
            };
            let _ = tx.send(event).await;
        });
        Ok(LocalProcess { pid, stdin, events })
    }
}

/// Copies one pipe into the event channel until it closes.
async fn pump<R: AsyncRead + Unpin>(
    pipe: Option<R>,
    tx: mpsc::Sender<ProcEvent>,
    wrap: fn(Vec<u8>) -> ProcEvent,
) {
    let Some(mut pipe) = pipe else { return };
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if tx.send(wrap(buf[..n].to_vec())).await.is_err() {
                    return;
                }
            }
        }
    }
}

impl Process for LocalProcess {
    async fn next(&mut self) -> Result<Option<ProcEvent>, ConnError> {
        Ok(self.events.recv().await)
    }

    async fn write(&mut self, data: Vec<u8>) -> Result<(), ConnError> {
        if let Some(stdin) = self.stdin.as_mut() {
            stdin.write_all(&data).await?;
            stdin.flush().await?;
        }
        Ok(())
    }

    fn feed_stdin(&mut self, data: Option<Vec<u8>>) {
        let Some(mut stdin) = self.stdin.take() else {
            return;
        };
        if let Some(data) = data {
            tokio::spawn(async move {
                // A command that exits without reading its stdin makes this fail; that is fine.
                let _ = stdin.write_all(&data).await;
                let _ = stdin.shutdown().await;
            });
        }
    }

    async fn kill(&mut self) {
        self.stdin = None;
        if let Some(pid) = self.pid.take() {
            // SAFETY: kill(2) takes plain integers; a negative pid names our child's own
            // process group (created with process_group(0)), nothing else.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
}
