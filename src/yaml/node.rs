//! The YAML tree: values with the place they were written.

use serde_json::Value as Json;

use crate::source::SourceLoc;

/// One YAML value and where it was written.
#[derive(Debug, Clone)]
pub struct Node {
    pub loc: SourceLoc,
    pub value: NodeValue,
}

/// A YAML value. Mappings keep their key order (and may have non-string keys, as YAML allows).
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// Nodes compare by value; where they were written does not matter.
impl PartialEq for Node {
    fn eq(&self, other: &Node) -> bool {
        self.value == other.value
    }
}

impl Node {
    /// The value of `key` in a mapping (string keys only); `None` for other nodes.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.iter().rev().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            NodeValue::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            NodeValue::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// A YAML boolean, or a string in one of Ansible's boolean spellings (`yes`, `off`, ...).
    pub fn as_bool(&self) -> Option<bool> {
        match &self.value {
            NodeValue::Bool(b) => Some(*b),
            NodeValue::Str(s) => super::parse_bool_str(s),
            NodeValue::Int(0) => Some(false),
            NodeValue::Int(1) => Some(true),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match &self.value {
            NodeValue::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// A float, or an integer read as one.
    pub fn as_f64(&self) -> Option<f64> {
        match &self.value {
            NodeValue::Float(f) => Some(*f),
            NodeValue::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, NodeValue::Null)
    }

    /// What kind of value this is, for messages like "expected a mapping, found a string".
    pub fn kind(&self) -> &'static str {
        self.value.kind()
    }

    /// A scalar as the text a user would read (keys of mappings, INI-style values); `None`
    /// for collections and null.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            NodeValue::Null | NodeValue::Seq(_) | NodeValue::Map(_) => None,
            NodeValue::Str(s) => Some(s.clone()),
            other => match scalar_json(other) {
                Json::String(s) => Some(s),
                j => Some(j.to_string()),
            },
        }
    }

    /// The value as JSON. Mapping keys become strings (`1` -> `"1"`, `true` -> `"true"`,
    /// null -> `"null"`, like Python's `json.dumps`); a later duplicate key overrides an earlier
    /// one. Infinite and NaN floats have no JSON form and become null.
    pub fn to_json(&self) -> Json {
        match &self.value {
            NodeValue::Seq(items) => Json::Array(items.iter().map(Node::to_json).collect()),
            NodeValue::Map(pairs) => {
                let mut m = serde_json::Map::with_capacity(pairs.len());
                for (k, v) in pairs {
                    m.insert(k.key_string(), v.to_json());
                }
                Json::Object(m)
            }
            scalar => scalar_json(scalar),
        }
    }

    /// The string a key becomes in JSON.
    pub fn key_string(&self) -> String {
        match &self.value {
            NodeValue::Null => "null".to_string(),
            NodeValue::Str(s) => s.clone(),
            NodeValue::Seq(_) | NodeValue::Map(_) => self.to_json().to_string(),
            other => match scalar_json(other) {
                Json::String(s) => s,
                j => j.to_string(),
            },
        }
    }
}

impl NodeValue {
    pub fn kind(&self) -> &'static str {
        match self {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Int(_) => "an integer",
            NodeValue::Float(_) => "a float",
            NodeValue::Str(_) => "a string",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }
}

fn scalar_json(v: &NodeValue) -> Json {
    match v {
        NodeValue::Bool(b) => Json::Bool(*b),
        NodeValue::Int(i) => Json::from(*i),
        NodeValue::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        NodeValue::Str(s) => Json::String(s.clone()),
        NodeValue::Null | NodeValue::Seq(_) | NodeValue::Map(_) => Json::Null,
    }
}
