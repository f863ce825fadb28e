//! How a template file is parsed: Ansible's `trim_blocks`, `lstrip_blocks`,
//! `keep_trailing_newline` and `newline_sequence`, from the `template` module's parameters and
//! from the file's own first line (`#jinja2: trim_blocks: False, lstrip_blocks: True`), which
//! wins, as in Ansible.

/// The settings a template file may change. The default is Ansible's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOptions {
    pub trim_blocks: bool,
    pub lstrip_blocks: bool,
    pub keep_trailing_newline: bool,
    /// `\n`, `\r\n` or `\r` (the rendered text's line endings); `None` is `\n`.
    pub newline_sequence: Option<String>,
    /// Lines the header took off the top of the file, so errors still name the file's lines.
    pub header_lines: usize,
}

impl Default for FileOptions {
    fn default() -> FileOptions {
        FileOptions {
            trim_blocks: true,
            lstrip_blocks: false,
            keep_trailing_newline: true,
            newline_sequence: None,
            header_lines: 0,
        }
    }
}

const HEADER: &str = "#jinja2:";

/// Header keys Ansible knows that change the delimiters; Baton does not support them.
const DELIMITERS: &[&str] = &[
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "line_statement_prefix",
    "line_comment_prefix",
];

impl FileOptions {
    /// Applies a `#jinja2:` first line, if `text` has one, and returns the text after it.
    /// Errors are worded for the user and say what is wrong with the line.
    pub fn apply_header<'a>(&mut self, text: &'a str) -> Result<&'a str, String> {
        let Some(rest) = text.strip_prefix(HEADER) else {
            return Ok(text);
        };
        let Some((line, body)) = rest.split_once('\n') else {
            return Err(format!("missing newline after the `{HEADER}` header line"));
        };
        for pair in line.split(',') {
            if pair.trim().is_empty() {
                return Err(format!("empty pair in the `{HEADER}` header line"));
            }
            let Some((key, value)) = pair.split_once(':') else {
                return Err(format!(
                    "missing `:` between key and value in `{HEADER}` pair `{}`",
                    pair.trim()
                ));
            };
            let (key, value) = (key.trim(), value.trim());
            match key {
                "trim_blocks" => self.trim_blocks = python_bool(key, value)?,
                "lstrip_blocks" => self.lstrip_blocks = python_bool(key, value)?,
                "keep_trailing_newline" => self.keep_trailing_newline = python_bool(key, value)?,
                "newline_sequence" => self.newline_sequence = Some(python_str(key, value)?),
                k if DELIMITERS.contains(&k) => {
                    return Err(format!(
                        "`{k}` in the `{HEADER}` header line (custom delimiters) is not supported"
                    ));
                }
                k => return Err(format!("unknown `{HEADER}` header key `{k}`")),
            }
        }
        self.header_lines = 1;
        Ok(body)
    }
}

/// A Python boolean literal, as `ast.literal_eval` reads the header's values.
fn python_bool(key: &str, value: &str) -> Result<bool, String> {
    match value {
        "True" => Ok(true),
        "False" => Ok(false),
        _ => Err(format!("`{key}` in the `{HEADER}` header line must be True or False, not `{value}`")),
    }
}

/// A quoted Python string literal with the escapes a newline sequence needs.
fn python_str(key: &str, value: &str) -> Result<String, String> {
    let bad = || format!("`{key}` in the `{HEADER}` header line must be a quoted string, not `{value}`");
    let quote = value.chars().next().filter(|q| *q == '\'' || *q == '"').ok_or_else(bad)?;
    let inner = value
        .strip_prefix(quote)
        .and_then(|v| v.strip_suffix(quote))
        .filter(|_| value.len() >= 2)
        .ok_or_else(bad)?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(c @ ('\\' | '\'' | '"')) => out.push(c),
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_line_sets_options_and_is_removed() {
        let mut o = FileOptions::default();
        let body = o
            .apply_header("#jinja2: trim_blocks: False, lstrip_blocks:True ,newline_sequence:'\\r\\n'\nA\n")
            .unwrap();
        assert_eq!(body, "A\n");
        assert_eq!(
            o,
            FileOptions {
                trim_blocks: false,
                lstrip_blocks: true,
                keep_trailing_newline: true,
                newline_sequence: Some("\r\n".into()),
                header_lines: 1,
            }
        );
        let mut o = FileOptions::default();
        assert_eq!(
            o.apply_header("# jinja2: trim_blocks: False\nA").unwrap(),
            "# jinja2: trim_blocks: False\nA"
        );
        assert_eq!(o, FileOptions::default(), "only the exact prefix is a header");
        assert_eq!(o.apply_header("#jinja2:keep_trailing_newline: False\n").unwrap(), "");
        assert!(!o.keep_trailing_newline);
    }

    #[test]
    fn a_bad_header_line_is_an_error_that_says_why() {
        for (text, want) in [
            ("#jinja2: trim_blocks: False", "missing newline"),
            ("#jinja2: trim_blocks: false\n", "must be True or False, not `false`"),
            ("#jinja2: trim_blocks False\n", "missing `:`"),
            ("#jinja2: trim_blocks: True,\n", "empty pair"),
            ("#jinja2: variable_start_string: '[['\n", "custom delimiters"),
            ("#jinja2: autoescape: True\n", "unknown `#jinja2:` header key `autoescape`"),
            ("#jinja2: newline_sequence: \\n\n", "quoted string"),
        ] {
            let err = FileOptions::default().apply_header(text).unwrap_err();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }
}
