//! Ansible idioms as users write them in YAML, rendered end to end through `Templater`.

use baton::template::Templater;
use minijinja::Value;
use serde_json::json;

fn render(src: &str) -> serde_json::Value {
    let t = Templater::new();
    let ctx = Value::from_serialize(
        json!({"ver": "app-1.2.3", "items": [{"n": "a", "on": true}, {"n": "b", "on": false}]}),
    );
    match t.render_value(&json!(src), &ctx) {
        Ok(v) => v,
        Err(e) => panic!("{src}: {e}"),
    }
}

#[test]
fn backreference_written_with_one_backslash() {
    // YAML `"{{ ver | regex_replace('app-(.*)', '\\1') }}"` reaches Jinja as `'\1'`.
    assert_eq!(render(r"{{ ver | regex_replace('app-(.*)', '\1') }}"), json!("1.2.3"));
}

#[test]
fn backslashes_in_literals_stay_as_written() {
    // Pinned against ansible-core 2.19: Jinja string literals keep their backslashes, so
    // `"\\1"` is a literal backslash and `1`, and `'a\nb'` is four characters.
    assert_eq!(render(r#"{{ ver | regex_replace("app-(.*)", "\\1") }}"#), json!("\\1"));
    assert_eq!(render(r"{{ 'a\nb' | length }}"), json!(4));
    assert_eq!(render(r"{{ ver | regex_search('\d+') }}"), json!("1"));
    assert_eq!(render(r"{{ ver is search('\d\.\d') }}"), json!(true));
}

#[test]
fn select_and_map_chain() {
    assert_eq!(render("{{ items | selectattr('on') | map(attribute='n') | list }}"), json!(["a"]));
    assert_eq!(render("{{ items | map(attribute='n') | join(',') }}"), json!("a,b"));
}
