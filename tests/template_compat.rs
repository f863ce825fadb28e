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

#[test]
fn chained_undefined_is_an_error_naming_the_missing_step() {
    // Known difference: Ansible gives `false` / the default for a two-level undefined chain
    // (`x.y.z is defined`, `x.y.z | default(5)`); minijinja's strict mode refuses it.
    let t = Templater::new();
    let ctx = Value::from_serialize(json!({"x": {"a": 1}}));
    let err = |e: &str| t.eval_expr(e, &ctx).unwrap_err().to_string();
    assert_eq!(err("x.y.z is defined"), "`x.y` is undefined");
    assert_eq!(err("x.y.z | default(5)"), "`x.y` is undefined");
    assert_eq!(err("undef.y | default(5)"), "`undef` is undefined");
    assert_eq!(t.eval_expr("x.y is defined", &ctx).unwrap(), json!(false));
    assert_eq!(t.eval_expr("x.y | default(5)", &ctx).unwrap(), json!(5));
}

#[test]
fn undefined_inside_a_literal_list_is_reported() {
    let t = Templater::new();
    let e = t.render_value(&json!("{{ [1, nope] }}"), &Value::from(())).unwrap_err();
    assert_eq!(e.to_string(), "`nope` is undefined");
}
