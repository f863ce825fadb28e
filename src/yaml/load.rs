//! Builds [`Node`] trees from saphyr-parser's event stream: positions on every node, anchors,
//! aliases and `<<` merge keys resolved.

use std::collections::HashMap;
use std::sync::Arc;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

use super::scalar::resolve_plain;
use super::{Node, NodeValue, YamlError};
use crate::source::{SourceFile, SourceLoc};

/// Every document of the file, in order. An empty file has none.
pub fn parse_documents(file: &Arc<SourceFile>) -> Result<Vec<Node>, YamlError> {
    let offsets = Offsets::new(&file.text);
    let mut builder =
        Builder { file, offsets: &offsets, stack: Vec::new(), anchors: HashMap::new(), docs: Vec::new() };
    for item in Parser::new_from_str(&file.text) {
        let (event, span) = item.map_err(|e| {
            let m = e.marker();
            // An error at the end of the file is shown on its last character, so the line and
            // the marker are still printed.
            let end = file.text.trim_end().len();
            let at = offsets.byte(m.index()).min(end.saturating_sub(1));
            let loc = SourceLoc::new(file.clone(), at, 1);
            YamlError::syntax(&loc, format!("invalid YAML: {}", e.info()))
        })?;
        builder.event(event, span)?;
    }
    Ok(builder.docs)
}

/// saphyr counts positions in characters; miette wants bytes.
struct Offsets {
    /// Byte offset of each character, or empty when the text is ASCII (index == byte).
    bytes: Vec<usize>,
    len: usize,
}

impl Offsets {
    fn new(text: &str) -> Offsets {
        let bytes = if text.is_ascii() { Vec::new() } else { text.char_indices().map(|(i, _)| i).collect() };
        Offsets { bytes, len: text.len() }
    }

    fn byte(&self, char_index: usize) -> usize {
        if self.bytes.is_empty() {
            char_index.min(self.len)
        } else {
            self.bytes.get(char_index).copied().unwrap_or(self.len)
        }
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        anchor: usize,
        start: usize,
    },
    Map {
        pairs: Vec<(Node, Node)>,
        key: Option<Node>,
        key_is_merge: bool,
        merges: Vec<Node>,
        anchor: usize,
        start: usize,
    },
}

struct Builder<'a> {
    file: &'a Arc<SourceFile>,
    offsets: &'a Offsets,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    docs: Vec<Node>,
}

impl Builder<'_> {
    fn loc(&self, start: usize, end: usize) -> SourceLoc {
        SourceLoc::new(self.file.clone(), start, end.saturating_sub(start))
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), YamlError> {
        let start = self.offsets.byte(span.start.index());
        let end = self.offsets.byte(span.end.index());
        let (node, is_merge_key) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let value = scalar_value(&text, style, tag.as_deref());
                let merge = style == ScalarStyle::Plain && tag.is_none() && text == "<<";
                let node = Node { loc: self.loc(start, end), value };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                (node, merge)
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id) else {
                    return Err(YamlError::syntax(&self.loc(start, end), "this alias refers to no anchor"));
                };
                // The alias keeps its own position, so errors point where it is used.
                (Node { loc: self.loc(start, end), value: target.value.clone() }, false)
            }
            Event::SequenceStart(anchor, _) => {
                self.stack.push(Frame::Seq { items: Vec::new(), anchor, start });
                return Ok(());
            }
            Event::MappingStart(anchor, _) => {
                self.stack.push(Frame::Map {
                    pairs: Vec::new(),
                    key: None,
                    key_is_merge: false,
                    merges: Vec::new(),
                    anchor,
                    start,
                });
                return Ok(());
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq { items, anchor, start }) => {
                        (Node { loc: self.loc(start, end.max(start)), value: NodeValue::Seq(items) }, anchor)
                    }
                    Some(Frame::Map { pairs, merges, anchor, start, .. }) => {
                        let loc = self.loc(start, end.max(start));
                        let pairs = merge_pairs(pairs, merges)?;
                        (Node { loc, value: NodeValue::Map(pairs) }, anchor)
                    }
                    None => return Err(YamlError::syntax(&self.loc(start, end), "unbalanced collection")),
                };
                if anchor > 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                (node, false)
            }
            Event::DocumentStart(_) => {
                self.anchors.clear();
                return Ok(());
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => return Ok(()),
        };
        self.add(node, is_merge_key);
        Ok(())
    }

    /// Puts a finished node into its parent (or makes it a document).
    fn add(&mut self, node: Node, is_merge_key: bool) {
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { pairs, key, key_is_merge, merges, .. }) => match key.take() {
                None => {
                    *key = Some(node);
                    *key_is_merge = is_merge_key;
                }
                Some(k) => {
                    if std::mem::take(key_is_merge) {
                        merges.push(node);
                    } else {
                        pairs.push((k, node));
                    }
                }
            },
        }
    }
}

