//! The variables + templates API the way the engine uses it: one `Templater`, a `Fleet` of
//! `HostVars`, layers added per play/task, errors pointing at the playbook line.

use std::sync::Arc;

use baton::source::{SourceFile, SourceLoc};
use baton::template::Templater;
use baton::vars::{Fleet, HostVars, Layer, VarMap, get, magic, parse_extra, resolve_all};
use indexmap::IndexMap;
use serde_json::{Value, json};

fn map(v: Value) -> VarMap {
    v.as_object().unwrap().clone().into_iter().collect()
}

fn fleet() -> (Arc<Fleet>, Vec<HostVars>) {
    let templater = Arc::new(Templater::new());
    let fleet = Fleet::new();
    let mut groups = IndexMap::new();
    groups.insert("all".to_string(), vec!["web1".to_string(), "web2".to_string()]);
    groups.insert("web".to_string(), vec!["web1".to_string(), "web2".to_string()]);
    fleet.set_groups(&groups);
    let extra = parse_extra("release=42", std::path::Path::new(".")).unwrap();
    let hosts = ["web1", "web2"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let hv = HostVars::new(templater.clone(), *name)
                .with_layer(
                    Layer::Inventory,
                    map(json!({
                        "app_root": "/srv/app",
                        "releases": "{{ app_root }}/releases",
                        "ansible_port": 2200 + i,
                    })),
                )
                .with_vars(Layer::Magic, magic::host_magic(name, &["web".to_string()]))
                .with_layer(Layer::Extra, extra.clone());
            fleet.insert(&hv)
        })
        .collect();
    (fleet, hosts)
}

#[test]
fn engine_flow() {
    let (fleet, hosts) = fleet();
    let play_hosts: Vec<String> = vec!["web1".into(), "web2".into()];
    // A play begins: play vars and play magic on every host.
    let web1 = hosts[0].with_layer(Layer::Play, map(json!({"dest": "{{ releases }}/{{ release }}"})));
    fleet.set_play_hosts(&play_hosts, &play_hosts[..1]);
    let web1 = fleet.insert(&web1);
    assert_eq!(web1.render(&json!("{{ ansible_play_hosts }}")).unwrap(), json!(["web1", "web2"]));
    assert_eq!(web1.render(&json!("{{ ansible_play_batch }}")).unwrap(), json!(["web1"]));
    // A task's arguments.
    let args = json!({"path": "{{ dest }}", "mode": "0755", "peers": "{{ groups['web'] | map('extract', hostvars, 'ansible_port') | list }}"});
    assert_eq!(
        web1.render(&args).unwrap(),
        json!({"path": "/srv/app/releases/42", "mode": "0755", "peers": [2200, 2201]})
    );
    // `when:` and `register:`.
    assert!(web1.condition(&json!("release | int > 41")).unwrap());
    let web1 = fleet.insert(&web1.with_var(Layer::Facts, "out", json!({"rc": 0, "changed": true})));
    assert!(web1.condition(&json!("out is changed and out.rc == 0")).unwrap());
    assert_eq!(get(&web1, "dest").unwrap(), Some(json!("/srv/app/releases/42")));
    assert!(resolve_all(&web1).unwrap().contains_key("dest"));
}

#[test]
fn error_points_at_the_playbook() {
    let (_fleet, hosts) = fleet();
    let file = SourceFile::new(
        "playbooks/site.yml",
        "- hosts: web\n  tasks:\n    - debug:\n        msg: \"{{ app_port }}\"\n".to_string(),
    );
    let offset = file.text.find("\"{{").unwrap();
    let loc = SourceLoc::new(file, offset, 16);
    let err =
        hosts[0].render(&json!("{{ app_port }}")).unwrap_err().at("host web1, task \"debug\"").at_loc(&loc);
    assert_eq!(
        err.to_string(),
        "`app_port` is undefined (host web1, task \"debug\", playbooks/site.yml:4:14)"
    );
    let mut rendered = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .render_report(&mut rendered, &err)
        .unwrap();
    assert!(rendered.contains("playbooks/site.yml:4:14"), "{rendered}");
    assert!(rendered.contains("msg: \"{{ app_port }}\""), "{rendered}");
}
