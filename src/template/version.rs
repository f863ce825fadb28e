//! Version comparison for the `version` test, with Ansible's two schemes:
//! `loose` (distutils' LooseVersion: numbers and letter runs compared piecewise, so
//! `1.2 < 1.2.0` and `1.0a > 1.0`) and `strict` (StrictVersion: `1.2 == 1.2.0`, optional
//! `a1`/`b2` pre-release).

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Num(u64),
    Word(String),
}

fn loose_parts(v: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut chars = v.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut n = String::new();
            while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                n.push(d);
                chars.next();
            }
            parts.push(Part::Num(n.parse().unwrap_or(u64::MAX)));
        } else if c == '.' {
            chars.next();
        } else {
            let mut w = String::new();
            while let Some(d) = chars.peek().copied().filter(|d| !d.is_ascii_digit() && *d != '.') {
                w.push(d);
                chars.next();
            }
            parts.push(Part::Word(w));
        }
    }
    parts
}

/// LooseVersion comparison; comparing a number with a word is an error, as in Python 3.
pub fn compare_loose(a: &str, b: &str) -> Result<Ordering, String> {
    let (pa, pb) = (loose_parts(a), loose_parts(b));
    for (x, y) in pa.iter().zip(pb.iter()) {
        let ord = match (x, y) {
            (Part::Num(x), Part::Num(y)) => x.cmp(y),
            (Part::Word(x), Part::Word(y)) => x.cmp(y),
            _ => return Err(format!("cannot compare versions `{a}` and `{b}`: a number against a word")),
        };
        if ord != Ordering::Equal {
            return Ok(ord);
        }
    }
    Ok(pa.len().cmp(&pb.len()))
}

type Strict = ((u64, u64, u64), Option<(char, u64)>);

fn parse_strict(v: &str) -> Result<Strict, String> {
    let bad = || format!("invalid version number `{v}` for strict comparison");
    let (main, pre) = match v.find(['a', 'b']) {
        Some(i) => (&v[..i], Some(&v[i..])),
        None => (v, None),
    };
    let nums: Vec<u64> =
        main.split('.').map(|p| p.parse::<u64>().map_err(|_| bad())).collect::<Result<_, _>>()?;
    let triple = match nums.as_slice() {
        [a, b] => (*a, *b, 0),
        [a, b, c] => (*a, *b, *c),
        _ => return Err(bad()),
    };
    let pre = match pre {
        None => None,
        Some(p) => {
            let kind = p.chars().next().ok_or_else(bad)?;
            Some((kind, p[1..].parse::<u64>().map_err(|_| bad())?))
        }
    };
    Ok((triple, pre))
}

/// StrictVersion comparison: a pre-release sorts before its release.
pub fn compare_strict(a: &str, b: &str) -> Result<Ordering, String> {
    let (va, vb) = (parse_strict(a)?, parse_strict(b)?);
    Ok(va.0.cmp(&vb.0).then_with(|| match (va.1, vb.1) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => x.cmp(&y),
    }))
}

/// Applies an Ansible version operator (`lt`, `<`, `ge`, `==`, ...) to an ordering.
pub fn apply_operator(op: &str, ord: Ordering) -> Result<bool, String> {
    Ok(match op {
        "==" | "=" | "eq" => ord == Ordering::Equal,
        "!=" | "<>" | "ne" => ord != Ordering::Equal,
        "<" | "lt" => ord == Ordering::Less,
        "<=" | "le" => ord != Ordering::Greater,
        ">" | "gt" => ord == Ordering::Greater,
        ">=" | "ge" => ord != Ordering::Less,
        other => return Err(format!("invalid version operator `{other}`")),
    })
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn loose_like_distutils() {
        assert_eq!(compare_loose("1.2.10", "1.2.9"), Ok(Ordering::Greater));
        assert_eq!(compare_loose("1.0a", "1.0"), Ok(Ordering::Greater));
        assert_eq!(compare_loose("1.2", "1.2.0"), Ok(Ordering::Less));
        assert_eq!(compare_loose("1.2", "1.10"), Ok(Ordering::Less));
        assert!(compare_loose("a", "1.10").is_err());
    }

    #[test]
    fn strict_like_distutils() {
        assert_eq!(compare_strict("1.2", "1.2.0"), Ok(Ordering::Equal));
        assert_eq!(compare_strict("1.2a1", "1.2"), Ok(Ordering::Less));
        assert_eq!(compare_strict("1.2b1", "1.2a3"), Ok(Ordering::Greater));
        assert!(compare_strict("1", "1.0").is_err());
    }
}
