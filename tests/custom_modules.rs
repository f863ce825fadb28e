//! Custom modules (WANT_JSON executables): the two shipped in modules/ and one from a
//! playbook's library/, through the real binary on the local connection.

mod common;

use common::{json_events, run_baton};

fn play(dir: &std::path::Path, yaml: &str, extra: &[&str]) -> (Option<i32>, Vec<serde_json::Value>, String) {
    let pb = dir.join("pb.yml");
    std::fs::write(&pb, yaml.replace("@DIR@", &dir.display().to_string())).unwrap();
    let pbs = pb.display().to_string();
    let mut args = vec!["play", pbs.as_str(), "-i", "inventories/local.ini", "--json"];
    args.extend_from_slice(extra);
    let out = run_baton(&args, None);
    (out.code, json_events(&out.stdout), out.stderr)
}

fn changed(events: &[serde_json::Value]) -> u64 {
    let fin = events.iter().find(|e| e["event"] == "run_finished").unwrap();
    fin["stats"][0][1]["changed"].as_u64().unwrap()
}

#[test]
fn shipped_modules_are_idempotent_and_honour_check_mode() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("tree")).unwrap();
    std::fs::write(d.path().join("tree/a"), "x").unwrap();
    let yaml = r#"
- hosts: localhost
  gather_facts: false
  tasks:
    - env_var: { path: "@DIR@/.env", key: LOG_LEVEL, value: info }
    - env_var: { path: "@DIR@/.env", key: MODE, value: prod }
    - env_var: key=OLD path=@DIR@/.env state=absent
    - tree_checksum: { path: "@DIR@/tree" }
      register: t
    - assert: { that: ["t.files == 1", "t.checksum | length == 64", "not t.changed"] }
"#;
    let (code, ev, err) = play(d.path(), yaml, &["-C"]);
    assert_eq!(code, Some(0), "{err} {ev:?}");
    assert_eq!(changed(&ev), 2);
    assert!(!d.path().join(".env").exists(), "check mode wrote the file");
    let (code, ev, _) = play(d.path(), yaml, &[]);
    assert_eq!(code, Some(0));
    assert_eq!(changed(&ev), 2);
    assert_eq!(std::fs::read_to_string(d.path().join(".env")).unwrap(), "LOG_LEVEL=info\nMODE=prod\n");
    let (_, ev, _) = play(d.path(), yaml, &[]);
    assert_eq!(changed(&ev), 0);
}

#[test]
fn a_library_module_beside_the_playbook_and_a_bad_answer() {
    let d = tempfile::tempdir().unwrap();
    let lib = d.path().join("library");
    std::fs::create_dir(&lib).unwrap();
    let write = |name: &str, text: &str| {
        let p = lib.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    };
    write(
        "greet",
        "#!/bin/sh\nwho=$(sed -n 's/.*\"who\": *\"\\([^\"]*\\)\".*/\\1/p' \"$1\")\necho \"{\\\"changed\\\": false, \\\"greeting\\\": \\\"hi $who\\\"}\"\n",
    );
    write("broken", "#!/bin/sh\necho not json\nexit 3\n");
    let yaml = r#"
- hosts: localhost
  gather_facts: false
  tasks:
    - greet: { who: "{{ 'world' }}" }
      register: g
    - assert: { that: "g.greeting == 'hi world'" }
    - name: broken one
      broken: {}
"#;
    let (code, ev, err) = play(d.path(), yaml, &[]);
    assert_eq!(code, Some(2), "{err}");
    let failed = ev.iter().find(|e| e["event"] == "host_result" && e["task"] == "broken one").unwrap();
    let msg = failed["result"]["msg"].as_str().unwrap();
    assert!(msg.contains("did not answer with JSON (exit 3): not json"), "{msg}");
}