/// A tagged or quoted scalar is a string; `!!int`-style core tags force their type.
fn scalar_value(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> NodeValue {
    if let Some(tag) = tag {
        let core = tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!";
        return match (core, tag.suffix.as_str()) {
            (true, "null") => NodeValue::Null,
            (true, "bool" | "int" | "float") => match resolve_plain(text) {
                v @ (NodeValue::Bool(_) | NodeValue::Int(_) | NodeValue::Float(_)) => v,
                _ => NodeValue::Str(text.to_string()),
            },
            // `!!str`, Ansible's `!unsafe` and `!vault`, and unknown tags: keep the text.
            _ => NodeValue::Str(text.to_string()),
        };
    }
    if style == ScalarStyle::Plain { resolve_plain(text) } else { NodeValue::Str(text.to_string()) }
}

/// Applies `<<` merge keys and removes duplicate keys the way PyYAML does (Ansible's YAML
/// reader): merged keys come first, the mapping's own keys win, and among merged mappings the
/// earlier one in the list wins. A duplicate key keeps its first position and its last value.
fn merge_pairs(pairs: Vec<(Node, Node)>, merges: Vec<Node>) -> Result<Vec<(Node, Node)>, YamlError> {
    let mut merged: Vec<(Node, Node)> = Vec::new();
    for m in merges {
        match m.value {
            NodeValue::Map(inner) => merged.extend(inner),
            NodeValue::Seq(items) => {
                let mut maps = Vec::new();
                for item in items {
                    match item.value {
                        NodeValue::Map(inner) => maps.push(inner),
                        _ => return Err(merge_error(&item.loc)),
                    }
                }
                for inner in maps.into_iter().rev() {
                    merged.extend(inner);
                }
            }
            _ => return Err(merge_error(&m.loc)),
        }
    }
    merged.extend(pairs);
    Ok(dedupe(merged))
}

fn merge_error(loc: &SourceLoc) -> YamlError {
    YamlError::syntax(loc, "a merge key `<<` needs a mapping or a list of mappings")
}

fn dedupe(pairs: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
    let mut out: Vec<(Node, Node)> = Vec::with_capacity(pairs.len());
    let mut index: HashMap<String, usize> = HashMap::new();
    for (k, v) in pairs {
        let Some(id) = key_id(&k.value) else {
            out.push((k, v));
            continue;
        };
        match index.get(&id) {
            Some(&i) => {
                if let Some(slot) = out.get_mut(i) {
                    slot.1 = v;
                }
            }
            None => {
                index.insert(id, out.len());
                out.push((k, v));
            }
        }
    }
    out
}

/// An identity for scalar keys (collections as keys are rare and never deduplicated).
fn key_id(v: &NodeValue) -> Option<String> {
    match v {
        NodeValue::Null => Some("n".into()),
        NodeValue::Bool(b) => Some(format!("b{b}")),
        NodeValue::Int(i) => Some(format!("i{i}")),
        NodeValue::Float(f) => Some(format!("f{f}")),
        NodeValue::Str(s) => Some(format!("s{s}")),
        NodeValue::Seq(_) | NodeValue::Map(_) => None,
    }
}
