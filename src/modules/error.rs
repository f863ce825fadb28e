//! Errors of the module layer: bad arguments (caught before anything runs) and failures to
//! talk to the host while a module runs.

use crate::connection::ConnError;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ModuleError {
    #[error("unknown module `{name}`{}", suggest(suggestion))]
    UnknownModule { name: String, suggestion: Option<String> },
    #[error("module `{module}` has no parameter `{param}`{}", suggest(suggestion))]
    UnknownParam { module: String, param: String, suggestion: Option<String> },
    #[error("module `{module}` needs the parameter `{param}`")]
    MissingParam { module: String, param: String },
    #[error("module `{module}`: {message}")]
    BadArgs { module: String, message: String },
    #[error(transparent)]
    Conn(#[from] ConnError),
}

fn suggest(s: &Option<String>) -> String {
    s.as_ref().map(|s| format!(", did you mean `{s}`?")).unwrap_or_default()
}
