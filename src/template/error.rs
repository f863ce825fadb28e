//! The one error type of the template layer, worded for users: it names the undefined variable
//! (or the variables of a cycle) and says where the template was used.

use crate::source::SourceLoc;

/// What went wrong, for callers that want to react to it (for example `failed_when` on an
/// undefined variable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateErrorKind {
    /// A variable (or attribute path such as `user.name`) has no value.
    Undefined(String),
    /// Variables that reference each other in a loop, in lookup order, first one repeated last.
    Cycle(Vec<String>),
    /// The template does not parse.
    Syntax,
    /// Anything else: a filter refused its input, a type mismatch, `mandatory`, ...
    Other,
}

/// A template failed to render or evaluate.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}{}", self.suffix())]
pub struct TemplateError {
    pub kind: TemplateErrorKind,
    /// The message without location, e.g. ``"`app_port` is undefined"``.
    pub message: String,
    /// Variables being resolved when the error happened, outermost first (`releases`, ...).
    pub via: Vec<String>,
    /// Where the template was used, as the caller described it (`host web1, task "install"`).
    pub at: Option<String>,
    #[source_code]
    pub src: Option<miette::NamedSource<String>>,
    #[label("here")]
    pub span: Option<miette::SourceSpan>,
}

impl TemplateError {
    pub fn new(kind: TemplateErrorKind, message: impl Into<String>) -> TemplateError {
        TemplateError { kind, message: message.into(), via: Vec::new(), at: None, src: None, span: None }
    }

    pub fn undefined(name: &str) -> TemplateError {
        TemplateError::new(TemplateErrorKind::Undefined(name.to_string()), format!("`{name}` is undefined"))
    }

    pub fn cycle(chain: Vec<String>) -> TemplateError {
        let message = format!("variables reference each other in a loop: `{}`", chain.join(" -> "));
        TemplateError::new(TemplateErrorKind::Cycle(chain), message)
    }

    /// A template that does not parse; `source` is shown whole.
    pub fn syntax(source: &str, detail: &str) -> TemplateError {
        TemplateError::new(
            TemplateErrorKind::Syntax,
            format!("invalid template `{}`: {detail}", source.trim()),
        )
    }

    pub fn other(message: impl Into<String>) -> TemplateError {
        TemplateError::new(TemplateErrorKind::Other, message)
    }

    /// Says where the template was used, e.g. `host web1, task "install", site.yml:12:7`.
    #[must_use]
    pub fn at(mut self, place: impl Into<String>) -> TemplateError {
        self.at = Some(place.into());
        self
    }

    /// Points the error at a spot in a source file: renders `file:line:col` and a caret.
    #[must_use]
    pub fn at_loc(mut self, loc: &SourceLoc) -> TemplateError {
        self.at = Some(match self.at.take() {
            Some(place) => format!("{place}, {}", loc.short()),
            None => loc.short(),
        });
        self.src = Some(loc.named_source());
        self.span = Some(loc.span());
        self
    }

    /// Records that this error happened while resolving variable `name`.
    #[must_use]
    pub fn via(mut self, name: &str) -> TemplateError {
        self.via.insert(0, name.to_string());
        self
    }

    /// The undefined variable's name, if that is what went wrong.
    pub fn undefined_name(&self) -> Option<&str> {
        match &self.kind {
            TemplateErrorKind::Undefined(name) => Some(name),
            _ => None,
        }
    }

    fn suffix(&self) -> String {
        let mut out = String::new();
        if !self.via.is_empty() {
            let via: Vec<String> = self.via.iter().map(|v| format!("`{v}`")).collect();
            out.push_str(&format!(" (while resolving {})", via.join(" -> ")));
        }
        if let Some(at) = &self.at {
            out.push_str(&format!(" ({at})"));
        }
        out
    }

