//! YAML loaded with source positions: every [`Node`] knows the file, line and column it came
//! from, so any later error about a value (an unknown keyword, a bad type) can point at it.
//!
//! Parsing is saphyr-parser's event stream turned into our own tree ([`load`]). Plain scalars
//! follow the YAML 1.2 core schema ([`scalar`]): `yes`/`no`/`on`/`off` stay strings, and
//! [`parse_bool_str`] accepts them where a boolean is expected. [`emit`] writes JSON values
//! back as YAML.

pub mod emit;
mod error;
mod load;
mod node;
mod scalar;

#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;

pub use error::YamlError;
pub use node::{Node, NodeValue};
pub use scalar::{parse_bool_str, resolve_plain};

use crate::source::{SourceFile, SourceLoc};

/// Reads and parses a file; the first document is returned (a null node for an empty file).
pub fn parse_file(path: impl AsRef<Path>) -> Result<Node, YamlError> {
    parse_source(read(path.as_ref())?)
}

/// Parses an already loaded source; the first document (a null node when there is none).
pub fn parse_source(file: Arc<SourceFile>) -> Result<Node, YamlError> {
    let docs = load::parse_documents(&file)?;
    Ok(docs
        .into_iter()
        .next()
        .unwrap_or_else(|| Node { loc: SourceLoc::new(file, 0, 0), value: NodeValue::Null }))
}

/// Parses text that has no file behind it (tests, inline values); errors name it `<string>`.
pub fn parse_str(text: &str) -> Result<Node, YamlError> {
    parse_named("<string>", text)
}

/// Parses text that has no file behind it; `name` is what errors show as the file name
/// (`-e` values, `--host` answers of an inventory script).
pub fn parse_named(name: &str, text: &str) -> Result<Node, YamlError> {
    parse_source(SourceFile::new(name, text.to_string()))
}

/// Every document of a multi-document source (`---` separated), in order.
pub fn parse_all(file: Arc<SourceFile>) -> Result<Vec<Node>, YamlError> {
    load::parse_documents(&file)
}

/// Reads a file into a [`SourceFile`], with the error naming the path.
pub fn read(path: &Path) -> Result<Arc<SourceFile>, YamlError> {
    SourceFile::read(path).map_err(|source| YamlError::Read { path: path.display().to_string(), source })
}
