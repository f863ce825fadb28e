//! Errors found while loading a playbook: each points at the file, line and column.

use crate::source::{SourceError, SourceLoc};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PlaybookError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    At(Box<SourceError>),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Yaml(#[from] crate::yaml::YamlError),
    #[error("cannot read playbook `{path}`: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl PlaybookError {
    /// An error at `loc`, with a short label under the caret.
    pub fn at(loc: &SourceLoc, message: impl Into<String>, label: impl Into<String>) -> PlaybookError {
        PlaybookError::At(Box::new(SourceError::new(loc, message, label)))
    }

    pub fn with_help(self, help: Option<String>) -> PlaybookError {
        match (self, help) {
            (PlaybookError::At(e), Some(h)) => PlaybookError::At(Box::new(e.with_help(h))),
            (other, _) => other,
        }
    }
}

/// The error as text with its source excerpt and caret, no colour: for errors found while a
/// run is under way (a role or included file loaded late), which travel inside a result.
pub fn render(e: &PlaybookError) -> String {
    let mut out = String::new();
    let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
    if handler.render_report(&mut out, e).is_err() {
        return e.to_string();
    }
    out
}
