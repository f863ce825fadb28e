//! `git` on a real fleet host, from a local bare repository on that host: clone, second run
//! ok, follow a new commit on the branch, move to a tag, refuse to overwrite local
//! modifications unless `force`, and check mode.

mod common;

use baton::lab::Lab;
use common::{lab_or_skip, play};

fn sh(lab: &Lab, i: usize, script: &str) -> String {
    let out = lab.exec(i, &format!("set -e; export HOME=/root; {script}")).unwrap();
    assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Commits `text` as app.txt on main of /srv/src.git and returns the commit id.
fn commit(lab: &Lab, i: usize, text: &str) -> String {
    sh(
        lab,
        i,
        &format!(
            "cd /tmp/work && echo {text} > app.txt && git add app.txt && \
             git -c user.name=t -c user.email=t@example.invalid commit -qm {text} && git push -q origin main && \
             git rev-parse HEAD"
        ),
    )
}

#[test]
fn git_clones_follows_the_branch_moves_to_tags_and_keeps_local_changes() {
    let Some(lab) = lab_or_skip(2, "git_clones_follows_the_branch_moves_to_tags_and_keeps_local_changes")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let inv = lab.inventory_path();
    let dest = format!("/srv/app-{}", std::process::id());
    for i in 0..2 {
        sh(
            &lab,
            i,
            "rm -rf /srv/src.git /tmp/work && git init -q --bare -b main /srv/src.git && git clone -q /srv/src.git /tmp/work 2>/dev/null",
        );
    }
    let v1 = commit(&lab, 0, "v1");
    sh(
        &lab,
        0,
        "cd /tmp/work && git -c user.name=t -c user.email=t@example.invalid tag -a v1 -m v1 && git push -q origin v1",
    );
    commit(&lab, 1, "v1");

    let book = |version: &str, force: bool| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: checkout\n      git:\n        repo: /srv/src.git\n        dest: {dest}\n        version: {version}\n        force: {force}\n      register: co\n"
        )
    };
    // Check mode on host02: predicts the clone, creates nothing.
    let run = play(dir.path(), &inv, &book("main", false), &["-C", "--limit", "host02"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    assert_eq!(sh(&lab, 1, &format!("test -e {dest} && echo present || echo absent")), "absent");

    let run = play(dir.path(), &inv, &book("main", false), &["--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    let r = run.result("host01", "checkout");
    assert_eq!((r["before"].clone(), r["after"].as_str()), (serde_json::Value::Null, Some(v1.as_str())));
    assert_eq!(sh(&lab, 0, &format!("cat {dest}/app.txt")), "v1");
    let run = play(dir.path(), &inv, &book("main", false), &["--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}", run.stdout);

    // A new commit on main is followed, once.
    let v2 = commit(&lab, 0, "v2");
    let run = play(dir.path(), &inv, &book("main", false), &["--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    assert_eq!(run.result("host01", "checkout")["after"], v2.as_str());
    assert_eq!(sh(&lab, 0, &format!("cat {dest}/app.txt")), "v2");

    // The annotated tag v1 is its commit.
    let run = play(dir.path(), &inv, &book("v1", false), &["--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    assert_eq!(sh(&lab, 0, &format!("git -C {dest} rev-parse HEAD")), v1);
    let run = play(dir.path(), &inv, &book("v1", false), &["--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}", run.stdout);

    // A local change stops the move to main; force discards it.
    sh(&lab, 0, &format!("echo local > {dest}/app.txt"));
    let run = play(dir.path(), &inv, &book("main", false), &["--limit", "host01"]);
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    let msg = run.result("host01", "checkout")["msg"].as_str().unwrap_or_default().to_string();
    assert!(msg.contains("Local modifications exist"), "{msg}");
    assert_eq!(sh(&lab, 0, &format!("cat {dest}/app.txt")), "local");
    let run = play(dir.path(), &inv, &book("main", true), &["--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    assert_eq!(sh(&lab, 0, &format!("cat {dest}/app.txt")), "v2");
}
