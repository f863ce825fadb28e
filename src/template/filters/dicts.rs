//! Mapping filters: `dict2items`, `items2dict`, `combine` (with `recursive` and `list_merge`).

use minijinja::value::{Kwargs, Rest, ValueKind};
use minijinja::{Environment, Error, Value};
use serde_json::{Map, Value as Json};

use super::{fail, json_of};
use crate::template::convert::to_mj;

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("dict2items", dict2items);
    env.add_filter("items2dict", items2dict);
    env.add_filter("combine", combine);
    env.add_function("dict", dict);
}

/// Python's `dict()`: from key/value pairs (`dict(keys | zip(values))`), a mapping, and/or
/// keyword arguments.
fn dict(args: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let mut out = indexmap::IndexMap::new();
    if let Some(src) = args.first() {
        if src.kind() == ValueKind::Map {
            for k in src.try_iter()? {
                let v = src.get_item(&k)?;
                out.insert(k, v);
            }
        } else {
            for pair in src.try_iter()? {
                let kv: Vec<Value> = pair.try_iter()?.collect();
                match kv.as_slice() {
                    [k, v] => {
                        out.insert(k.clone(), v.clone());
                    }
                    _ => return Err(fail("dict() needs pairs of key and value")),
                }
            }
        }
    }
    for k in kwargs.args() {
        out.insert(Value::from(k), kwargs.get::<Value>(k)?);
    }
    Ok(Value::from_iter(out))
}

/// `{'a': 1} | dict2items` gives `[{'key': 'a', 'value': 1}]`.
fn dict2items(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let key_name: Option<String> = kwargs.get("key_name")?;
    let value_name: Option<String> = kwargs.get("value_name")?;
    kwargs.assert_all_used()?;
    if value.kind() != ValueKind::Map {
        return Err(fail(format!("dict2items requires a dictionary, got {}", value.kind())));
    }
    let (k, v) = (key_name.as_deref().unwrap_or("key"), value_name.as_deref().unwrap_or("value"));
    let mut out = Vec::new();
    for key in value.try_iter()? {
        let item = value.get_item(&key)?;
        out.push(Value::from_iter([(k, key), (v, item)]));
    }
    Ok(Value::from(out))
}

/// The reverse of `dict2items`.
fn items2dict(value: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    let key_name: Option<String> = kwargs.get("key_name")?;
    let value_name: Option<String> = kwargs.get("value_name")?;
    kwargs.assert_all_used()?;
    let (k, v) = (key_name.as_deref().unwrap_or("key"), value_name.as_deref().unwrap_or("value"));
    let mut out = Vec::new();
    for item in value.try_iter()? {
        let key = item.get_attr(k)?;
        let val = item.get_attr(v)?;
        if key.is_undefined() || val.is_undefined() {
            return Err(fail(format!("items2dict needs `{k}` and `{v}` in every item")));
        }
        out.push((key, val));
    }
    Ok(Value::from_iter(out))
}

/// Ansible's `combine(*dicts, recursive=False, list_merge='replace')`; later dicts win.
fn combine(value: &Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let recursive: Option<bool> = kwargs.get("recursive")?;
    let list_merge: Option<String> = kwargs.get("list_merge")?;
    kwargs.assert_all_used()?;
    let list_merge = list_merge.unwrap_or_else(|| "replace".to_string());
    if !["replace", "keep", "append", "prepend", "append_rp", "prepend_rp"].contains(&list_merge.as_str()) {
        return Err(fail(format!(
            "`list_merge` must be one of replace, keep, append, prepend, append_rp, prepend_rp, not `{list_merge}`"
        )));
    }
    let mut dicts = Vec::new();
    for v in std::iter::once(value).chain(others.iter()) {
        match json_of(v)? {
            Json::Array(items) => dicts.extend(items),
            other => dicts.push(other),
        }
    }
    let mut result = Map::new();
    for d in dicts {
        let Json::Object(d) = d else {
            return Err(fail(format!("combine expects dictionaries, got `{d}`")));
        };
        result = merge(result, d, recursive.unwrap_or(false), &list_merge);
    }
    Ok(to_mj(&Json::Object(result)))
}

