//! Source files and positions inside them, shared by every loader.
//!
//! Every user-facing error about a file carries a [`SourceLoc`], which renders (through miette)
//! as `file:line:col`, the offending line and a caret under the spot.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A file's name (as the user should see it) and its whole text.
#[derive(Debug)]
pub struct SourceFile {
    pub name: String,
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    pub fn new(path: impl AsRef<Path>, text: String) -> Arc<SourceFile> {
        let path = path.as_ref().to_path_buf();
        Arc::new(SourceFile { name: path.display().to_string(), path, text })
    }

    /// Reads a file from disk; the error is the plain io error for the caller to wrap.
    pub fn read(path: impl AsRef<Path>) -> std::io::Result<Arc<SourceFile>> {
        let text = std::fs::read_to_string(path.as_ref())?;
        Ok(SourceFile::new(path, text))
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }

    /// Byte offset of a 1-based line and column (clamped to the text).
    pub fn offset_of(&self, line: usize, col: usize) -> usize {
        let mut offset = 0;
        for (i, l) in self.text.split_inclusive('\n').enumerate() {
            if i + 1 == line {
                let within: usize = l.chars().take(col.saturating_sub(1)).map(char::len_utf8).sum();
                return offset + within;
            }
            offset += l.len();
        }
        self.text.len()
    }
}

/// A spot in a source file: byte offset and length.
#[derive(Debug, Clone)]
pub struct SourceLoc {
    pub file: Arc<SourceFile>,
    pub offset: usize,
    pub len: usize,
}

impl SourceLoc {
    pub fn new(file: Arc<SourceFile>, offset: usize, len: usize) -> SourceLoc {
        SourceLoc { file, offset, len }
    }

    pub fn line_col(&self) -> (usize, usize) {
        self.file.line_col(self.offset)
    }

    /// `file:line:col`, for one-line messages (JSON output, logs).
    pub fn short(&self) -> String {
        let (line, col) = self.line_col();
        format!("{}:{line}:{col}", self.file.name)
    }

    /// The source text for miette, named after the file.
    pub fn named_source(&self) -> miette::NamedSource<String> {
        miette::NamedSource::new(self.file.name.clone(), self.file.text.clone())
    }

    /// The offending line with a caret under the column, for errors found at run time that
    /// travel inside a host's result (plain text, no colour):
    ///
    /// ```text
    /// pb.yml:6:7
    ///       debug: { msg: "{{ nope }}" }
    ///       ^ here
    /// ```
    pub fn excerpt(&self) -> String {
        let (line, col) = self.line_col();
        let text = self.file.text.lines().nth(line.saturating_sub(1)).unwrap_or_default();
        let pad: String =
            text.chars().take(col.saturating_sub(1)).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
        format!("{}\n{text}\n{pad}^ here", self.short())
    }

    pub fn span(&self) -> miette::SourceSpan {
        (self.offset, self.len.max(1)).into()
    }
}

impl std::fmt::Display for SourceLoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.short())
    }
}

/// An error that points into a source file; every loader's errors wrap one of these
/// so they render the same way.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
pub struct SourceError {
    pub message: String,
    #[source_code]
    pub src: miette::NamedSource<String>,
    #[label("{label}")]
    pub span: miette::SourceSpan,
    pub label: String,
    #[help]
    pub help: Option<String>,
    /// `file:line:col`, kept for plain rendering.
    pub location: String,
}

impl SourceError {
    pub fn new(loc: &SourceLoc, message: impl Into<String>, label: impl Into<String>) -> SourceError {
        SourceError {
            message: message.into(),
            src: loc.named_source(),
            span: loc.span(),
            label: label.into(),
            help: None,
            location: loc.short(),
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> SourceError {
        self.help = Some(help.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let f = SourceFile::new("x.yml", "a: 1\nbb: 2\n".to_string());
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(5), (2, 1));
        assert_eq!(f.line_col(8), (2, 4));
        assert_eq!(f.offset_of(2, 4), 8);
    }
}