    /// Turns a minijinja error into ours. `source` is the template text the error is about,
    /// used to name the undefined expression from the error's span.
    pub fn from_minijinja(err: &minijinja::Error, source: &str) -> TemplateError {
        // An error from a lazily resolved variable travels inside minijinja's error as its source.
        let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
        while let Some(c) = cause {
            if let Some(inner) = c.downcast_ref::<TemplateError>() {
                return inner.clone_bare();
            }
            cause = c.source();
        }
        match err.kind() {
            minijinja::ErrorKind::UndefinedError => {
                let name = err
                    .range()
                    .and_then(|r| filtered_operand(source, r.start).or_else(|| with_path_prefix(source, r)))
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .unwrap_or(source.trim());
                TemplateError::undefined(strip_braces(name))
            }
            minijinja::ErrorKind::SyntaxError => {
                TemplateError::syntax(source, err.detail().unwrap_or("invalid syntax"))
            }
            minijinja::ErrorKind::UnknownFilter => {
                TemplateError::other(format!("unknown filter `{}`", unknown_name(err)))
            }
            minijinja::ErrorKind::UnknownTest => {
                TemplateError::other(format!("unknown test `{}`", unknown_name(err)))
            }
            kind => {
                let message = match err.detail() {
                    Some(detail) => detail.to_string(),
                    None => kind.to_string(),
                };
                TemplateError::other(message)
            }
        }
    }

    /// A copy without the miette source (which is not `Clone`).
    pub fn clone_bare(&self) -> TemplateError {
        TemplateError {
            kind: self.kind.clone(),
            message: self.message.clone(),
            via: self.via.clone(),
            at: self.at.clone(),
            src: None,
            span: None,
        }
    }

    /// Wraps this error into a minijinja error so it can cross a lazy lookup and come out whole.
    pub fn into_minijinja(self) -> minijinja::Error {
        let kind = match self.kind {
            TemplateErrorKind::Undefined(_) => minijinja::ErrorKind::UndefinedError,
            _ => minijinja::ErrorKind::InvalidOperation,
        };
        minijinja::Error::new(kind, self.message.clone()).with_source(self)
    }
}

/// The name in minijinja's "filter x is unknown" detail.
fn unknown_name(err: &minijinja::Error) -> String {
    let detail = err.detail().unwrap_or_default();
    let name = detail.split_whitespace().nth(1).unwrap_or(detail);
    name.to_string()
}

/// For an error spanned on a filter name (`x | mandatory`), the operand before the pipe.
fn filtered_operand(source: &str, start: usize) -> Option<&str> {
    let before = source.get(..start)?.trim_end();
    let before = before.strip_suffix('|')?.trim_end();
    let begin = before
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_alphanumeric() || "_.[]'\"".contains(*c)))
        .map_or(0, |(i, c)| i + c.len_utf8());
    Some(&before[begin..])
}

/// The spanned text, extended back over the variable path it continues (`.y.z` -> `x.y.z`).
fn with_path_prefix(source: &str, r: std::ops::Range<usize>) -> Option<&str> {
    let text = source.get(r.clone())?;
    if !text.starts_with(['.', '[']) {
        return Some(text);
    }
    let before = source.get(..r.start)?;
    let begin = before
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_alphanumeric() || "_.[]'\"".contains(*c)))
        .map_or(0, |(i, c)| i + c.len_utf8());
    source.get(begin..r.end)
}

fn strip_braces(s: &str) -> &str {
    let s = s.trim();
    let s = s.strip_prefix("{{").and_then(|s| s.strip_suffix("}}")).unwrap_or(s);
    s.trim().trim_matches('-').trim()
}

#[cfg(test)]
mod unit {
    use super::*;
    use crate::source::SourceFile;

    #[test]
    fn names_variable_and_place() {
        let e = TemplateError::undefined("app_port").at("host web1, task \"install\"");
        assert_eq!(e.to_string(), "`app_port` is undefined (host web1, task \"install\")");
    }

    #[test]
    fn via_chain_is_shown() {
        let e = TemplateError::undefined("app_root").via("releases").via("current");
        assert_eq!(e.to_string(), "`app_root` is undefined (while resolving `current` -> `releases`)");
    }

    #[test]
    fn source_loc_gives_file_line_col() {
        let f = SourceFile::new("site.yml", "- debug:\n    msg: \"{{ x }}\"\n".to_string());
        let e = TemplateError::undefined("x").at_loc(&SourceLoc::new(f, 18, 9));
        assert_eq!(e.to_string(), "`x` is undefined (site.yml:2:10)");
        assert!(e.span.is_some());
    }
}
