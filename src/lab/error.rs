//! Why the lab fleet could not start or be driven.

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LabError {
    #[error("the lab needs `{0}`, which is not installed")]
    #[diagnostic(help("on Debian: apt-get install openssh-server openssh-client iproute2 util-linux sudo"))]
    Missing(String),
    #[error("`{command}` failed: {message}")]
    Command { command: String, message: String },
    #[error("cannot {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no free lab slot (250 labs are running?)")]
    NoSlot,
    #[error("host {host} did not start: {message}")]
    HostStart { host: String, message: String },
    #[error("host index {0} is not in the lab")]
    NoHost(usize),
    #[error("host {0} is down (killed); revive it first")]
    HostDown(String),
}

pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LabError {
    let what = what.into();
    move |source| LabError::Io { what, source }
}
