//! Running one process to its end, the same way for a local child and an SSH channel: collect
//! stdout and stderr, feed stdin, and walk the become handshake ([`BecomeWatch`]) first.

use std::time::Duration;

use super::r#become::{BecomeWatch, Step};
use super::{ConnError, ExecOutput};

/// Something a running process tells us.
#[derive(Debug)]
pub enum ProcEvent {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    Exit(i32),
    /// Died of a signal (name without `SIG`).
    Signal(String),
}

/// The few things the driver needs from a running process.
pub trait Process: Send {
    /// The next event; `None` once the process and all its streams are done.
    fn next(&mut self) -> impl Future<Output = Result<Option<ProcEvent>, ConnError>> + Send;
    /// Writes a few bytes (the password line) to stdin right away.
    fn write(&mut self, data: Vec<u8>) -> impl Future<Output = Result<(), ConnError>> + Send;
    /// Sends the command's stdin (if any) in the background, then closes it, so a command
    /// that writes a lot before reading cannot deadlock against us.
    fn feed_stdin(&mut self, data: Option<Vec<u8>>);
    /// Stops the process for good (timeout, wrong password).
    fn kill(&mut self) -> impl Future<Output = ()> + Send;
}

/// Runs `proc` to its end, through the become handshake when `watch` is given.
pub async fn drive<P: Process>(
    proc: &mut P,
    mut watch: Option<BecomeWatch>,
    stdin: Option<Vec<u8>>,
) -> Result<ExecOutput, ConnError> {
    let mut out = ExecOutput::default();
    let mut stdin = Some(stdin);
    if watch.is_none() {
        proc.feed_stdin(stdin.take().flatten());
    }
    while let Some(event) = proc.next().await? {
        let step = match (event, watch.as_mut()) {
            (ProcEvent::Stdout(d), Some(w)) => w.on_stdout(&d),
            (ProcEvent::Stderr(d), Some(w)) => w.on_stderr(&d),
            (ProcEvent::Stdout(d), None) => {
                out.stdout.extend_from_slice(&d);
                Step::Wait
            }
            (ProcEvent::Stderr(d), None) => {
                out.stderr.extend_from_slice(&d);
                Step::Wait
            }
            (ProcEvent::Exit(rc), _) => {
                out.rc = Some(rc);
                Step::Wait
            }
            (ProcEvent::Signal(name), _) => {
                out.signal = Some(name);
                Step::Wait
            }
        };
        match step {
            Step::Wait => {}
            Step::SendPassword(line) => proc.write(line).await?,
            Step::Started { stdout, stderr } => {
                out.stdout = stdout;
                out.stderr = stderr;
                watch = None;
                proc.feed_stdin(stdin.take().flatten());
            }
            Step::Failed(reason) => {
                proc.kill().await;
                return Err(ConnError::Become(reason));
            }
        }
    }
    if let Some(w) = watch {
        return Err(ConnError::Become(w.on_end()));
    }
    Ok(out)
}

/// [`drive`] with the command's own deadline: past it the process is killed.
pub async fn drive_with_timeout<P: Process>(
    proc: &mut P,
    watch: Option<BecomeWatch>,
    stdin: Option<Vec<u8>>,
    timeout: Option<Duration>,
    cmd: &str,
) -> Result<ExecOutput, ConnError> {
    let Some(limit) = timeout else {
        return drive(proc, watch, stdin).await;
    };
    match tokio::time::timeout(limit, drive(proc, watch, stdin)).await {
        Ok(result) => result,
        Err(_) => {
            proc.kill().await;
            Err(ConnError::CommandTimeout { cmd: cmd.to_string(), secs: limit.as_secs() })
        }
    }
}

/// The name of a Linux signal number, as sshd reports it (`KILL`, `TERM`, ...).
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        1 => "HUP",
        2 => "INT",
        3 => "QUIT",
        4 => "ILL",
        5 => "TRAP",
        6 => "ABRT",
        7 => "BUS",
        8 => "FPE",
        9 => "KILL",
        10 => "USR1",
        11 => "SEGV",
        12 => "USR2",
        13 => "PIPE",
        14 => "ALRM",
        15 => "TERM",
        _ => return signal.to_string(),
    };
    name.to_string()
}
