//! Bad playbooks get errors a user can act on: the file, line and column, the offending line
//! with a marker under the spot, and — for errors found while running — the host and task.
//! One test per kind of mistake the playbook issue names.

mod common;

use common::run_baton;

/// Writes `yaml` as pb.yml in a fresh directory and runs it on the local connection.
fn run(yaml: &str) -> (Option<i32>, String, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let book = dir.path().join("pb.yml");
    std::fs::write(&book, yaml).unwrap();
    let out = run_baton(&["play", &book.display().to_string(), "-i", "localhost,", "-c", "local"], None);
    (out.code, out.stdout, out.stderr, dir)
}

/// The loader's rendering: position, the line itself, and miette's marker under it.
fn assert_points_at(stderr: &str, position: &str, line: &str) {
    assert!(stderr.contains(position), "no `{position}` in:\n{stderr}");
    assert!(stderr.contains(line), "the offending line `{line}` is not shown:\n{stderr}");
    assert!(stderr.contains('┬') || stderr.contains('^'), "no marker under the spot:\n{stderr}");
}

/// The runtime rendering: host and task in the failure, position, line and caret in the message.
fn assert_runtime(stdout: &str, task: &str, position: &str, line: &str) {
    assert!(stdout.contains(&format!("TASK [{task}]")), "{stdout}");
    assert!(stdout.contains("fatal: [localhost]: FAILED!"), "the host is not named:\n{stdout}");
    assert!(stdout.contains(position), "no `{position}` in:\n{stdout}");
    assert!(stdout.contains(line), "the offending line `{line}` is not shown:\n{stdout}");
    assert!(stdout.contains("^ here"), "no caret:\n{stdout}");
}

#[test]
fn unknown_module_names_the_closest_one() {
    let (code, _, stderr, _d) =
        run("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: x\n      shel: echo\n");
    assert_eq!(code, Some(1));
    assert!(stderr.contains("unknown module `shel`, did you mean `shell`?"), "{stderr}");
    assert_points_at(&stderr, "pb.yml:5:7", "shel: echo");
}

#[test]
fn unknown_parameter_names_the_closest_one() {
    let (code, _, stderr, _d) = run(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - copy: { dest: /tmp/x, contnet: hi }\n",
    );
    assert_eq!(code, Some(1));
    assert!(stderr.contains("has no parameter `contnet`, did you mean `content`?"), "{stderr}");
    assert_points_at(&stderr, "pb.yml:4:", "copy: { dest: /tmp/x, contnet: hi }");
}

#[test]
fn missing_required_parameter_names_host_task_and_place() {
    let (code, stdout, _, _d) = run(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: missing\n      copy: { content: hi }\n",
    );
    assert_eq!(code, Some(2));
    assert!(stdout.contains("module `copy` needs the parameter `dest`"), "{stdout}");
    assert_runtime(&stdout, "missing", "pb.yml:5:7", "copy: { content: hi }");
}

#[test]
fn yaml_syntax_error_points_at_the_spot() {
    let (code, _, stderr, _d) =
        run("- hosts: localhost\n  tasks:\n    - name: yaml\n      debug: { msg: x }\n    - bad: [\n");
    assert_eq!(code, Some(1));
    assert!(stderr.contains("invalid YAML"), "{stderr}");
    assert_points_at(&stderr, "pb.yml:", "- bad: [");
}

#[test]
fn template_syntax_error_names_host_task_and_place() {
    let (code, stdout, _, _d) = run(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: bad template\n      debug: { msg: \"{{ 1 + }}\" }\n",
    );
    assert_eq!(code, Some(2));
    assert!(stdout.contains("invalid template `{{ 1 + }}`"), "{stdout}");
    assert_runtime(&stdout, "bad template", "pb.yml:4:7", "- name: bad template");
}

#[test]
fn undefined_variable_names_the_variable_host_task_and_place() {
    let (code, stdout, _, _d) = run(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: uses nope\n      copy: { dest: \"/tmp/{{ nope }}\", content: x }\n",
    );
    assert_eq!(code, Some(2));
    assert!(stdout.contains("`nope` is undefined"), "{stdout}");
    assert_runtime(&stdout, "uses nope", "pb.yml:4:7", "- name: uses nope");
}

#[test]
fn a_bad_keyword_value_is_refused_at_load_time() {
    let (code, _, stderr, _d) = run(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - debug: { msg: x }\n      loop_control: { loop_vra: y }\n",
    );
    assert_eq!(code, Some(1));
    assert!(stderr.contains("loop_vra"), "{stderr}");
    assert_points_at(&stderr, "pb.yml:5:", "loop_control");
}
