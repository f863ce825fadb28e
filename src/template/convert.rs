//! Crossing between `serde_json::Value` (everywhere outside templates) and `minijinja::Value`.

use minijinja::Value;
use minijinja::value::ValueKind;

use super::error::{TemplateError, TemplateErrorKind};

/// A JSON value as a template value (maps keep their order).
pub fn to_mj(value: &serde_json::Value) -> Value {
    Value::from_serialize(value)
}

/// A template value as JSON. Undefined becomes an error naming `what`, so a half-undefined
/// structure never leaves the template layer silently.
pub fn to_json(value: &Value) -> Result<serde_json::Value, TemplateError> {
    Ok(match value.kind() {
        ValueKind::Undefined => {
            return Err(TemplateError::new(
                TemplateErrorKind::Undefined(String::new()),
                "the result holds an undefined value",
            ));
        }
        ValueKind::None => serde_json::Value::Null,
        ValueKind::Bool => serde_json::Value::Bool(value.is_true()),
        ValueKind::String => serde_json::Value::String(value.as_str().unwrap_or_default().to_string()),
        ValueKind::Number => number(value),
        ValueKind::Bytes => serde_json::Value::String(
            String::from_utf8_lossy(value.as_bytes().unwrap_or_default()).into_owned(),
        ),
        ValueKind::Seq | ValueKind::Iterable => {
            let iter = value.try_iter().map_err(|e| TemplateError::from_minijinja(&e, ""))?;
            serde_json::Value::Array(iter.map(|v| to_json(&v)).collect::<Result<_, _>>()?)
        }
        ValueKind::Map => {
            let mut map = serde_json::Map::new();
            let iter = value.try_iter().map_err(|e| TemplateError::from_minijinja(&e, ""))?;
            for key in iter {
                let item = value.get_item(&key).map_err(|e| TemplateError::from_minijinja(&e, ""))?;
                let key = match key.as_str() {
                    Some(s) => s.to_string(),
                    None => key.to_string(),
                };
                map.insert(key, to_json(&item)?);
            }
            serde_json::Value::Object(map)
        }
        ValueKind::Invalid => {
            return Err(match value.clone().try_iter() {
                Err(e) => TemplateError::from_minijinja(&e, ""),
                Ok(_) => TemplateError::other("invalid value"),
            });
        }
        _ => serde_json::Value::String(value.to_string()),
    })
}

fn number(value: &Value) -> serde_json::Value {
    if value.is_integer() {
        if let Ok(i) = i64::try_from(value.clone()) {
            return i.into();
        }
        if let Ok(u) = u64::try_from(value.clone()) {
            return u.into();
        }
    }
    match f64::try_from(value.clone()) {
        Ok(f) => serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, serde_json::Value::Number),
        Err(_) => serde_json::Value::String(value.to_string()),
    }
}

/// Looks up a possibly lazy value and turns an invalid one (a failed lazy resolution) into
/// the error it carries.
pub fn check(value: Value) -> Result<Value, minijinja::Error> {
    if value.kind() == ValueKind::Invalid {
        // Iterating an invalid value returns its error.
        value.try_iter()?;
    }
    Ok(value)
}

#[cfg(test)]
mod unit {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trip_keeps_types_and_order() {
        let v = json!({"z": 1, "a": [true, null, 1.5, "s"], "m": {"y": 2, "b": 3}});
        let back = to_json(&to_mj(&v)).unwrap();
        assert_eq!(back, v);
        let keys: Vec<_> = back.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["z", "a", "m"]);
    }

    #[test]
    fn undefined_is_an_error() {
        assert!(to_json(&Value::UNDEFINED).is_err());
    }
}
