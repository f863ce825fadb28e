//! Differential tests: each playbook in tests/differential/ runs with ansible-playbook
//! (ansible-core from PyPI, the oracle) and with `baton play`, on the local connection, each
//! into its own root; the resulting trees (paths, types, modes, contents, link targets) and
//! the changed counts of the first and second runs must be the same.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{have, json_events, run_baton};

const DIR: &str = "tests/differential";

/// Path -> (type, mode, content or link target), with the run's root replaced by `ROOT`.
fn tree(root: &Path) -> BTreeMap<String, (char, u32, String)> {
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(root).min_depth(1).sort_by_file_name() {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(root).unwrap().display().to_string();
        let meta = std::fs::symlink_metadata(entry.path()).unwrap();
        let mode = meta.permissions().mode() & 0o7777;
        let norm = |s: String| s.replace(&root.display().to_string(), "ROOT");
        let item = if meta.file_type().is_symlink() {
            ('l', 0, norm(std::fs::read_link(entry.path()).unwrap().display().to_string()))
        } else if meta.is_dir() {
            ('d', mode, String::new())
        } else {
            ('f', mode, norm(String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap()).into_owned()))
        };
        out.insert(rel, item);
    }
    out
}

fn ansible(playbook: &str, root: &Path) -> u64 {
    let out = Command::new("ansible-playbook")
        .current_dir(DIR)
        .args([
            playbook,
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            "ansible_python_interpreter=/usr/bin/python3",
        ])
        .arg("-e")
        .arg(format!("root={}", root.display()))
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .env("ANSIBLE_LOCALHOST_WARNING", "0")
        .env("ANSIBLE_HOME", root.parent().unwrap().join("ansible-home"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "ansible-playbook failed on {playbook}:\n{text}");
    let recap = text.lines().rev().find(|l| l.contains("changed=")).unwrap();
    recap.split("changed=").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap()
}

fn baton(playbook: &str, root: &Path) -> u64 {
    let pb = PathBuf::from(DIR).join(playbook).display().to_string();
    let extra = format!("root={}", root.display());
    let out = run_baton(&["play", &pb, "-i", "localhost,", "-c", "local", "-e", &extra, "--json"], None);
    assert_eq!(out.code, Some(0), "baton failed on {playbook}:\n{}\n{}", out.stdout, out.stderr);
    let events = json_events(&out.stdout);
    let fin = events.iter().find(|e| e["event"] == "run_finished").unwrap();
    fin["stats"][0][1]["changed"].as_u64().unwrap()
}

#[test]
fn baton_leaves_what_ansible_leaves() {
    if !have("ansible-playbook") || !Path::new("/usr/bin/python3").exists() {
        eprintln!(
            "SKIPPED: baton_leaves_what_ansible_leaves: ansible-playbook (pip install ansible-core) or /usr/bin/python3 missing"
        );
        return;
    }
    let mut books: Vec<String> = std::fs::read_dir(DIR)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".yml"))
        .collect();
    books.sort();
    assert!(books.len() >= 4);
    let mut mismatches = Vec::new();
    for book in &books {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("ansible"), tmp.path().join("baton"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        for run in ["first", "second"] {
            let (ca, cb) = (ansible(book, &a), baton(book, &b));
            eprintln!("{book} {run} run: changed ansible={ca} baton={cb}");
            if ca != cb {
                mismatches.push(format!("{book}: {run} run changed {cb} with baton, {ca} with ansible"));
            }
            let (ta, tb) = (tree(&a), tree(&b));
            for (path, item) in &ta {
                if tb.get(path) != Some(item) {
                    mismatches
                        .push(format!("{book} ({run}): {path}: ansible {item:?}, baton {:?}", tb.get(path)));
                }
            }
            for path in tb.keys().filter(|p| !ta.contains_key(*p)) {
                mismatches.push(format!("{book} ({run}): {path} only with baton"));
            }
        }
    }
    assert!(mismatches.is_empty(), "differences from ansible-playbook:\n{}", mismatches.join("\n"));
}
