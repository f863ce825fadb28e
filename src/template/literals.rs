//! Ansible keeps backslashes in Jinja string literals as written (`'\d+'` is a regex, `'\1'`
//! a back-reference, `'a\nb'` four characters), while minijinja processes escapes. Before
//! compiling, every backslash inside a string literal is doubled so minijinja's unescaping
//! gives back exactly the text the user wrote.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// `{% raw %}...{% endraw %}` (any whitespace control), whose inside is text to leave alone.
static RAW_BLOCK: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?s)\A\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}").ok());

/// Byte length of a raw block starting at the beginning of `rest`, if one starts there.
fn raw_block_len(rest: &str) -> Option<usize> {
    RAW_BLOCK.as_ref()?.find(rest).map(|m| m.end())
}

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
                if let Some(len) = raw_block_len(rest) {
                    out.push_str(&rest[..len]);
                    // Skip the block's characters (the first one is `c`, already taken).
                    let end = i + len;
                    while chars.peek().is_some_and(|&(j, _)| j < end) {
                        chars.next();
                    }
                    continue;
                }
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
    fn raw_blocks_are_left_alone() {
        assert_eq!(
            keep_backslashes(r"{% raw %}{{ '\d' }}{% endraw %}{{ '\d' }}", false),
            r"{% raw %}{{ '\d' }}{% endraw %}{{ '\\d' }}"
        );
        assert_eq!(
            keep_backslashes(r"{%- raw -%}'\x'{%- endraw -%}", false),
            r"{%- raw -%}'\x'{%- endraw -%}"
        );
    }

    #[test]
    fn escaped_quote_and_double_backslash() {
        assert_eq!(keep_backslashes(r"{{ 'it\'s' }}", false), r"{{ 'it\\\'s' }}");
        assert_eq!(keep_backslashes(r"{{ '\\' }}", false), r"{{ '\\\\' }}");
    }
}

/// Ansible prints nothing for `{{ 'x' if cond }}` when `cond` is false, while minijinja's
/// strict mode refuses to print the missing `else`. Gives every top-level inline `if` inside
/// `{{ }}` (or a bare expression) an explicit `else ''` when it has none.
pub fn close_inline_ifs(src: &str, is_expression: bool) -> Cow<'_, str> {
    if !src.contains("if") {
        return Cow::Borrowed(src);
    }
    if is_expression {
        return match needs_else(src) {
            true => Cow::Owned(format!("{src} else ''")),
            false => Cow::Borrowed(src),
        };
    }
    let mut out = String::with_capacity(src.len() + 16);
    let mut rest = src;
    let mut changed = false;
    while let Some(start) = rest.find("{{") {
        if let Some(raw_start) = rest.find("{%").filter(|&r| r < start)
            && let Some(len) = raw_block_len(&rest[raw_start..])
        {
            out.push_str(&rest[..raw_start + len]);
            rest = &rest[raw_start + len..];
            continue;
        }
        let Some(len) = block_len(&rest[start + 2..]) else { break };
        let inner = &rest[start + 2..start + 2 + len];
        out.push_str(&rest[..start + 2]);
        let (body, trim) = match inner.strip_suffix('-') {
            Some(b) => (b, "-"),
            None => (inner, ""),
        };
        if needs_else(body) {
            changed = true;
            out.push_str(body.trim_end());
            out.push_str(" else '' ");
            out.push_str(trim);
        } else {
            out.push_str(inner);
        }
        rest = &rest[start + 2 + len..];
    }
    if !changed {
        return Cow::Borrowed(src);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Length of a `{{ }}` block's inside, up to its `}}` outside string literals.
fn block_len(s: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => quote = Some(c),
            None if s[i..].starts_with("}}") => return Some(i),
            None => {}
        }
    }
    None
}

/// Whether an expression has more top-level `if` keywords than `else` keywords.
fn needs_else(expr: &str) -> bool {
    let (mut ifs, mut elses, mut depth) = (0usize, 0usize, 0i32);
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut word = String::new();
    let mut count = |word: &mut String, depth: i32| {
        if depth == 0 {
            match word.as_str() {
                "if" => ifs += 1,
                "else" => elses += 1,
                _ => {}
            }
        }
        word.clear();
    };
    for c in expr.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        count(&mut word, depth);
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
    }
    count(&mut word, depth);
    ifs > elses
}

#[cfg(test)]
mod inline_if {
    use super::close_inline_ifs;

    #[test]
    fn adds_else_only_where_missing() {
        assert_eq!(close_inline_ifs("a{{ 'x' if c }}b", false), "a{{ 'x' if c else '' }}b");
        assert_eq!(close_inline_ifs("{{ 'x' if c -}}", false), "{{ 'x' if c else '' -}}");
        assert_eq!(close_inline_ifs("{{ 'x' if c else 'y' }}", false), "{{ 'x' if c else 'y' }}");
        assert_eq!(close_inline_ifs("{{ 'if' ~ diff }}", false), "{{ 'if' ~ diff }}");
        assert_eq!(close_inline_ifs("{% if c %}{{ x }}{% endif %}", false), "{% if c %}{{ x }}{% endif %}");
        assert_eq!(close_inline_ifs("{{ f(a if b else c) }}", false), "{{ f(a if b else c) }}");
        assert_eq!(close_inline_ifs("'--force' if force", true), "'--force' if force else ''");
        assert_eq!(close_inline_ifs("a if b else c if d", true), "a if b else c if d else ''");
        assert_eq!(
            close_inline_ifs("{% raw %}{{ a if b }}{% endraw %}{{ c if d }}", false),
            "{% raw %}{{ a if b }}{% endraw %}{{ c if d else '' }}"
        );
    }
}
