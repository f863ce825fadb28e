//! Rollout control on three local hosts (the real binary, the local connection): health
//! gates stop a rollout after the failing batch, rollback undoes it, the failure budget lets
//! a rollout carry on, `check_before` refuses an unhealthy fleet, and the canary hold stops
//! on a failing canary. Rollouts against real SSH hosts behind a load balancer are in
//! fleet_rollout.rs.

mod common;

use std::path::Path;

use common::{json_events, run_baton};
use serde_json::Value;

struct Rolled {
    code: Option<i32>,
    summary: Value,
    stderr: String,
    events: Vec<Value>,
}

fn roll(dir: &Path, rollout: &str, extra_tasks: &str) -> Rolled {
    std::fs::write(
        dir.join("inv.ini"),
        "[web]\nh1 ansible_connection=local\nh2 ansible_connection=local\nh3 ansible_connection=local\nh4 ansible_connection=local\n",
    )
    .unwrap();
    let pb = format!(
        r#"
- hosts: web
  gather_facts: no
  serial: 1
  vars: {{ root: "{root}" }}
  rollout:
{rollout}
  health_checks:
    - name: marker
      command: "test -f {{{{ root }}}}/{{{{ inventory_hostname }}}}.ok"
      interval: 0.1
      failure_threshold: 2
  rollback:
    - copy: {{ dest: "{{{{ root }}}}/{{{{ inventory_hostname }}}}.rolledback", content: "old\n" }}
  post_tasks:
    - copy: {{ dest: "{{{{ root }}}}/{{{{ inventory_hostname }}}}.enabled", content: "in the load balancer\n" }}
  tasks:
    - copy: {{ dest: "{{{{ root }}}}/{{{{ inventory_hostname }}}}.deployed", content: "new\n" }}
{extra_tasks}
"#,
        root = dir.display()
    );
    std::fs::write(dir.join("pb.yml"), pb).unwrap();
    let pbp = dir.join("pb.yml").display().to_string();
    let inv = dir.join("inv.ini").display().to_string();
    let out = run_baton(&["play", &pbp, "-i", &inv, "--json"], None);
    let events = json_events(&out.stdout);
    let summary = events.iter().find(|e| e["event"] == "rollout").cloned().unwrap_or(Value::Null);
    Rolled { code: out.code, summary, stderr: out.stderr, events }
}

fn names(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

/// Every host but h2 becomes healthy.
const H2_BROKEN: &str = "    - file: { path: \"{{ root }}/{{ inventory_hostname }}.ok\", state: touch }\n      when: inventory_hostname != 'h2'\n";

#[test]
fn a_failing_batch_stops_the_rollout_and_is_rolled_back() {
    let d = tempfile::tempdir().unwrap();
    let r = roll(d.path(), "    on_failure: rollback", H2_BROKEN);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert_eq!(names(&r.summary["updated"]), ["h1"]);
    assert_eq!(names(&r.summary["failed"]), ["h2"]);
    assert_eq!(names(&r.summary["rolled_back"]), ["h2"]);
    assert_eq!(names(&r.summary["untouched"]), ["h3", "h4"]);
    assert!(!d.path().join("h3.deployed").exists(), "a later batch was touched");
    assert!(d.path().join("h2.rolledback").exists());
    // The health gate sits between tasks and post_tasks: a broken host is never re-enabled.
    assert!(d.path().join("h1.enabled").exists());
    assert!(!d.path().join("h2.enabled").exists());
    assert!(!d.path().join("h1.rolledback").exists());
    let unhealthy: Vec<&Value> =
        r.events.iter().filter(|e| e["event"] == "health_check" && e["passed"] == false).collect();
    assert_eq!(unhealthy[0]["host"], "h2");
    assert!(unhealthy[0]["detail"].as_str().unwrap().contains("exit 1"), "{unhealthy:?}");
}

#[test]
fn rollback_scope_all_undoes_earlier_batches_too() {
    let d = tempfile::tempdir().unwrap();
    let r = roll(d.path(), "    on_failure: rollback\n    rollback_scope: all", H2_BROKEN);
    assert_eq!(names(&r.summary["rolled_back"]), ["h1", "h2"]);
    assert!(d.path().join("h1.rolledback").exists());
}

#[test]
fn a_failure_budget_lets_the_rollout_carry_on() {
    let d = tempfile::tempdir().unwrap();
    let r = roll(d.path(), "    max_failed: 1", H2_BROKEN);
    assert_eq!(r.code, Some(2), "a failed host still fails the run");
    assert_eq!(names(&r.summary["updated"]), ["h1", "h3", "h4"]);
    assert_eq!(names(&r.summary["failed"]), ["h2"]);
    assert!(r.summary.get("stopped").is_none(), "{:?}", r.summary);
}

#[test]
fn check_before_refuses_an_unhealthy_fleet() {
    let d = tempfile::tempdir().unwrap();
    let r = roll(d.path(), "    check_before: true", H2_BROKEN);
    assert_ne!(r.code, Some(0));
    assert!(
        r.summary["stopped"].as_str().unwrap().contains("unhealthy before the rollout"),
        "{:?}",
        r.summary
    );
    assert_eq!(names(&r.summary["untouched"]).len(), 4);
    assert!(!d.path().join("h1.deployed").exists());
}

#[test]
fn all_healthy_rolls_everything() {
    let d = tempfile::tempdir().unwrap();
    let r = roll(
        d.path(),
        "    pause: 0.1\n    canary: { hold: 0.5 }",
        "    - file: { path: \"{{ root }}/{{ inventory_hostname }}.ok\", state: touch }\n",
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(names(&r.summary["updated"]), ["h1", "h2", "h3", "h4"]);
    assert!(names(&r.summary["untouched"]).is_empty());
}

#[test]
fn unknown_rollout_keys_are_refused_with_a_position() {
    let d = tempfile::tempdir().unwrap();
    let r = roll(d.path(), "    on_falure: rollback", "");
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("unknown field `on_falure`"), "{}", r.stderr);
    assert!(r.stderr.contains("pb.yml:7:"), "{}", r.stderr);
}

#[test]
fn baton_rollback_runs_the_rollback_tasks_with_the_same_gates() {
    let d = tempfile::tempdir().unwrap();
    let healthy = "    - file: { path: \"{{ root }}/{{ inventory_hostname }}.ok\", state: touch }\n";
    let r = roll(d.path(), "    pause: 0", healthy);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let pb = d.path().join("pb.yml").display().to_string();
    let inv = d.path().join("inv.ini").display().to_string();
    let out = run_baton(&["rollback", &pb, "-i", &inv, "--json"], None);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for h in ["h1", "h2", "h3", "h4"] {
        assert!(d.path().join(format!("{h}.rolledback")).exists(), "{h} not rolled back");
    }
    let events = json_events(&out.stdout);
    let summary = events.iter().find(|e| e["event"] == "rollout").unwrap();
    assert_eq!(names(&summary["updated"]).len(), 4);
}
