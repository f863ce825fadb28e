//! Playbook semantics through the real binary on the local connection: each test writes a
//! small playbook into a temp dir, runs `baton play --json`, and checks the recap, the
//! registered values (via assert tasks inside the playbook) and the files left behind.

mod common;

use std::path::Path;

use common::{json_events, run_baton};
use serde_json::Value;

const INV: &str = "inventories/local.ini";

struct Played {
    code: Option<i32>,
    events: Vec<Value>,
    stderr: String,
}

impl Played {
    fn stats(&self) -> Value {
        let fin = self.events.iter().find(|e| e["event"] == "run_finished").expect("run_finished");
        fin["stats"][0][1].clone()
    }
    fn stat(&self, key: &str) -> u64 {
        self.stats()[key].as_u64().unwrap()
    }
    fn results(&self, task: &str) -> Vec<&Value> {
        self.events
            .iter()
            .filter(|e| e["event"] == "host_result" && e["task"] == task)
            .map(|e| &e["result"])
            .collect()
    }
    fn tasks(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["event"] == "task_started")
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect()
    }
}

fn play(dir: &Path, yaml: &str, extra: &[&str]) -> Played {
    let pb = dir.join("pb.yml");
    std::fs::write(&pb, yaml.replace("@DIR@", &dir.display().to_string())).unwrap();
    let pbs = pb.display().to_string();
    let mut args = vec!["play", pbs.as_str(), "-i", INV, "--json"];
    args.extend_from_slice(extra);
    let out = run_baton(&args, None);
    Played { code: out.code, events: json_events(&out.stdout), stderr: out.stderr }
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn second_run_changes_nothing_and_handlers_run_once() {
    let d = tmp();
    let yaml = r#"
- hosts: localhost
  gather_facts: no
  tasks:
    - name: dir
      file: { path: "@DIR@/out", state: directory }
    - name: conf
      copy: { dest: "@DIR@/out/a.conf", content: "x=1\n" }
      notify: [restart, also]
    - name: conf2
      copy: { dest: "@DIR@/out/b.conf", content: "y=2\n" }
      notify: restart
  handlers:
    - name: restart
      shell: echo run >> @DIR@/handler.log
    - name: other
      listen: also
      shell: echo other >> @DIR@/handler.log
"#;
    let first = play(d.path(), yaml, &[]);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert_eq!(first.stat("changed"), 5);
    assert_eq!(std::fs::read_to_string(d.path().join("handler.log")).unwrap(), "run\nother\n");
    let second = play(d.path(), yaml, &[]);
    assert_eq!(second.stat("changed"), 0, "{:?}", second.events);
    assert_eq!(std::fs::read_to_string(d.path().join("handler.log")).unwrap(), "run\nother\n");
}

#[test]
fn check_mode_predicts_without_touching() {
    let d = tmp();
    let yaml = r#"
- hosts: localhost
  gather_facts: false
  tasks:
    - copy: { dest: "@DIR@/c.txt", content: "hello\n" }
    - file: { path: "@DIR@/sub", state: directory }
"#;
    let check = play(d.path(), yaml, &["-C"]);
    assert_eq!(check.stat("changed"), 2);
    assert!(!d.path().join("c.txt").exists());
    assert!(!d.path().join("sub").exists());
    let real = play(d.path(), yaml, &[]);
    assert_eq!(real.stat("changed"), 2);
}

#[test]
fn loops_register_and_conditions() {
    let d = tmp();
    let yaml = r#"
- hosts: localhost
  gather_facts: false
  vars:
    pkgs: [a, b, c]
    users: { alice: 1, bob: 2 }
  tasks:
    - name: loop
      shell: "echo {{ item }}"
      loop: "{{ pkgs }}"
      register: out
      changed_when: false
    - assert:
        that:
          - out.results | length == 3
          - out.results[1].stdout == 'b'
          - out.results[2].item == 'c'
          - not out.changed
    - name: with_dict
      debug: { msg: "{{ item.key }}={{ item.value }}" }
      with_dict: "{{ users }}"
      register: d
    - assert: { that: "d.results | map(attribute='msg') | list == ['alice=1', 'bob=2']" }
    - name: when per item
      command: "echo {{ item }}"
      loop: [1, 2, 3]
      when: item > 1
      register: w
    - assert:
        that:
          - w.results[0].skipped
          - w.results[2].stdout == '3'
    - name: with_sequence and loop_control
      set_fact: { "n{{ idx }}": "{{ item }}" }
      with_sequence: start=1 end=3 format=h%02d
      loop_control: { index_var: idx, loop_var: item }
    - assert: { that: "n0 == 'h01' and n2 == 'h03'" }
    - name: skipped task
      command: "false"
      when: pkgs | length > 10
      register: s
    - assert: { that: ["s is skipped", "s.skipped"] }
"#;
    let p = play(d.path(), yaml, &[]);
    assert_eq!(
        p.code,
        Some(0),
        "{:?}",
        p.events.iter().filter(|e| e["result"]["status"] == "failed").collect::<Vec<_>>()
    );
    assert_eq!(p.stat("failed"), 0);
    assert_eq!(p.stat("skipped"), 1);
}

#[test]
fn blocks_rescue_always_and_failed_task_vars() {
    let d = tmp();
    let yaml = r#"
- hosts: localhost
  gather_facts: false
  tasks:
    - block:
        - name: boom
          command: /bin/false
        - name: never
          command: touch @DIR@/never
      rescue:
        - set_fact: { failed_name: "{{ ansible_failed_task.name }}", rc: "{{ ansible_failed_result.rc }}" }
      always:
        - file: { path: "@DIR@/always", state: touch }
    - assert: { that: ["failed_name == 'boom'", "rc | int == 1"] }
"#;
    let p = play(d.path(), yaml, &[]);
    assert_eq!(p.code, Some(0), "{:?}", p.events);
    assert_eq!(p.stat("rescued"), 1);
    assert_eq!(p.stat("failed"), 0);
    assert!(d.path().join("always").exists());
    assert!(!d.path().join("never").exists());
}

#[test]
fn failure_stops_the_host_and_exit_code_is_two() {
    let d = tmp();
    let yaml = r#"
- hosts: localhost
  gather_facts: false
  tasks:
    - name: ignored
      command: /bin/false
      ignore_errors: yes
    - name: failing
      shell: exit 3
    - name: after
      file: { path: "@DIR@/after", state: touch }
"#;
    let p = play(d.path(), yaml, &[]);
    assert_eq!(p.code, Some(2));
    assert_eq!(p.stat("ignored"), 1);
    assert_eq!(p.stat("failed"), 1);
    assert!(!d.path().join("after").exists());
    assert_eq!(p.results("failing")[0]["rc"], 3);
}

#[test]
fn failed_when_until_and_changed_when() {
    let d = tmp();
    let yaml = r#"
- hosts: localhost
  gather_facts: false
  tasks:
    - name: grep miss is fine
      shell: grep nothing /dev/null
      register: g
      failed_when: g.rc > 1
      changed_when: false
    - name: until
      shell: "echo x >> @DIR@/count; wc -l < @DIR@/count"
      register: c
      until: c.stdout | int >= 3
      retries: 5
      delay: 0
    - assert: { that: ["c.attempts == 3", "g.rc == 1", "not g.failed"] }
"#;
    let p = play(d.path(), yaml, &[]);
    assert_eq!(p.code, Some(0), "{:?}", p.events);
    assert_eq!(p.stat("changed"), 1);
}

#[test]
fn roles_includes_and_tags() {
    let d = tmp();
    let role = d.path().join("roles/web");
    for sub in ["tasks", "defaults", "handlers", "templates", "meta", "vars"] {
        std::fs::create_dir_all(role.join(sub)).unwrap();
    }
    std::fs::create_dir_all(d.path().join("roles/base/tasks")).unwrap();
    std::fs::write(
        d.path().join("roles/base/tasks/main.yml"),
        "- file: { path: '{{ out }}/base', state: touch }\n",
    )
    .unwrap();
    std::fs::write(role.join("meta/main.yml"), "dependencies: [base]\n").unwrap();
    std::fs::write(role.join("defaults/main.yml"), "http_port: 80\nname_: web\n").unwrap();
    std::fs::write(role.join("vars/main.yml"), "role_var: fromvars\n").unwrap();
    std::fs::write(role.join("templates/site.conf.j2"), "listen {{ http_port }} # {{ role_var }}\n").unwrap();
    std::fs::write(
        role.join("tasks/main.yml"),
        "- name: conf\n  template: { src: site.conf.j2, dest: '{{ out }}/site.conf' }\n  notify: reload\n  tags: [conf]\n- include_tasks: extra.yml\n",
    )
    .unwrap();
    std::fs::write(
        role.join("tasks/extra.yml"),
        "- file: { path: '{{ out }}/extra-{{ http_port }}', state: touch }\n",
    )
    .unwrap();
    std::fs::write(
        role.join("handlers/main.yml"),
        "- name: reload\n  file: { path: '{{ out }}/reloaded', state: touch }\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("more.yml"),
        "- name: imported\n  file: { path: '{{ out }}/imported', state: touch }\n",
    )
    .unwrap();
    let yaml = r#"
- hosts: localhost
  gather_facts: false
  vars: { out: "@DIR@" }
  roles:
    - { role: web, http_port: 8080 }
  tasks:
    - import_tasks: more.yml
      tags: [imp]
"#;
    let p = play(d.path(), yaml, &[]);
    assert_eq!(p.code, Some(0), "{:?} {}", p.events, p.stderr);
    assert_eq!(std::fs::read_to_string(d.path().join("site.conf")).unwrap(), "listen 8080 # fromvars\n");
    for f in ["base", "extra-8080", "reloaded", "imported"] {
        assert!(d.path().join(f).exists(), "{f} missing");
    }
    assert!(p.tasks().contains(&"web : conf".to_string()), "{:?}", p.tasks());

    // --tags: only the tagged import runs.
    std::fs::remove_file(d.path().join("imported")).unwrap();
    std::fs::remove_file(d.path().join("base")).unwrap();
    let p = play(d.path(), yaml, &["--tags", "imp"]);
    assert_eq!(p.code, Some(0));
    assert!(d.path().join("imported").exists());
    assert!(!d.path().join("base").exists());
}

#[test]
fn undefined_variable_names_the_variable_and_the_task() {
    let d = tmp();
    let yaml = r#"
- hosts: localhost
  gather_facts: false
  tasks:
    - name: uses nope
      debug: { msg: "{{ nope }}" }
"#;
    let p = play(d.path(), yaml, &[]);
    assert_eq!(p.code, Some(2));
    let msg = p.results("uses nope")[0]["msg"].as_str().unwrap().to_string();
    assert!(msg.contains("`nope` is undefined"), "{msg}");
    assert!(msg.contains("pb.yml:6"), "{msg}");
}

#[test]
fn load_errors_point_at_file_line_and_column() {
    let d = tmp();
    let yaml = "- hosts: localhost\n  tasks:\n    - name: typo\n      copy: { dest: /tmp/x, contnet: hi }\n";
    let p = play(d.path(), yaml, &[]);
    assert_eq!(p.code, Some(1));
    assert!(p.stderr.contains("has no parameter `contnet`, did you mean `content`?"), "{}", p.stderr);
    assert!(p.stderr.contains("pb.yml:4:"), "{}", p.stderr);

    let p = play(d.path(), "- hosts: localhost\n  tasks:\n    - name: x\n      shel: echo\n", &[]);
    assert!(p.stderr.contains("unknown module `shel`, did you mean `shell`?"), "{}", p.stderr);
    assert!(p.stderr.contains("pb.yml:4:7"), "{}", p.stderr);

    let p = play(d.path(), "- hosts: localhost\n  tasks:\n    - name: [unclosed\n", &[]);
    assert_eq!(p.code, Some(1));
    assert!(p.stderr.contains("pb.yml:"), "{}", p.stderr);
}

#[test]
fn add_host_group_by_free_strategy_and_serial() {
    let d = tmp();
    let yaml = r#"
- hosts: localhost
  gather_facts: false
  tasks:
    - add_host: { name: extra1, groups: made, ansible_connection: local, tag_: one }
    - group_by: { key: "kind_{{ 'local' }}" }
- hosts: made
  gather_facts: false
  strategy: free
  tasks:
    - copy: { dest: "@DIR@/{{ inventory_hostname }}-{{ tag_ }}", content: "x" }
- hosts: kind_local
  gather_facts: false
  serial: 1
  tasks:
    - file: { path: "@DIR@/grouped", state: touch }
"#;
    let p = play(d.path(), yaml, &[]);
    assert_eq!(p.code, Some(0), "{:?} {}", p.events, p.stderr);
    assert!(d.path().join("extra1-one").exists());
    assert!(d.path().join("grouped").exists());
}

#[test]
fn release_prepare_switch_rollback_on_disk() {
    let d = tmp();
    let yaml = r#"
- hosts: localhost
  gather_facts: false
  vars: { app: "@DIR@/app" }
  tasks:
    - release: { path: "{{ app }}", version: "{{ item }}", state: prepared }
      register: rel
      loop: [v1, v2]
    - copy: { dest: "{{ app }}/releases/{{ item }}/index.html", content: "{{ item }}\n" }
      loop: [v1, v2]
    - release: { path: "{{ app }}", version: v1 }
    - release: { path: "{{ app }}", version: v2, keep: 5 }
      register: sw
    - assert: { that: ["sw.previous == 'v1'", "sw.release_path.endswith('/releases/v2')"] }
    - release: { path: "{{ app }}", state: rolled_back }
      register: back
    - assert: { that: "back.release == 'v1'" }
"#;
    let p = play(d.path(), yaml, &[]);
    assert_eq!(p.code, Some(0), "{:?}", p.events);
    let live = std::fs::read_to_string(d.path().join("app/current/index.html")).unwrap();
    assert_eq!(live, "v1\n");
    assert_eq!(std::fs::read_link(d.path().join("app/current")).unwrap(), Path::new("releases/v1"));
}
