//! Behaviour of layered, lazily resolved host variables.

use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Value, json};

use super::*;
use crate::template::{TemplateErrorKind, Templater};

fn map(v: Value) -> VarMap {
    v.as_object().unwrap().clone().into_iter().collect()
}

fn host(vars: Value) -> HostVars {
    HostVars::new(Arc::new(Templater::new()), "web1.example.com").with_layer(Layer::Inventory, map(vars))
}

#[test]
fn lazy_chain_resolves() {
    let h = host(json!({
        "app_root": "/srv/app",
        "releases": "{{ app_root }}/releases",
        "current": "{{ releases }}/current",
        "ports": ["{{ base_port }}", "{{ base_port + 1 }}"],
        "base_port": 8000,
    }));
    assert_eq!(get(&h, "current").unwrap(), Some(json!("/srv/app/releases/current")));
    assert_eq!(get(&h, "ports").unwrap(), Some(json!([8000, 8001])));
    assert_eq!(get(&h, "nope").unwrap(), None);
    assert_eq!(h.render(&json!("{{ current }}/bin")).unwrap(), json!("/srv/app/releases/current/bin"));
}

#[test]
fn cycle_names_every_step() {
    let h = host(json!({"a": "{{ b }}", "b": "{{ c }}", "c": "x{{ a }}"}));
    let e = get(&h, "a").unwrap_err();
    assert_eq!(e.kind, TemplateErrorKind::Cycle(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    assert!(e.to_string().contains("`a -> b -> c -> a`"), "{e}");
    let h = host(json!({"me": "{{ me }}"}));
    assert!(h.render(&json!("{{ me }}")).unwrap_err().to_string().contains("`me -> me`"));
}

#[test]
fn cycle_through_overriding_layers_is_a_cycle() {
    // As in Ansible, a play var cannot extend the inventory value of the same name.
    let h = host(json!({"path": "/a"})).with_layer(Layer::Play, map(json!({"path": "{{ path }}/b"})));
    assert!(matches!(get(&h, "path").unwrap_err().kind, TemplateErrorKind::Cycle(_)));
}

#[test]
fn undefined_inside_a_variable_says_which() {
    let h = host(json!({"releases": "{{ app_root }}/releases", "current": "{{ releases }}/current"}));
    let e = h.render(&json!("{{ current }}")).unwrap_err();
    assert_eq!(e.undefined_name(), Some("app_root"));
    assert_eq!(e.to_string(), "`app_root` is undefined (while resolving `current` -> `releases`)");
    let e = h.render(&json!("{{ missing }}")).unwrap_err().at("host web1, task \"x\"");
    assert_eq!(e.to_string(), "`missing` is undefined (host web1, task \"x\")");
}

#[test]
fn precedence_follows_layers() {
    let h = host(json!({"x": "inventory", "y": "inventory", "z": "inventory"}))
        .with_layer(Layer::Play, map(json!({"x": "play", "y": "play"})))
        .with_var(Layer::Facts, "y", json!("fact"))
        .with_layer(Layer::Extra, map(json!({"x": "extra"})));
    assert_eq!(get(&h, "x").unwrap(), Some(json!("extra")));
    assert_eq!(get(&h, "y").unwrap(), Some(json!("fact")));
    assert_eq!(get(&h, "z").unwrap(), Some(json!("inventory")));
    assert_eq!(h.raw("x").map(|(_, l)| l), Some(Layer::Extra));
    // Replacing the play layer leaves the others alone.
    let h2 = h.with_layer(Layer::Play, VarMap::new());
    assert_eq!(get(&h2, "y").unwrap(), Some(json!("fact")));
}

#[test]
fn new_snapshot_does_not_see_stale_cache() {
    let h = host(json!({"a": 1, "b": "{{ a + 1 }}"}));
    assert_eq!(get(&h, "b").unwrap(), Some(json!(2)));
    let h2 = h.with_var(Layer::Facts, "a", json!(10));
    assert_eq!(get(&h2, "b").unwrap(), Some(json!(11)));
    assert_eq!(get(&h, "b").unwrap(), Some(json!(2)));
}

#[test]
fn magic_vars() {
    let mut groups = IndexMap::new();
    groups.insert("all".to_string(), vec!["web1.example.com".to_string(), "db1".to_string()]);
    groups.insert("web".to_string(), vec!["web1.example.com".to_string()]);
    let fleet = Fleet::new();
    fleet.set_groups(&groups);
    let h = host(json!({"ansible_port": 2222}))
        .with_vars(
            Layer::Magic,
            magic::host_magic("web1.example.com", &["web".into(), "all".into(), "ungrouped".into()]),
        )
        .with_vars(
            Layer::Magic,
            magic::play_magic(&["web1.example.com".into()], &["web1.example.com".into()]),
        )
        .with_vars(Layer::Magic, magic::dirs_magic(Some("/p"), None));
    assert_eq!(get(&h, "inventory_hostname").unwrap(), Some(json!("web1.example.com")));
    assert_eq!(get(&h, "inventory_hostname_short").unwrap(), Some(json!("web1")));
    assert_eq!(get(&h, "ansible_host").unwrap(), Some(json!("web1.example.com")));
    assert_eq!(get(&h, "ansible_port").unwrap(), Some(json!(2222)));
    assert_eq!(get(&h, "group_names").unwrap(), Some(json!(["ungrouped", "web"])));
    let h = fleet.insert(&h);
    assert_eq!(h.render(&json!("{{ groups['web'] | length }}")).unwrap(), json!(1));
    assert_eq!(h.render(&json!("{{ groups.all }}")).unwrap(), json!(["web1.example.com", "db1"]));
    assert_eq!(h.render(&json!("{{ ansible_play_hosts }}")).unwrap(), json!(["web1.example.com"]));
    assert_eq!(get(&h, "playbook_dir").unwrap(), Some(json!("/p")));
    let h = h.with_var(Layer::Inventory, "ansible_host", json!("10.0.0.1"));
    assert_eq!(get(&h, "ansible_host").unwrap(), Some(json!("10.0.0.1")));
}

#[test]
fn hostvars_reach_other_hosts_lazily() {
    let t = Arc::new(Templater::new());
    let fleet = Fleet::new();
    let web1 = fleet.insert(&HostVars::new(t.clone(), "web1").with_layer(
        Layer::Inventory,
        map(json!({"peer_url": "http://{{ hostvars['db1'].ansible_host }}:{{ hostvars['db1'].db_port }}"})),
    ));
    // db1 has a broken variable that web1 never touches.
    fleet.insert(&HostVars::new(t.clone(), "db1").with_layer(
        Layer::Inventory,
        map(json!({"ansible_host": "10.0.0.5", "db_port": "{{ base }}", "base": 5432, "broken": "{{ nope }}"})),
    ));
    assert_eq!(get(&web1, "peer_url").unwrap(), Some(json!("http://10.0.0.5:5432")));
    assert_eq!(web1.render(&json!("{{ hostvars | list }}")).unwrap(), json!(["web1", "db1"]));
    assert_eq!(
        web1.render(&json!("{{ hostvars.db1.broken is defined }}")).unwrap_err().undefined_name(),
        Some("nope")
    );
    // A later snapshot of db1 (a fact) is what web1 sees.
    let db1 = fleet.get("db1").unwrap().with_var(Layer::Facts, "role", json!("primary"));
    fleet.insert(&db1);
    assert_eq!(web1.render(&json!("{{ hostvars['db1'].role }}")).unwrap(), json!("primary"));
    assert!(web1.condition(&json!("hostvars['nohost'] is not defined")).unwrap());
    assert_eq!(
        web1.render(&json!("{{ ['db1'] | map('extract', hostvars, 'ansible_host') | list }}")).unwrap(),
        json!(["10.0.0.5"])
    );
}

#[test]
fn vars_and_conditions() {
    let h = host(json!({"enabled": "{{ 'yes' | bool }}", "n": 3}));
    assert!(h.condition(&json!("enabled and n > 2")).unwrap());
    assert!(h.condition(&json!("vars['n'] == 3")).unwrap());
    assert!(!h.condition(&json!(["enabled", "n > 5"])).unwrap());
    assert!(h.condition(&json!("{{ enabled }}")).unwrap());
}

#[test]
fn resolve_all_in_order() {
    let h = host(json!({"b": "{{ a }}!", "a": "x"})).with_layer(Layer::Extra, map(json!({"e": 1})));
    let all = resolve_all(&h).unwrap();
    let keys: Vec<&str> = all.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["ansible_host", "b", "a", "e", "inventory_hostname", "inventory_hostname_short", "group_names"]
    );
    assert_eq!(all["b"], json!("x!"));
    let bad = host(json!({"x": "{{ y }}"}));
    assert_eq!(resolve_all(&bad).unwrap_err().undefined_name(), Some("y"));
}

#[test]
fn raw_values_without_templates_are_not_rendered() {
    let h = host(json!({"literal": "50% {not a template}", "nested": {"k": [1, "two"]}}));
    assert_eq!(get(&h, "literal").unwrap(), Some(json!("50% {not a template}")));
    assert_eq!(get(&h, "nested").unwrap(), Some(json!({"k": [1, "two"]})));
}

#[test]
fn registered_results_are_not_templated_again() {
    let h = host(json!({"x": 1}))
        .with_var(Layer::Facts, "out", json!({"stdout": "{{ not_a_var }}"}))
        .with_var(Layer::Loop, "item", json!("{% raw %}"));
    assert_eq!(get(&h, "out").unwrap(), Some(json!({"stdout": "{{ not_a_var }}"})));
    assert_eq!(h.render(&json!("{{ out.stdout }}")).unwrap(), json!("{{ not_a_var }}"));
    assert_eq!(get(&h, "item").unwrap(), Some(json!("{% raw %}")));
}

#[test]
fn shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<HostVars>();
    assert_send_sync::<Fleet>();
    let h = host(json!({"a": "{{ b }}", "b": "{{ c | default(1) }}"}));
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let h = h.clone();
            std::thread::spawn(move || get(&h, "a").unwrap())
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap(), Some(json!(1)));
    }
}
