//! One command on one SSH channel, seen through the driver's [`Process`] interface.
//!
//! The channel is read until it returns `None`: output can still arrive after `ExitStatus`.
//! stderr is extended data stream 1.

use std::sync::Arc;

use russh::client::Msg;
use russh::{ChannelMsg, ChannelReadHalf, ChannelWriteHalf, Sig};

use crate::connection::ConnError;
use crate::connection::drive::{ProcEvent, Process};

pub struct ChannelProcess {
    read: ChannelReadHalf,
    write: Arc<ChannelWriteHalf<Msg>>,
    host: String,
}

impl ChannelProcess {
    pub fn new(channel: russh::Channel<Msg>, host: String) -> ChannelProcess {
        let (read, write) = channel.split();
        ChannelProcess { read, write: Arc::new(write), host }
    }
}

impl Process for ChannelProcess {
    async fn next(&mut self) -> Result<Option<ProcEvent>, ConnError> {
        loop {
            let Some(msg) = self.read.wait().await else {
                return Ok(None);
            };
            let event = match msg {
                ChannelMsg::Data { data } => ProcEvent::Stdout(data.to_vec()),
                ChannelMsg::ExtendedData { data, ext: 1 } => ProcEvent::Stderr(data.to_vec()),
                ChannelMsg::ExitStatus { exit_status } => {
                    ProcEvent::Exit(i32::try_from(exit_status).unwrap_or(i32::MAX))
                }
                ChannelMsg::ExitSignal { signal_name, .. } => ProcEvent::Signal(signal_text(&signal_name)),
                ChannelMsg::Failure => {
                    return Err(ConnError::Lost {
                        host: self.host.clone(),
                        reason: "the server refused to start the command".into(),
                    });
                }
                _ => continue,
            };
            return Ok(Some(event));
        }
    }

    async fn write(&mut self, data: Vec<u8>) -> Result<(), ConnError> {
        self.write.data(&data[..]).await.map_err(|e| ConnError::Lost {
            host: self.host.clone(),
            reason: format!("cannot write to the command: {e}"),
        })
    }

    fn feed_stdin(&mut self, data: Option<Vec<u8>>) {
        let write = self.write.clone();
        tokio::spawn(async move {
            if let Some(data) = data {
                let _ = write.data(&data[..]).await;
            }
            let _ = write.eof().await;
        });
    }

    async fn kill(&mut self) {
        let _ = self.write.signal(Sig::KILL).await;
        let _ = self.write.close().await;
    }
}

/// sshd's signal name without `SIG`, as in `ExecOutput::signal`.
fn signal_text(sig: &Sig) -> String {
    let name = match sig {
        Sig::ABRT => "ABRT",
        Sig::ALRM => "ALRM",
        Sig::FPE => "FPE",
        Sig::HUP => "HUP",
        Sig::ILL => "ILL",
        Sig::INT => "INT",
        Sig::KILL => "KILL",
        Sig::PIPE => "PIPE",
        Sig::QUIT => "QUIT",
        Sig::SEGV => "SEGV",
        Sig::TERM => "TERM",
        Sig::USR1 => "USR1",
        Sig::Custom(name) => name.as_str(),
    };
    name.to_string()
}
