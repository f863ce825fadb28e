//! Ansible's `parse_address`: splits `host:port` and `[host]:port` and tells whether a string
//! is a valid host name, IPv4 or IPv6 address (with ranges allowed), which decides whether a
//! trailing `:NN` is a port and whether a host pattern may be split on `:`.

use std::sync::LazyLock;

use regex::Regex;

static BRACKETED_HOSTPORT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^\[(.+)\]:([0-9]+)$").ok());
static HOSTPORT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$").ok());

const NUMERIC_RANGE: &str = r"\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]";
const HEX_RANGE: &str = r"\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]";
const ALNUM_RANGE: &str = r"\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]";

static IPV4: LazyLock<Option<Regex>> = LazyLock::new(|| {
    let c = format!(r"(?:[01]?[0-9]{{1,2}}|2[0-4][0-9]|25[0-5]|{NUMERIC_RANGE})");
    Regex::new(&format!(r"(?i)^(?:{c}\.){{3}}{c}$")).ok()
});

static IPV6: LazyLock<Option<Regex>> = LazyLock::new(|| {
    let c = format!(r"(?:[0-9a-f]{{1,4}}|{HEX_RANGE})");
    let alts = [
        format!(r"(?:{c}:){{7}}{c}"),
        format!(r"(?:{c}:){{1,6}}:"),
        format!(r"(?:{c}:)(?::{c}){{1,6}}"),
        format!(r"(?:{c}:){{2}}(?::{c}){{1,5}}"),
        format!(r"(?:{c}:){{3}}(?::{c}){{1,4}}"),
        format!(r"(?:{c}:){{4}}(?::{c}){{1,3}}"),
        format!(r"(?:{c}:){{5}}(?::{c}){{1,2}}"),
        format!(r"(?:{c}:){{6}}(?::{c})"),
        format!(r":(?::{c}){{1,6}}"),
        format!(r"{c}?::"),
        format!(r"(?:0:){{6}}(?:{c}\.){{3}}{c}"),
        format!(r"::(?:ffff:)?(?:{c}\.){{3}}{c}"),
        format!(r"(?:0:){{5}}ffff:(?:{c}\.){{3}}{c}"),
    ];
    Regex::new(&format!(r"(?i)^(?:{})$", alts.join("|"))).ok()
});

static RANGE_IN_LABEL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(&format!("(?i){ALNUM_RANGE}")).ok());

fn matches(re: &LazyLock<Option<Regex>>, s: &str) -> bool {
    re.as_ref().is_some_and(|r| r.is_match(s))
}

pub fn is_ipv4(s: &str) -> bool {
    matches(&IPV4, s)
}

pub fn is_ipv6(s: &str) -> bool {
    matches(&IPV6, s)
}

/// A DNS-style name: dot-separated labels of word characters and `-`, each starting with a
/// word character (or range) and not ending in `-` or `_`.
fn is_hostname(s: &str) -> bool {
    let Some(range) = RANGE_IN_LABEL.as_ref() else { return false };
    // A range counts as one word character; ranges hold no dots, so labels split cleanly.
    let flat = range.replace_all(s, "0");
    flat.split('.').all(|label| {
        let mut chars = label.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_alphanumeric() || c == '_');
        let rest_ok = label.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-');
        let last_ok = !label.ends_with(['-', '_']);
        first_ok && rest_ok && last_ok
    })
}

/// `(host, port)` when `address` is a valid host, IPv4 or IPv6 address with an optional
/// port (`h:22`, `1.2.3.4:22`, `[::1]:22`, `[h]:22`); `None` when it is not.
pub fn parse(address: &str) -> Option<(String, Option<u16>)> {
    let mut host = address;
    let mut port = None;
    for re in [&BRACKETED_HOSTPORT, &HOSTPORT] {
        if let Some(caps) = re.as_ref().and_then(|r| r.captures(host)) {
            let h = caps.get(1).map_or("", |m| m.as_str());
            port = Some(caps.get(2).map_or("", |m| m.as_str()).parse::<u16>().ok()?);
            host = h;
        }
    }
    (is_ipv4(host) || is_ipv6(host) || is_hostname(host)).then(|| (host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!(parse("web1:2222"), Some(("web1".into(), Some(2222))));
        assert_eq!(parse("10.0.0.1:22"), Some(("10.0.0.1".into(), Some(22))));
        assert_eq!(parse("[::1]:23"), Some(("::1".into(), Some(23))));
        assert_eq!(parse("web[01:03].x.com:22"), Some(("web[01:03].x.com".into(), Some(22))));
        assert_eq!(parse("web1"), Some(("web1".into(), None)));
    }

    #[test]
    fn ipv6_without_brackets_has_no_port() {
        assert_eq!(parse("fe80::1"), Some(("fe80::1".into(), None)));
        assert_eq!(parse("::1"), Some(("::1".into(), None)));
        assert_eq!(parse("2001:db8::1:2"), Some(("2001:db8::1:2".into(), None)));
    }

    #[test]
    fn invalid_names() {
        assert_eq!(parse("web-"), None);
        assert_eq!(parse("a b"), None);
        assert_eq!(parse("web:!db"), None);
        assert_eq!(parse("web*"), None);
        assert_eq!(parse("h:"), None);
        assert_eq!(parse("a:b"), None);
    }
}
