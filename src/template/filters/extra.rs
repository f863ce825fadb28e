//! Smaller Ansible filters that playbooks lean on: `extract` (with `map`, to read other
//! hosts' vars), `path_join`, `product`, `subelements`, `zip_longest`, and the math trio
//! `log`, `pow`, `root`.

use minijinja::value::{Kwargs, Rest, ValueKind};
use minijinja::{Environment, Error, Value};

use super::fail;

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("extract", extract);
    env.add_filter("path_join", path_join);
    env.add_filter("product", product);
    env.add_filter("subelements", subelements);
    env.add_filter("zip_longest", zip_longest);
    env.add_filter("log", |x: f64, base: Option<f64>| match base {
        Some(b) => x.ln() / b.ln(),
        None => x.ln(),
    });
    env.add_filter("pow", |x: f64, y: f64| x.powf(y));
    env.add_filter("root", |x: f64, n: Option<f64>| match n {
        Some(n) if n != 2.0 => x.powf(1.0 / n),
        _ => x.sqrt(),
    });
}

/// `key | extract(container, morekeys)`: `container[key]`, then each of `morekeys` in turn.
fn extract(key: &Value, container: &Value, morekeys: Option<Value>) -> Result<Value, Error> {
    let mut value = container.get_item(key)?;
    if let Some(more) = morekeys {
        let keys: Vec<Value> =
            if more.kind() == ValueKind::Seq { more.try_iter()?.collect() } else { vec![more] };
        for k in keys {
            value = value.get_item(&k)?;
        }
    }
    Ok(value)
}

/// Python's `os.path.join`: an absolute part restarts the path.
fn path_join(parts: &Value) -> Result<String, Error> {
    let mut out = String::new();
    for p in parts.try_iter()? {
        let p = p.as_str().map_or_else(|| p.to_string(), str::to_string);
        if p.starts_with('/') || out.is_empty() {
            out = p;
        } else {
            if !out.ends_with('/') {
                out.push('/');
            }
            out.push_str(&p);
        }
    }
    Ok(out)
}

/// `itertools.product` of the input and the other lists.
fn product(value: &Value, others: Rest<Value>) -> Result<Value, Error> {
    let mut acc: Vec<Vec<Value>> = value.try_iter()?.map(|v| vec![v]).collect();
    for other in others.iter() {
        let items: Vec<Value> = other.try_iter()?.collect();
        acc = acc
            .into_iter()
            .flat_map(|prefix| items.iter().map(move |i| [prefix.clone(), vec![i.clone()]].concat()))
            .collect();
    }
    Ok(Value::from(acc.into_iter().map(Value::from).collect::<Vec<_>>()))
}

/// `users | subelements('keys')`: `[user, key]` for every key of every user.
fn subelements(value: &Value, path: &str, kwargs: Kwargs) -> Result<Value, Error> {
    let skip_missing: Option<bool> = kwargs.get("skip_missing")?;
    kwargs.assert_all_used()?;
    let mut out = Vec::new();
    for item in value.try_iter()? {
        let mut sub = item.clone();
        for part in path.split('.') {
            sub = sub.get_attr(part)?;
        }
        if sub.is_undefined() {
            if skip_missing.unwrap_or(false) {
                continue;
            }
            return Err(fail(format!("subelements: `{path}` is missing in an item")));
        }
        for s in sub.try_iter()? {
            out.push(Value::from(vec![item.clone(), s]));
        }
    }
    Ok(Value::from(out))
}

/// `itertools.zip_longest`, padding with `fillvalue` (`None`).
fn zip_longest(value: &Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let fill: Option<Value> = kwargs.get("fillvalue")?;
    kwargs.assert_all_used()?;
    let fill = fill.unwrap_or(Value::from(()));
    let mut lists: Vec<Vec<Value>> = vec![value.try_iter()?.collect()];
    for o in others.iter() {
        lists.push(o.try_iter()?.collect());
    }
    let len = lists.iter().map(Vec::len).max().unwrap_or(0);
    let rows = (0..len).map(|i| {
        Value::from(lists.iter().map(|l| l.get(i).cloned().unwrap_or(fill.clone())).collect::<Vec<_>>())
    });
    Ok(Value::from(rows.collect::<Vec<_>>()))
}

#[cfg(test)]
mod unit {
    use crate::template::filters::eval;
    use serde_json::json;

    #[test]
    fn extract_with_map() {
        assert_eq!(eval("['a','b'] | map('extract', {'a': 1, 'b': 2}) | list"), json!([1, 2]));
        assert_eq!(eval("['a'] | map('extract', {'a': {'x': 5}}, 'x') | list"), json!([5]));
        assert_eq!(eval("['a'] | map('extract', {'a': {'x': {'y': 6}}}, ['x', 'y']) | list"), json!([6]));
    }

    #[test]
    fn path_join_like_os_path() {
        assert_eq!(eval("['/etc', 'a', 'b.txt'] | path_join"), json!("/etc/a/b.txt"));
        assert_eq!(eval("['/etc', '/abs', 'b'] | path_join"), json!("/abs/b"));
    }

    #[test]
    fn combinatorics() {
        assert_eq!(
            eval("[1,2] | product(['a','b']) | list"),
            json!([[1, "a"], [1, "b"], [2, "a"], [2, "b"]])
        );
        assert_eq!(
            eval("[{'n': 'u1', 'keys': ['k1','k2']}] | subelements('keys')"),
            json!([[{"n": "u1", "keys": ["k1", "k2"]}, "k1"], [{"n": "u1", "keys": ["k1", "k2"]}, "k2"]])
        );
        assert_eq!(eval("[1,2] | zip_longest(['a']) | list"), json!([[1, "a"], [2, null]]));
        assert_eq!(eval("[1,2] | zip_longest(['a'], fillvalue='z') | list"), json!([[1, "a"], [2, "z"]]));
    }

    #[test]
    fn math() {
        assert_eq!(eval("8 | log(2)"), json!(3.0));
        assert_eq!(eval("2 | pow(3)"), json!(8.0));
        assert_eq!(eval("27 | root(3)"), json!(3.0));
        assert_eq!(eval("16 | root"), json!(4.0));
    }
}
