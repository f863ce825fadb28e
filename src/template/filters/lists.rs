//! List filters Ansible defines beyond (or differently from) minijinja: `flatten`, `zip`,
//! `sum` with `start`/`attribute`, `min`/`max` with `attribute`, and the set filters.

use minijinja::value::{Kwargs, Rest};
use minijinja::{Environment, Error, State, Value};

use super::fail;

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("flatten", flatten);
    env.add_filter("zip", zip);
    env.add_filter("sum", sum);
    env.add_filter("min", min);
    env.add_filter("max", max);
    env.add_filter("union", union);
    env.add_filter("intersect", intersect);
    env.add_filter("difference", difference);
    env.add_filter("symmetric_difference", symmetric_difference);
}

fn items(value: &Value) -> Result<Vec<Value>, Error> {
    Ok(value.try_iter()?.collect())
}

/// Ansible's `flatten(levels=None, skip_nulls=True)`: nested lists spliced in, `None` dropped.
fn flatten(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let levels: Option<i64> = kwargs.get("levels")?;
    let skip_nulls: Option<bool> = kwargs.get("skip_nulls")?;
    kwargs.assert_all_used()?;
    let mut out = Vec::new();
    flatten_into(value, levels, skip_nulls.unwrap_or(true), &mut out)?;
    Ok(Value::from(out))
}

fn flatten_into(
    value: &Value,
    levels: Option<i64>,
    skip_nulls: bool,
    out: &mut Vec<Value>,
) -> Result<(), Error> {
    for item in value.try_iter()? {
        let null_like = item.is_none() || matches!(item.as_str(), Some("None" | "null"));
        if skip_nulls && null_like {
            continue;
        }
        let is_list = matches!(item.kind(), minijinja::value::ValueKind::Seq);
        match levels {
            _ if !is_list => out.push(item),
            Some(n) if n <= 1 => out.extend(item.try_iter()?),
            Some(n) => flatten_into(&item, Some(n - 1), skip_nulls, out)?,
            None => flatten_into(&item, None, skip_nulls, out)?,
        }
    }
    Ok(())
}

/// Python's `zip`: lists of one item from each input, as long as the shortest.
fn zip(value: &Value, others: Rest<Value>) -> Result<Value, Error> {
    let mut lists = vec![items(value)?];
    for other in others.iter() {
        lists.push(items(other)?);
    }
    let len = lists.iter().map(Vec::len).min().unwrap_or(0);
    Ok(Value::from(
        (0..len)
            .map(|i| Value::from(lists.iter().map(|l| l[i].clone()).collect::<Vec<_>>()))
            .collect::<Vec<_>>(),
    ))
}

/// Jinja's `sum(attribute=None, start=0)`; a list `start` concatenates lists (`| sum(start=[])`).
fn sum(state: &State, value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let attribute: Option<String> = kwargs.get("attribute")?;
    let start: Option<Value> = kwargs.get("start")?;
    kwargs.assert_all_used()?;
    let mut total = start.unwrap_or(Value::from(0));
    for item in value.try_iter()? {
        let item = match &attribute {
            Some(attr) => get_path(&item, attr)?,
            None => item,
        };
        total =
            state.env().compile_expression("a + b")?.eval(minijinja::context! { a => total, b => item })?;
    }
    Ok(total)
}

/// Looks up `a.b.0`-style attribute paths as Jinja's `attribute=` does.
pub(crate) fn get_path(value: &Value, path: &str) -> Result<Value, Error> {
    let mut current = value.clone();
    for part in path.split('.') {
        current = match part.parse::<i64>() {
            Ok(i) if current.kind() == minijinja::value::ValueKind::Seq => {
                current.get_item(&Value::from(i))?
            }
            _ => current.get_attr(part)?,
        };
    }
    Ok(current)
}

fn extreme(value: &Value, kwargs: Kwargs, want_max: bool) -> Result<Value, Error> {
    let attribute: Option<String> = kwargs.get("attribute")?;
    let case_sensitive: Option<bool> = kwargs.get("case_sensitive")?;
    kwargs.assert_all_used()?;
    let key = |v: &Value| -> Result<Value, Error> {
        let k = match &attribute {
            Some(a) => get_path(v, a)?,
            None => v.clone(),
        };
        Ok(match (case_sensitive.unwrap_or(false), k.as_str()) {
            (false, Some(s)) => Value::from(s.to_lowercase()),
            _ => k,
        })
    };
    let mut best: Option<(Value, Value)> = None;
    for item in value.try_iter()? {
        let k = key(&item)?;
        let better = match &best {
            None => true,
            Some((bk, _)) => {
                if want_max {
                    k > *bk
                } else {
                    k < *bk
                }
            }
        };
        if better {
            best = Some((k, item));
        }
    }
    Ok(best.map_or(Value::UNDEFINED, |(_, v)| v))
}

fn min(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    extreme(value, kwargs, false)
}

fn max(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    extreme(value, kwargs, true)
}

fn unique_push(out: &mut Vec<Value>, v: Value) {
    if !out.contains(&v) {
        out.push(v);
    }
}

fn union(a: &Value, b: &Value) -> Result<Value, Error> {
    let mut out = Vec::new();
    for v in items(a)?.into_iter().chain(items(b)?) {
        unique_push(&mut out, v);
    }
    Ok(Value::from(out))
}

