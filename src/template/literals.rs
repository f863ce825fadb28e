//! Ansible keeps backslashes in Jinja string literals as written (`'\d+'` is a regex, `'\1'`
//! a back-reference, `'a\nb'` four characters), while minijinja processes escapes. Before
//! compiling, every backslash inside a string literal is doubled so minijinja's unescaping
//! gives back exactly the text the user wrote.

use std::borrow::Cow;

#[derive(Clone, Copy)]
enum State {
    Text,
    Block(&'static str),
    Comment,
    Str(char, &'static str),
}

/// Rewrites string literals inside `{{ }}` / `{% %}` (or everywhere, for a bare expression
/// when `is_expression`) so they keep their backslashes.
pub fn keep_backslashes(src: &str, is_expression: bool) -> Cow<'_, str> {
    if !src.contains('\\') {
        return Cow::Borrowed(src);
    }
    let mut out = String::with_capacity(src.len() + 8);
    let mut state = if is_expression { State::Block("") } else { State::Text };
    let mut chars = src.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let rest = &src[i..];
        match state {
            State::Text => {
                if rest.starts_with("{{") || rest.starts_with("{%") || rest.starts_with("{#") {
                    state = match rest.as_bytes().get(1) {
                        Some(b'{') => State::Block("}}"),
                        Some(b'%') => State::Block("%}"),
                        _ => State::Comment,
                    };
                    out.push_str(&rest[..2]);
                    chars.next();
                    continue;
                }
                out.push(c);
            }
            State::Comment => {
                if rest.starts_with("#}") {
                    state = State::Text;
                    out.push_str("#}");
                    chars.next();
                    continue;
                }
                out.push(c);
            }
            State::Block(end) => {
                if !end.is_empty() && rest.starts_with(end) {
                    state = State::Text;
                    out.push_str(end);
                    chars.next();
                    continue;
                }
                if c == '\'' || c == '"' {
                    state = State::Str(c, end);
                }
                out.push(c);
            }
            State::Str(quote, end) => {
                if c == '\\' {
                    out.push_str("\\\\");
                    match chars.peek().map(|&(_, n)| n) {
                        Some(n) if n == quote => {
                            out.push('\\');
                            out.push(n);
                            chars.next();
                        }
                        Some('\\') => {
                            out.push_str("\\\\");
                            chars.next();
                        }
                        _ => {}
                    }
                    continue;
                }
                if c == quote {
                    state = State::Block(end);
                }
                out.push(c);
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod unit {
    use super::keep_backslashes;

    #[test]
    fn doubles_backslashes_only_inside_literals() {
        assert_eq!(keep_backslashes(r"a\b {{ x }}", false), r"a\b {{ x }}");
        assert_eq!(
            keep_backslashes(r"{{ x | regex_search('\d+') }}", false),
            r"{{ x | regex_search('\\d+') }}"
        );
        assert_eq!(
            keep_backslashes(r#"{% if x is match("\w") %}\n{% endif %}"#, false),
            r#"{% if x is match("\\w") %}\n{% endif %}"#
        );
        assert_eq!(keep_backslashes(r"x is search('\d')", true), r"x is search('\\d')");
    }

    #[test]
    fn escaped_quote_and_double_backslash() {
        assert_eq!(keep_backslashes(r"{{ 'it\'s' }}", false), r"{{ 'it\\\'s' }}");
        assert_eq!(keep_backslashes(r"{{ '\\' }}", false), r"{{ '\\\\' }}");
    }
}
