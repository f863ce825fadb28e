//! Host ranges: `web[01:20].example.com`, `db-[a:f]`, `node[1:10:2]`, expanded as Ansible's
//! `expand_hostname_range` does (zero padding from the start bound, letters over
//! `a..zA..Z`, several ranges in one name).

const LETTERS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Ansible's whole test for "this is a range": a `[` anywhere.
pub fn has_range(name: &str) -> bool {
    name.contains('[')
}

/// Expands every `[begin:end(:step)]` in `name`; a name without `[` is returned as is.
pub fn expand(name: &str) -> Result<Vec<String>, String> {
    let Some(open) = name.find('[') else {
        return Ok(vec![name.to_string()]);
    };
    let head = &name[..open];
    let rest = &name[open + 1..];
    let Some(close) = rest.find(']') else {
        return Err(format!("unclosed range in `{name}`"));
    };
    let spec = &rest[..close];
    let tail = &rest[close + 1..];
    if tail.contains(']') && !tail.contains('[') {
        return Err(format!("unexpected `]` in `{name}`"));
    }
    let mut out = Vec::new();
    for item in range_items(spec)? {
        out.extend(expand(&format!("{head}{item}{tail}"))?);
    }
    Ok(out)
}

/// The values of one `begin:end(:step)` range.
fn range_items(spec: &str) -> Result<Vec<String>, String> {
    let bounds: Vec<&str> = spec.split(':').collect();
    let (begin, end, step) = match bounds.as_slice() {
        [b, e] => (*b, *e, "1"),
        [b, e, s] => (*b, *e, *s),
        _ => return Err(format!("host range `[{spec}]` must be begin:end or begin:end:step")),
    };
    let begin = if begin.is_empty() { "0" } else { begin };
    if end.is_empty() {
        return Err(format!("host range `[{spec}]` must specify an end value"));
    }
    let step: usize =
        step.parse().map_err(|_| format!("host range step `{step}` is not a positive number"))?;
    if step == 0 {
        return Err(format!("host range `[{spec}]` has a zero step"));
    }
    let width = if begin.starts_with('0') && begin.len() > 1 {
        if begin.len() != end.len() {
            return Err(format!("host range `[{spec}]` must have begin and end of the same length"));
        }
        begin.len()
    } else {
        0
    };
    if let (Some(b), Some(e)) = (letter_index(begin), letter_index(end)) {
        if b > e {
            return Err(format!("host range `[{spec}]` must have begin <= end"));
        }
        return Ok(LETTERS[b..=e].chars().step_by(step).map(String::from).collect());
    }
    let number = |s: &str| {
        s.parse::<u64>()
            .map_err(|_| format!("host range `[{spec}]` mixes letters and numbers or is not a number"))
    };
    let (b, e) = (number(begin)?, number(end)?);
    if e.saturating_sub(b) > 100_000 {
        return Err(format!("host range `[{spec}]` is too large"));
    }
    Ok((b..=e).step_by(step).map(|n| format!("{n:0width$}")).collect())
}

fn letter_index(s: &str) -> Option<usize> {
    if s.chars().count() == 1 { LETTERS.find(s) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_with_padding() {
        assert_eq!(
            expand("web[01:03].example.com").unwrap(),
            ["web01.example.com", "web02.example.com", "web03.example.com"]
        );
        assert_eq!(expand("n[8:10]").unwrap(), ["n8", "n9", "n10"]);
        assert_eq!(expand("n[:2]").unwrap(), ["n0", "n1", "n2"]);
    }

    #[test]
    fn stride() {
        assert_eq!(expand("n[1:10:3]").unwrap(), ["n1", "n4", "n7", "n10"]);
        assert_eq!(expand("n[a:g:2]").unwrap(), ["na", "nc", "ne", "ng"]);
    }

    #[test]
    fn letters_span_both_cases() {
        assert_eq!(expand("db-[a:c]").unwrap(), ["db-a", "db-b", "db-c"]);
        assert_eq!(expand("x[y:B]").unwrap(), ["xy", "xz", "xA", "xB"]);
    }

    #[test]
    fn several_ranges() {
        assert_eq!(expand("r[1:2]-[a:b]").unwrap(), ["r1-a", "r1-b", "r2-a", "r2-b"]);
    }

    #[test]
    fn bad_ranges() {
        assert!(expand("n[1:]").unwrap_err().contains("end value"));
        assert!(expand("n[01:100]").unwrap_err().contains("same length"));
        assert!(expand("n[c:a]").unwrap_err().contains("begin <= end"));
        assert!(expand("n[a:5]").is_err());
        assert!(expand("n[1]").is_err());
        assert!(expand("n[1:2").is_err());
        assert!(expand("n[1:5:0]").is_err());
    }

    #[test]
    fn descending_numbers_give_nothing() {
        assert!(expand("n[5:1]").unwrap().is_empty());
    }
}
