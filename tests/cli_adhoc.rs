//! The `baton run` and `baton inventory` front door through the real binary, on the local
//! connection (the SSH fleet cases live in fleet_adhoc.rs).

mod common;

use common::{json_events, run_baton};

const INV: &str = "inventories/local.ini";

#[test]
fn shell_on_localhost_prints_output_and_exits_zero() {
    let out =
        run_baton(&["run", "all", "-i", INV, "-m", "shell", "-a", "echo hi-{{ inventory_hostname }}"], None);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("localhost | CHANGED | rc=0 >>"), "{}", out.stdout);
    assert!(out.stdout.contains("hi-localhost"), "{}", out.stdout);
}

#[test]
fn failing_command_exits_two_and_json_lines_carry_the_result() {
    let out = run_baton(&["run", "all", "-i", INV, "-a", "sh -c 'echo oops >&2; exit 3'", "--json"], None);
    assert_eq!(out.code, Some(2), "{out:?}");
    let events = json_events(&out.stdout);
    let kinds: Vec<&str> = events.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["run_started", "task_started", "host_started", "host_result", "run_finished"]);
    let result = &events[3]["result"];
    assert_eq!(result["status"], "failed");
    assert_eq!(result["rc"], 3);
    assert_eq!(result["stderr"], "oops"); // trailing newline stripped, as Ansible does
}

#[test]
fn one_line_mode() {
    let out = run_baton(&["run", "localhost", "-i", INV, "-m", "raw", "-a", "printf 'a\\nb'", "-o"], None);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout.trim_end(), "localhost | CHANGED | rc=0 | (stdout) a\\nb");
}

#[test]
fn unknown_module_suggests_and_exits_one() {
    let out = run_baton(&["run", "all", "-i", INV, "-m", "shel", "-a", "true"], None);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("unknown module `shel`, did you mean `shell`?"), "{}", out.stderr);
}

#[test]
fn unknown_parameter_suggests() {
    let out = run_baton(&["run", "all", "-i", INV, "-m", "file", "-a", "pth=/tmp/x state=touch"], None);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains("module `file` has no parameter `pth`, did you mean `path`?"),
        "{}",
        out.stderr
    );
}

#[test]
fn undefined_variable_fails_the_host_and_names_the_variable() {
    let out = run_baton(&["run", "all", "-i", INV, "-a", "echo {{ nope }}"], None);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stdout.contains("localhost | FAILED"), "{}", out.stdout);
    assert!(out.stdout.contains("`nope` is undefined"), "{}", out.stdout);
}

#[test]
fn extra_vars_reach_the_template() {
    let out =
        run_baton(&["run", "all", "-i", INV, "-e", "who=world", "-a", "echo hello {{ who }}", "-o"], None);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("hello world"), "{}", out.stdout);
}

#[test]
fn list_hosts_and_no_match() {
    let out = run_baton(&["run", "local", "-i", INV, "--list-hosts"], None);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(out.stdout, "  hosts (1):\n    localhost\n");
    let out = run_baton(&["run", "nosuchgroup", "-i", INV], None);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("no hosts matched `nosuchgroup`"), "{}", out.stderr);
}

#[test]
fn unreachable_host_exits_four() {
    let out = run_baton(&["run", "all", "-i", "192.0.2.1,", "-T", "1", "-m", "ping", "--json"], None);
    assert_eq!(out.code, Some(4), "{out:?}");
    let events = json_events(&out.stdout);
    assert!(
        events.iter().any(|e| e["event"] == "host_unreachable" && e["host"] == "192.0.2.1"),
        "{events:?}"
    );
}

#[test]
fn bad_flags_exit_five() {
    let out = run_baton(&["run", "all", "--no-such-flag"], None);
    assert_eq!(out.code, Some(5), "{out:?}");
}

#[test]
fn inventory_graph_and_host() {
    let out = run_baton(&["inventory", "-i", INV, "--graph"], None);
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("|--@local:\n  |  |--localhost"), "{}", out.stdout);
    let out = run_baton(&["inventory", "-i", INV, "--host", "localhost"], None);
    let vars: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(vars["ansible_connection"], "local");
}