/// Merges `y` into `x` the way Ansible's `merge_hash` does.
pub fn merge(
    mut x: Map<String, Json>,
    y: Map<String, Json>,
    recursive: bool,
    list_merge: &str,
) -> Map<String, Json> {
    for (key, y_val) in y {
        // Taken in place, so a merged key keeps its position (Python dicts keep order).
        let merged = match (x.get_mut(&key).map(std::mem::take), y_val) {
            (Some(Json::Object(xa)), Json::Object(ya)) if recursive => {
                Json::Object(merge(xa, ya, recursive, list_merge))
            }
            (Some(Json::Array(xa)), Json::Array(ya)) => Json::Array(merge_lists(xa, ya, list_merge)),
            (_, y_val) => y_val,
        };
        x.insert(key, merged);
    }
    x
}

fn merge_lists(x: Vec<Json>, y: Vec<Json>, list_merge: &str) -> Vec<Json> {
    match list_merge {
        "keep" => x,
        "append" => x.into_iter().chain(y).collect(),
        "prepend" => y.into_iter().chain(x).collect(),
        "append_rp" => x.into_iter().filter(|v| !y.contains(v)).chain(y.clone()).collect(),
        "prepend_rp" => {
            let rest: Vec<Json> = x.into_iter().filter(|v| !y.contains(v)).collect();
            y.into_iter().chain(rest).collect()
        }
        _ => y,
    }
}

#[cfg(test)]
mod unit {
    use crate::template::filters::{eval, eval_err};
    use serde_json::json;

    #[test]
    fn dict2items_and_back() {
        assert_eq!(
            eval("{'a': 1, 'b': 2} | dict2items"),
            json!([{"key": "a", "value": 1}, {"key": "b", "value": 2}])
        );
        assert_eq!(eval("{'a': 1} | dict2items(key_name='k', value_name='v')"), json!([{"k": "a", "v": 1}]));
        assert_eq!(eval("[{'k': 'a', 'v': 1}] | items2dict(key_name='k', value_name='v')"), json!({"a": 1}));
        assert_eq!(eval("{'z': 1, 'a': 2} | dict2items | items2dict"), json!({"z": 1, "a": 2}));
        assert!(eval_err("[1] | dict2items").contains("requires a dictionary"));
    }

    #[test]
    fn combine_like_ansible() {
        assert_eq!(eval("{'a':1} | combine({'b':2})"), json!({"a": 1, "b": 2}));
        assert_eq!(eval("{'a':{'x':1}} | combine({'a':{'y':2}})"), json!({"a": {"y": 2}}));
        assert_eq!(
            eval("{'a':{'x':1}} | combine({'a':{'y':2}}, recursive=true)"),
            json!({"a": {"x": 1, "y": 2}})
        );
        assert_eq!(eval("{'a':[1]} | combine({'a':[2]}, list_merge='append')"), json!({"a": [1, 2]}));
        assert_eq!(
            eval("{'a':[1,2]} | combine({'a':[2,3]}, list_merge='prepend_rp')"),
            json!({"a": [2, 3, 1]})
        );
        assert_eq!(eval("{'a':[1]} | combine({'a':[2]}, list_merge='keep')"), json!({"a": [1]}));
        assert_eq!(eval("{'a':1} | combine({'b':2}, {'a':3})"), json!({"a": 3, "b": 2}));
        assert_eq!(eval("[{'a':1}, {'b':2}] | combine"), json!({"a": 1, "b": 2}));
        assert!(eval_err("{} | combine({}, list_merge='bad')").contains("`bad`"));
    }

    #[test]
    fn dict_builtins() {
        assert_eq!(eval("{'a':1}.items() | list"), json!([["a", 1]]));
        assert_eq!(eval("dict(a=1)"), json!({"a": 1}));
        assert_eq!(eval("{'b':1,'a':2} | dictsort"), json!([["a", 2], ["b", 1]]));
    }
}
