use serde_json::json;

use super::emit::to_yaml;
use super::*;

fn parse(text: &str) -> Node {
    parse_str(text).unwrap()
}

#[test]
fn scalars_and_collections_become_json() {
    let n = parse("a: 1\nb: [x, 'yes', no]\nc: {d: ~, e: 1.5}\nf: \"true\"\ng: true\n");
    assert_eq!(
        n.to_json(),
        json!({"a": 1, "b": ["x", "yes", "no"], "c": {"d": null, "e": 1.5}, "f": "true", "g": true})
    );
}

#[test]
fn key_order_is_kept() {
    let n = parse("z: 1\na: 2\nm: 3\n");
    let keys: Vec<_> = n.as_map().unwrap().iter().map(|(k, _)| k.as_str().unwrap()).collect();
    assert_eq!(keys, ["z", "a", "m"]);
}

#[test]
fn positions_point_at_values() {
    let n = parse("top:\n  key: value\n");
    let v = n.get("top").unwrap().get("key").unwrap();
    assert_eq!(v.loc.line_col(), (2, 8));
    assert_eq!(v.loc.len, 5);
    let k = &n.get("top").unwrap().as_map().unwrap()[0].0;
    assert_eq!(k.loc.short(), "<string>:2:3");
}

#[test]
fn positions_are_bytes_in_non_ascii_text() {
    let n = parse("é: ü\nb: x\n");
    let v = n.get("b").unwrap();
    assert_eq!(v.loc.offset, "é: ü\nb: ".len());
    assert_eq!(v.loc.line_col(), (2, 4));
}

#[test]
fn anchors_aliases_and_merge_keys() {
    let n = parse("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n  z: 4\nlist: [&a hi, *a]\n");
    assert_eq!(n.get("other").unwrap().to_json(), json!({"x": 1, "y": 3, "z": 4}));
    assert_eq!(n.get("list").unwrap().to_json(), json!(["hi", "hi"]));
}

#[test]
fn merge_list_earlier_mapping_wins() {
    let n = parse("a: &a {k: a, only_a: 1}\nb: &b {k: b, only_b: 2}\nc:\n  <<: [*a, *b]\n");
    assert_eq!(n.get("c").unwrap().to_json(), json!({"k": "a", "only_a": 1, "only_b": 2}));
}

#[test]
fn quoted_merge_key_is_a_plain_key() {
    let n = parse("a: &a {k: 1}\nc: {'<<': *a}\n");
    assert_eq!(n.get("c").unwrap().to_json(), json!({"<<": {"k": 1}}));
}

#[test]
fn bad_merge_value_is_an_error() {
    let err = parse_str("c:\n  <<: 3\n").unwrap_err();
    assert!(err.to_string().contains("merge key"), "{err}");
    assert_eq!(err.location(), Some("<string>:2:7"));
}

#[test]
fn duplicate_keys_last_value_wins() {
    let n = parse("a: 1\nb: 2\na: 3\n");
    assert_eq!(n.to_json(), json!({"a": 3, "b": 2}));
    assert_eq!(n.as_map().unwrap().len(), 2);
}

#[test]
fn syntax_errors_point_at_the_line() {
    let err = parse_named("bad.yml", "a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
    let loc = err.location().unwrap();
    assert!(loc.starts_with("bad.yml:"), "{loc}");
    let err = parse_named("bad.yml", "a: 1\n  b: 2\n").unwrap_err();
    assert_eq!(err.location(), Some("bad.yml:2:4"));
    assert!(err.to_string().contains("invalid YAML"), "{err}");
}

#[test]
fn unknown_alias_is_an_error() {
    let err = parse_str("a: *nope\n").unwrap_err();
    assert!(err.location().is_some(), "{err}");
}

#[test]
fn documents() {
    let file = crate::source::SourceFile::new("m.yml", "---\na: 1\n---\nb: 2\n".to_string());
    let docs = parse_all(file.clone()).unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(parse_source(file).unwrap().to_json(), json!({"a": 1}));
    assert!(parse_str("").unwrap().is_null());
    assert!(parse_str("# only a comment\n").unwrap().is_null());
}

#[test]
fn tags() {
    let n = parse("a: !!str 12\nb: !unsafe '{{ x }}'\nc: !!int '7'\nd: !!float 1\n");
    assert_eq!(n.to_json(), json!({"a": "12", "b": "{{ x }}", "c": 7, "d": 1}));
}

#[test]
fn non_string_keys_become_strings_in_json() {
    let n = parse("1: a\ntrue: b\n~: c\n");
    assert_eq!(n.to_json(), json!({"1": "a", "true": "b", "null": "c"}));
}

#[test]
fn block_scalars() {
    let n = parse("a: |\n  line1\n  line2\nb: >\n  folded\n  text\n");
    assert_eq!(n.to_json(), json!({"a": "line1\nline2\n", "b": "folded text\n"}));
}

#[test]
fn node_helpers() {
    let n = parse("s: x\nb: yes\ni: 3\nf: 2.5\nl: [1]\n");
    assert_eq!(n.get("s").unwrap().as_str(), Some("x"));
    assert_eq!(n.get("b").unwrap().as_bool(), Some(true));
    assert_eq!(n.get("i").unwrap().as_i64(), Some(3));
    assert_eq!(n.get("f").unwrap().as_f64(), Some(2.5));
    assert_eq!(n.get("l").unwrap().as_seq().unwrap().len(), 1);
    assert_eq!(n.get("l").unwrap().kind(), "a list");
    assert!(n.get("missing").is_none());
}

fn round_trip(v: serde_json::Value) {
    for indent in [2, 4] {
        let text = to_yaml(&v, indent);
        let back = parse_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}")).to_json();
        assert_eq!(back, v, "indent {indent}:\n{text}");
    }
}

#[test]
fn emitter_round_trips() {
    round_trip(json!({"a": 1, "b": "two", "c": [1, 2.5, true, null], "d": {"e": {"f": []}, "g": {}}}));
    round_trip(json!([{"a": 1, "b": [1, [2, 3]]}, [], {}, [[{"x": "y"}]]]));
    round_trip(
        json!({"tricky": ["yes", "no", "on", "NO", "true", "null", "~", "", " pad", "pad ", "1", "0x1f",
        "1.5", "1e3", ".inf", "a: b", "a #b", "#c", "- d", "[e]", "{f}", "*g", "&h", "!i", "|j", ">k", "'l'", "\"m\"",
        "%n", "@o", "`p", "multi\nline", "tab\there", "back\\slash", "ctrl\u{1}", "é ü", "---", "<<", "key:", "2024-01-01",
        "1_000", "0777", "1:20", "=", "?", ":", "-"]}),
    );
    round_trip(json!({"": 1, "a key": 2, "yes": 3, "1": 4, "x: y": 5}));
    round_trip(json!(1.0e20));
    round_trip(json!(-0.5));
    round_trip(json!("plain"));
    round_trip(json!({}));
    round_trip(json!([]));
    round_trip(json!(null));
}

#[test]
fn emitter_layout() {
    let v = json!({"a": 1, "b": [1, {"c": 2, "d": 3}], "e": {"f": "yes"}, "g": {}, "h": 1.0});
    assert_eq!(to_yaml(&v, 2), "a: 1\nb:\n  - 1\n  - c: 2\n    d: 3\ne:\n  f: 'yes'\ng: {}\nh: 1.0\n");
    assert_eq!(to_yaml(&json!([[1, 2], 3]), 2), "- - 1\n  - 2\n- 3\n");
}
