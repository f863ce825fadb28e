//! Errors from loading an inventory or selecting hosts in it.

use crate::source::{SourceError, SourceLoc};
use crate::yaml::YamlError;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum InventoryError {
    /// A mistake at a known spot of an inventory file (INI line, YAML node).
    #[error(transparent)]
    #[diagnostic(transparent)]
    At(Box<SourceError>),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Yaml(#[from] YamlError),
    #[error("cannot read inventory source `{path}`: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("inventory source `{0}` does not exist")]
    #[diagnostic(help(
        "pass a file, a directory, an executable script or a comma-separated host list like `a,b,`"
    ))]
    NotFound(String),
    #[error("inventory script `{path}` failed: {message}")]
    Script { path: String, message: String },
    #[error("{0}")]
    Invalid(String),
    #[error("invalid host pattern `{pattern}`: {message}")]
    Pattern { pattern: String, message: String },
    #[error("no hosts matched `{pattern}`")]
    #[diagnostic(help("`baton inventory --graph` shows the hosts and groups the inventory defines"))]
    NoHostsMatched {
        pattern: String,
        /// "Could not match supplied host pattern" warnings gathered on the way.
        warnings: Vec<String>,
    },
    #[error("unknown host `{0}`")]
    UnknownHost(String),
    #[error("unknown group `{0}`")]
    #[diagnostic(help("--graph takes the name of a group (the default is `all`)"))]
    UnknownGroup(String),
    #[error("cannot read limit file `{path}`: {source}")]
    LimitFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl InventoryError {
    pub(crate) fn at(
        loc: &SourceLoc,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> InventoryError {
        InventoryError::At(Box::new(SourceError::new(loc, message, label)))
    }

    pub(crate) fn at_with_help(
        loc: &SourceLoc,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> InventoryError {
        InventoryError::At(Box::new(SourceError::new(loc, message, label).with_help(help)))
    }

    pub(crate) fn pattern(pattern: &str, message: impl Into<String>) -> InventoryError {
        InventoryError::Pattern { pattern: pattern.to_string(), message: message.into() }
    }
}
