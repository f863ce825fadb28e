//! `serial`: how a play's hosts are split into batches, computed exactly as Ansible does.

use serde_json::Value;

/// One batch size from `serial`'s value: an integer, or a percentage of all the play's hosts
/// (rounded down, at least 1).
fn size(value: &Value, total: usize) -> Result<usize, String> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        other => {
            return Err(format!("`serial` must be a number, a percentage or a list of them, not `{other}`"));
        }
    };
    if let Some(pct) = text.strip_suffix('%') {
        let pct: f64 =
            pct.trim().parse().map_err(|_| format!("`serial` percentage `{text}` is not a number"))?;
        return Ok(((total as f64 * pct / 100.0) as usize).max(1));
    }
    let n: i64 = text.parse().map_err(|_| format!("`serial` value `{text}` is not a number"))?;
    Ok(if n <= 0 { total } else { n as usize })
}

/// Splits `hosts` into batches for `serial` (None: one batch of all). A list gives the sizes
/// in turn, its last size repeating until every host is in a batch.
pub fn batches(hosts: &[String], serial: Option<&Value>) -> Result<Vec<Vec<String>>, String> {
    let total = hosts.len();
    if total == 0 {
        return Ok(Vec::new());
    }
    let sizes: Vec<usize> = match serial {
        None | Some(Value::Null) => vec![total],
        Some(Value::Array(items)) if items.is_empty() => vec![total],
        Some(Value::Array(items)) => items.iter().map(|v| size(v, total)).collect::<Result<_, _>>()?,
        Some(v) => vec![size(v, total)?],
    };
    let mut out = Vec::new();
    let mut rest = hosts;
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i.min(sizes.len() - 1)].min(rest.len()).max(1);
        out.push(rest[..n].to_vec());
        rest = &rest[n..];
        i += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn hosts(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("h{i}")).collect()
    }

    fn sizes(n: usize, serial: Value) -> Vec<usize> {
        batches(&hosts(n), Some(&serial)).unwrap().iter().map(Vec::len).collect()
    }

    #[test]
    fn ansible_batch_sizes() {
        assert_eq!(sizes(10, json!(3)), [3, 3, 3, 1]);
        assert_eq!(sizes(10, json!("30%")), [3, 3, 3, 1]);
        assert_eq!(sizes(3, json!("10%")), [1, 1, 1]);
        assert_eq!(sizes(10, json!([1, "25%", "100%"])), [1, 2, 7]);
        assert_eq!(sizes(10, json!([1, 2])), [1, 2, 2, 2, 2, 1]);
        assert_eq!(sizes(4, json!(0)), [4]);
        assert_eq!(batches(&hosts(4), None).unwrap().len(), 1);
        assert!(batches(&hosts(4), Some(&json!("x%"))).is_err());
    }
}
