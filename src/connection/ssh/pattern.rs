//! OpenSSH host patterns (`ssh_config` `Host` lines, known_hosts host fields): `*` and `?`
//! wildcards, comma or space separated lists, and `!` negation that vetoes a match.

/// Whether `text` matches a single glob (`*` any run, `?` one character); case-insensitive
/// like OpenSSH host matching.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether `host` matches a list of patterns: at least one positive pattern matches and no
/// negated (`!pattern`) one does.
pub fn list_match<'a>(patterns: impl IntoIterator<Item = &'a str>, host: &str) -> bool {
    let mut matched = false;
    for pattern in patterns {
        if let Some(negated) = pattern.strip_prefix('!') {
            if glob_match(negated, host) {
                return false;
            }
        } else if glob_match(pattern, host) {
            matched = true;
        }
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(glob_match("*", "anything"));
        assert!(glob_match("web-*.example.com", "web-01.example.com"));
        assert!(glob_match("db?", "DB1"));
        assert!(!glob_match("db?", "db12"));
        assert!(glob_match("*.a*b", "x.aXXb"));
        assert!(!glob_match("*.a*b", "x.aXXc"));
        assert!(glob_match("[10.0.0.1]:2222", "[10.0.0.1]:2222"));
    }

    #[test]
    fn negation_vetoes() {
        assert!(list_match(["web*", "!web-bastion"], "web-01"));
        assert!(!list_match(["web*", "!web-bastion"], "web-bastion"));
        assert!(!list_match(["!web-bastion"], "db"));
    }
}