fn intersect(a: &Value, b: &Value) -> Result<Value, Error> {
    let other = items(b)?;
    let mut out = Vec::new();
    for v in items(a)?.into_iter().filter(|v| other.contains(v)) {
        unique_push(&mut out, v);
    }
    Ok(Value::from(out))
}

fn difference(a: &Value, b: &Value) -> Result<Value, Error> {
    let other = items(b)?;
    let mut out = Vec::new();
    for v in items(a)?.into_iter().filter(|v| !other.contains(v)) {
        unique_push(&mut out, v);
    }
    Ok(Value::from(out))
}

fn symmetric_difference(a: &Value, b: &Value) -> Result<Value, Error> {
    let (left, right) = (items(a)?, items(b)?);
    let mut out = Vec::new();
    for v in left.iter().filter(|v| !right.contains(v)).chain(right.iter().filter(|v| !left.contains(v))) {
        unique_push(&mut out, v.clone());
    }
    if out.is_empty() && left.is_empty() && right.is_empty() {
        return Err(fail("nothing to compare"));
    }
    Ok(Value::from(out))
}

#[cfg(test)]
mod unit {
    use crate::template::filters::eval;
    use serde_json::json;

    #[test]
    fn flatten_levels_and_nulls() {
        assert_eq!(eval("[1,[2,[3,[4]]]] | flatten(levels=1)"), json!([1, 2, [3, [4]]]));
        assert_eq!(eval("[1,[2,[3,[4]]]] | flatten"), json!([1, 2, 3, 4]));
        assert_eq!(eval("[1, none, [none, 2]] | flatten"), json!([1, 2]));
        assert_eq!(eval("[1, none] | flatten(skip_nulls=false)"), json!([1, null]));
    }

    #[test]
    fn zip_stops_at_shortest() {
        assert_eq!(eval("[1,2,3] | zip(['a','b']) | list"), json!([[1, "a"], [2, "b"]]));
    }

    #[test]
    fn sum_with_start_and_attribute() {
        assert_eq!(eval("[1,2,3] | sum"), json!(6));
        assert_eq!(eval("[1,2,3] | sum(start=10)"), json!(16));
        assert_eq!(eval("[{'a':1},{'a':2}] | sum(attribute='a')"), json!(3));
        assert_eq!(eval("[[1],[2,3]] | sum(start=[])"), json!([1, 2, 3]));
        assert_eq!(eval("[1.5, 1] | sum"), json!(2.5));
    }

    #[test]
    fn min_max() {
        assert_eq!(eval("[2,1,3] | min"), json!(1));
        assert_eq!(eval("[1,2] | max"), json!(2));
        assert_eq!(eval("['b','a'] | min"), json!("a"));
        assert_eq!(eval("['b','A','c'] | max"), json!("c"));
        assert_eq!(eval("[{'a':3},{'a':2}] | max(attribute='a')"), json!({"a": 3}));
        assert_eq!(eval("[{'a':3},{'a':2}] | min(attribute='a')"), json!({"a": 2}));
    }

    #[test]
    fn set_filters_keep_order() {
        assert_eq!(eval("[1,2,2,3] | union([3,4])"), json!([1, 2, 3, 4]));
        assert_eq!(eval("[1,2,3] | intersect([3,2])"), json!([2, 3]));
        assert_eq!(eval("[1,2,3] | difference([2])"), json!([1, 3]));
        assert_eq!(eval("[1,2] | symmetric_difference([2,3])"), json!([1, 3]));
    }

    #[test]
    fn builtins_that_already_match() {
        assert_eq!(eval("[3,1,2,1] | unique"), json!([3, 1, 2]));
        assert_eq!(eval("['a','A','b'] | unique"), json!(["a", "b"]));
        assert_eq!(eval("['b','A','c'] | sort"), json!(["A", "b", "c"]));
        assert_eq!(eval("['b','A','c'] | sort(case_sensitive=true)"), json!(["A", "b", "c"]));
        assert_eq!(eval("[3,1] | sort(reverse=true)"), json!([3, 1]));
        assert_eq!(eval("[{'a':3},{'a':2}] | sort(attribute='a')"), json!([{"a": 2}, {"a": 3}]));
        assert_eq!(eval("[1,2] | join(',')"), json!("1,2"));
        assert_eq!(eval("[1,2] | length"), json!(2));
        assert_eq!(eval("[1,2] | count"), json!(2));
        assert_eq!(eval("[1,2] | first"), json!(1));
        assert_eq!(eval("[1,2] | last"), json!(2));
        assert_eq!(eval("[1,2] | reverse | list"), json!([2, 1]));
        assert_eq!(eval("[1,2,3] | select('gt', 1) | list"), json!([2, 3]));
        assert_eq!(eval("[1,2,3] | reject('eq', 1) | list"), json!([2, 3]));
        assert_eq!(eval("[{'a':1},{'a':2}] | selectattr('a', 'equalto', 2) | list"), json!([{"a": 2}]));
        assert_eq!(eval("[{'a':1},{'b':2}] | rejectattr('a', 'defined') | list"), json!([{"b": 2}]));
        assert_eq!(eval("[{'a':1},{'a':2}] | map(attribute='a') | list"), json!([1, 2]));
        assert_eq!(eval("['a','b'] | map('upper') | list"), json!(["A", "B"]));
        assert_eq!(eval("['1','2'] | map('int') | list"), json!([1, 2]));
        assert_eq!(eval("range(3) | list"), json!([0, 1, 2]));
        assert_eq!(eval("range(1, 6, 2) | list"), json!([1, 3, 5]));
    }
}
