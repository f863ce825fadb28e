//! Errors from reading YAML: each one points at the file, line and column it is about.

use crate::source::{SourceError, SourceLoc};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum YamlError {
    /// The text is not valid YAML (or uses an alias that was never anchored).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Syntax(Box<SourceError>),
    /// The YAML is valid but does not have the shape the caller asked for
    /// ([`crate::yaml::from_node`]).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(Box<SourceError>),
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A file with no document at all where one was required.
    #[error("`{path}` holds no YAML document")]
    Empty { path: String },
}

impl YamlError {
    pub(crate) fn syntax(loc: &SourceLoc, message: impl Into<String>) -> YamlError {
        YamlError::Syntax(Box::new(SourceError::new(loc, message, "here")))
    }

    /// `file:line:col` of the error, when it has one.
    pub fn location(&self) -> Option<&str> {
        match self {
            YamlError::Syntax(e) | YamlError::Invalid(e) => Some(&e.location),
            YamlError::Read { .. } | YamlError::Empty { .. } => None,
        }
    }
}
