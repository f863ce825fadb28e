//! Splits an INI host line the way Ansible does (`shlex.split(line, comments=True)`, POSIX
//! mode): quotes are removed, `\` escapes outside single quotes, an unquoted `#` ends the line.

/// The line's words, or an error for an unclosed quote or a trailing backslash.
pub fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '#' => break,
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("no closing quotation".to_string()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        // Inside double quotes a backslash escapes only `"` and `\`.
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("no closing quotation".to_string()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("no closing quotation".to_string()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err("no escaped character".to_string()),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(line: &str) -> Vec<String> {
        split(line).unwrap()
    }

    #[test]
    fn quotes_are_removed() {
        assert_eq!(s(r#"h x='a b' y="c d" z=e"#), ["h", "x=a b", "y=c d", "z=e"]);
        assert_eq!(s(r#"h q="'quoted'""#), ["h", "q='quoted'"]);
        assert_eq!(s("h x=''"), ["h", "x="]);
    }

    #[test]
    fn escapes() {
        assert_eq!(s(r#"h x="a\"b" y='q\n' z=a\ b"#), ["h", "x=a\"b", "y=q\\n", "z=a b"]);
    }

    #[test]
    fn comments_end_the_line_even_inside_a_word() {
        assert_eq!(s("h x=a#b c"), ["h", "x=a"]);
        assert_eq!(s("h  # comment"), ["h"]);
        assert_eq!(s("h x='#not'"), ["h", "x=#not"]);
    }

    #[test]
    fn errors() {
        assert!(split("h x='a").is_err());
        assert!(split("h x=\\").is_err());
    }
}
