//! `group`, `user` and `authorized_key` on real fleet hosts: a group, a user in it with home,
//! shell, comment, groups and a generated ssh key, the lab's client key authorized for that
//! user; check mode on a fresh host changes nothing; a second run is ok; Baton then logs in as
//! the new user with that key; `state: absent` removes it all again.

mod common;

use baton::lab::Lab;
use common::{lab_or_skip, play, run_baton};

/// Runs `script` as root on host `i`; (success, trimmed stdout).
fn sh(lab: &Lab, i: usize, script: &str) -> (bool, String) {
    let out = lab.exec(i, script).unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).trim().to_string())
}

const KEYS: &str = "/home/bt_alice/.ssh/authorized_keys";

fn present_book(pubkey: &str) -> String {
    let key = serde_json::to_string(pubkey).unwrap();
    format!(
        r#"- hosts: all
  gather_facts: false
  tasks:
    - name: devs group
      group: {{ name: bt_devs, gid: 3456 }}
    - name: ops group
      group: {{ name: bt_ops }}
    - name: user
      user:
        name: bt_alice
        comment: Alice Tester
        home: /home/bt_alice
        shell: /bin/bash
        group: bt_devs
        groups: [bt_ops]
        password: "*"
        generate_ssh_key: true
        ssh_key_type: ed25519
    - name: key
      authorized_key:
        user: bt_alice
        key: {key}
        path: {KEYS}
"#
    )
}

#[test]
fn accounts_are_created_idempotent_usable_for_login_and_removed() {
    let Some(lab) = lab_or_skip(2, "accounts_are_created_idempotent_usable_for_login_and_removed") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let inv = lab.inventory_path();
    let pubkey = std::fs::read_to_string(format!("{}.pub", lab.client_key().display())).unwrap();
    let pubkey = pubkey.trim().to_string();
    let book = present_book(&pubkey);

    // Check mode on a fresh host02: everything would change, nothing does.
    let run = play(dir.path(), &inv, &book, &["-C", "--limit", "host02"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 4), "{}{}", run.stdout, run.stderr);
    assert!(!sh(&lab, 1, "getent group bt_devs").0);
    assert!(!sh(&lab, 1, "getent group bt_ops").0);
    assert!(!sh(&lab, 1, "getent passwd bt_alice").0);
    assert!(!sh(&lab, 1, "test -e /home/bt_alice").0);

    // The real run on host01.
    let run = play(dir.path(), &inv, &book, &["--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 4), "{}{}", run.stdout, run.stderr);
    assert_eq!(sh(&lab, 0, "getent group bt_devs").1, "bt_devs:x:3456:");
    assert_eq!(sh(&lab, 0, "getent group bt_ops | cut -d: -f1,4").1, "bt_ops:bt_alice");
    assert_eq!(
        sh(&lab, 0, "getent passwd bt_alice | cut -d: -f4-").1,
        "3456:Alice Tester:/home/bt_alice:/bin/bash"
    );
    assert_eq!(sh(&lab, 0, "id -Gn bt_alice").1, "bt_devs bt_ops");
    assert_eq!(
        sh(&lab, 0, &format!("stat -c '%a %U %G' /home/bt_alice /home/bt_alice/.ssh {KEYS}")).1,
        "755 bt_alice bt_devs\n700 bt_alice bt_devs\n600 bt_alice bt_devs"
    );
    assert_eq!(sh(&lab, 0, &format!("cat {KEYS}")).1, pubkey);
    assert_eq!(sh(&lab, 0, "stat -c '%a %U' /home/bt_alice/.ssh/id_ed25519").1, "600 bt_alice");
    let user = run.result("host01", "user");
    assert_eq!(user["uid"], sh(&lab, 0, "id -u bt_alice").1.parse::<u64>().unwrap(), "{user}");
    assert_eq!(
        (user["group"].as_u64(), user["home"].as_str(), user["shell"].as_str(), user["comment"].as_str()),
        (Some(3456), Some("/home/bt_alice"), Some("/bin/bash"), Some("Alice Tester")),
        "{user}"
    );
    assert_eq!((user["groups"].as_str(), user["create_home"].as_bool()), (Some("bt_ops"), Some(true)));
    let public = user["ssh_public_key"].as_str().unwrap_or_default().to_string();
    assert!(public.starts_with("ssh-ed25519 "), "{user}");
    assert_eq!(sh(&lab, 0, "cat /home/bt_alice/.ssh/id_ed25519.pub").1, public);
    assert_eq!(run.result("host01", "devs group")["gid"], 3456);
    assert_eq!(run.result("host01", "key")["keyfile"], KEYS);

    // Second run: nothing to do.
    let run = play(dir.path(), &inv, &book, &["--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}{}", run.stdout, run.stderr);

    // The key works: Baton logs in as the new user.
    let inv_s = inv.display().to_string();
    let out = run_baton(
        &[
            "run",
            "host01",
            "-i",
            &inv_s,
            "-e",
            "ansible_user=bt_alice",
            "-m",
            "command",
            "-a",
            "id -un",
            "--json",
        ],
        None,
    );
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("\"stdout\":\"bt_alice\""), "{}", out.stdout);

    // Removing the key: check mode with a diff first, then for real; a second run is ok.
    let key = serde_json::to_string(&pubkey).unwrap();
    let absent_key = format!(
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: key\n      authorized_key: {{ user: bt_alice, key: {key}, path: {KEYS}, state: absent }}\n"
    );
    let run = play(dir.path(), &inv, &absent_key, &["-C", "--diff", "--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    let diff = &run.result("host01", "key")["diff"];
    assert_eq!(
        (diff["before"].as_str(), diff["after"].as_str()),
        (Some(format!("{pubkey}\n").as_str()), Some(""))
    );
    assert_eq!(sh(&lab, 0, &format!("cat {KEYS}")).1, pubkey);
    let run = play(dir.path(), &inv, &absent_key, &["--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    assert_eq!(sh(&lab, 0, &format!("cat {KEYS}")).1, "");
    let run = play(dir.path(), &inv, &absent_key, &["--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}{}", run.stdout, run.stderr);

    // The account and the groups go; a second run is ok.
    let gone = "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: user\n      user: { name: bt_alice, state: absent, remove: true }\n    - name: devs group\n      group: { name: bt_devs, state: absent }\n    - name: ops group\n      group: { name: bt_ops, state: absent }\n";
    let run = play(dir.path(), &inv, gone, &["-C", "--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 3), "{}{}", run.stdout, run.stderr);
    assert!(sh(&lab, 0, "getent passwd bt_alice").0);
    let run = play(dir.path(), &inv, gone, &["--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 3), "{}{}", run.stdout, run.stderr);
    assert!(!sh(&lab, 0, "getent passwd bt_alice").0);
    assert!(!sh(&lab, 0, "test -e /home/bt_alice").0);
    assert!(!sh(&lab, 0, "getent group bt_devs").0);
    assert!(!sh(&lab, 0, "getent group bt_ops").0);
    let run = play(dir.path(), &inv, gone, &["--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}{}", run.stdout, run.stderr);
}

#[test]
fn a_missing_group_fails_with_ansibles_message_and_changes_nothing() {
    let Some(lab) = lab_or_skip(1, "a_missing_group_fails_with_ansibles_message_and_changes_nothing") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let book = "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: user\n      user: { name: bt_bob, groups: [bt_nope] }\n";
    let run = play(dir.path(), &lab.inventory_path(), book, &[]);
    assert_eq!(run.code, Some(2), "{}{}", run.stdout, run.stderr);
    assert_eq!(run.result("host01", "user")["msg"], "Group bt_nope does not exist");
    assert!(!sh(&lab, 0, "getent passwd bt_bob").0);
}

#[test]
fn a_user_is_modified_in_place_and_keys_go_to_the_moved_home() {
    let Some(lab) = lab_or_skip(1, "a_user_is_modified_in_place_and_keys_go_to_the_moved_home") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let inv = lab.inventory_path();
    let inv_s = inv.display().to_string();
    let h1 =
        "$6$batonsalt$Ht0cKzQpe3vD8mxm1Uq0C5iV7Y1pmQ9kXAbqG0dYyVdz1yJt8Jd7c5o4m3Wq0lMkS3XxD6eR7f2Lg1Bn9Hc5/.";
    let h2 =
        "$6$batonsalt$Zk0cKzQpe3vD8mxm1Uq0C5iV7Y1pmQ9kXAbqG0dYyVdz1yJt8Jd7c5o4m3Wq0lMkS3XxD6eR7f2Lg1Bn9Hc5/.";
    let book = |user: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: groups\n      group: {{ name: \"{{{{ item }}}}\" }}\n      loop: [bt_g1, bt_g2]\n    - name: user\n      user: {user}\n"
        )
    };
    let first = book(&format!(
        "{{ name: bt_dave, shell: /bin/sh, comment: Dave, groups: [bt_g1], password: '{h1}' }}"
    ));
    let run = play(dir.path(), &inv, &first, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 2), "{}{}", run.stdout, run.stderr);
    assert_eq!(sh(&lab, 0, "getent shadow bt_dave | cut -d: -f2").1, h1);
    // The hash is compared with /etc/shadow: the same one again is ok.
    let run = play(dir.path(), &inv, &first, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}{}", run.stdout, run.stderr);

    let second = book(&format!(
        "{{ name: bt_dave, shell: /bin/bash, comment: Dave D, groups: [bt_g2], append: true, password: '{h2}', home: /srv/bt_dave, move_home: true }}"
    ));
    let run = play(dir.path(), &inv, &second, &["-C"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    assert_eq!(sh(&lab, 0, "getent passwd bt_dave | cut -d: -f5-").1, "Dave:/home/bt_dave:/bin/sh");
    let run = play(dir.path(), &inv, &second, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    assert_eq!(sh(&lab, 0, "getent passwd bt_dave | cut -d: -f5-").1, "Dave D:/srv/bt_dave:/bin/bash");
    assert_eq!(
        sh(&lab, 0, "id -Gn bt_dave | tr ' ' '\\n' | grep bt_g | sort | tr '\\n' ' '").1,
        "bt_g1 bt_g2"
    );
    assert_eq!(sh(&lab, 0, "getent shadow bt_dave | cut -d: -f2").1, h2);
    assert!(sh(&lab, 0, "test -d /srv/bt_dave && test ! -e /home/bt_dave").0);
    let run = play(dir.path(), &inv, &second, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}{}", run.stdout, run.stderr);

    // authorized_key with the default path (the moved home), options and exclusive, ad hoc.
    let pubkey = std::fs::read_to_string(format!("{}.pub", lab.client_key().display())).unwrap();
    let pubkey = pubkey.trim().to_string();
    let keys = "/srv/bt_dave/.ssh/authorized_keys";
    lab.exec(0, &format!("mkdir -p /srv/bt_dave/.ssh && printf '# old\\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIold old\\n' > {keys}"))
        .unwrap();
    let args = format!("user=bt_dave key='{pubkey}' key_options=no-port-forwarding exclusive=yes");
    let adhoc = |args: &str| {
        run_baton(&["run", "host01", "-i", &inv_s, "-m", "authorized_key", "-a", args, "--json"], None)
    };
    let out = adhoc(&args);
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("\"status\":\"changed\""), "{}", out.stdout);
    assert_eq!(sh(&lab, 0, &format!("cat {keys}")).1, format!("no-port-forwarding {pubkey}"));
    assert_eq!(
        sh(&lab, 0, &format!("stat -c '%a %U' /srv/bt_dave/.ssh {keys}")).1,
        "700 bt_dave\n600 bt_dave"
    );
    let out = adhoc(&args);
    assert!(out.stdout.contains("\"status\":\"ok\""), "{}", out.stdout);
    let out = run_baton(
        &[
            "run",
            "host01",
            "-i",
            &inv_s,
            "-e",
            "ansible_user=bt_dave",
            "-m",
            "command",
            "-a",
            "pwd",
            "--json",
        ],
        None,
    );
    assert!(out.stdout.contains("\"stdout\":\"/srv/bt_dave\""), "{}{}", out.stdout, out.stderr);

    // As `deploy` with become: the key goes, the file stays the user's.
    let out = run_baton(
        &[
            "run",
            "host01",
            "-i",
            &inv_s,
            "-e",
            "ansible_user=deploy",
            "-b",
            "-m",
            "authorized_key",
            "-a",
            &format!("user=bt_dave key='{pubkey}' state=absent"),
            "--json",
        ],
        None,
    );
    assert!(out.stdout.contains("\"status\":\"changed\""), "{}{}", out.stdout, out.stderr);
    assert_eq!(sh(&lab, 0, &format!("stat -c '%a %U %s' {keys}")).1, "600 bt_dave 0");

    // Locking keeps the hash behind a `!`, once.
    let locked = book("{ name: bt_dave, password_lock: true }");
    let run = play(dir.path(), &inv, &locked, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    assert_eq!(sh(&lab, 0, "getent shadow bt_dave | cut -d: -f2").1, format!("!{h2}"));
    let run = play(dir.path(), &inv, &locked, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}{}", run.stdout, run.stderr);
}

/// Runs `book` with ansible-playbook (`-v`, results as JSON) against host01; (exit code,
/// changed count, each task's result, the output).
fn ansible_play(
    lab: &Lab,
    dir: &std::path::Path,
    book: &str,
    check: bool,
) -> (Option<i32>, u64, Vec<serde_json::Value>, String) {
    let path = dir.join("ansible.yml");
    std::fs::write(&path, book).unwrap();
    let home = lab.dir().join("ansible-home-accounts");
    let mut cmd = std::process::Command::new("ansible-playbook");
    cmd.arg(&path)
        .arg("-i")
        .arg(lab.inventory_path())
        .args(["--limit", "host01", "-v"])
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_CALLBACK_RESULT_FORMAT", "json")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .env("ANSIBLE_PIPELINING", "1")
        .env("ANSIBLE_HOME", &home)
        .env("ANSIBLE_LOCAL_TEMP", home.join("tmp"));
    if check {
        cmd.arg("--check");
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let changed = text
        .lines()
        .rev()
        .find(|l| l.starts_with("host01") && l.contains("changed="))
        .and_then(|l| l.split("changed=").nth(1)?.split_whitespace().next()?.parse().ok())
        .unwrap_or(u64::MAX);
    let results = text
        .lines()
        .filter(|l| l.contains("[host01]") && !l.starts_with("TASK"))
        .filter_map(|l| serde_json::from_str(l.split_once(" => ")?.1).ok())
        .collect();
    (out.status.code(), changed, results, text)
}

/// Keys whose values cannot match between two hosts or two tools.
const NOT_COMPARED: &[&str] = &[
    "invocation",
    "warnings",
    "deprecations",
    "_ansible_no_log",
    "action",
    "ssh_fingerprint",
    "ssh_public_key",
    "stdout",
    "stderr",
    "stdout_lines",
    "stderr_lines",
];

/// Every key Ansible returned for each task on host01 has the same value in Baton's result
/// for the task on host02 (`changed` and `failed` from Baton's status).
fn same_results(name: &str, theirs: &[serde_json::Value], run: &common::PlayRun) {
    let ours: Vec<serde_json::Value> = run
        .events
        .iter()
        .filter(|e| e["event"] == "host_result" && e["host"] == "host02")
        .map(|e| {
            let mut r = e["result"].clone();
            if let Some(serde_json::Value::Object(data)) = r.as_object_mut().and_then(|m| m.remove("data")) {
                for (k, v) in data {
                    r[k] = v;
                }
            }
            r
        })
        .collect();
    assert_eq!(theirs.len(), ours.len(), "{name}: task counts differ\n{theirs:?}\n{}", run.stdout);
    for (i, (a, b)) in theirs.iter().zip(&ours).enumerate() {
        for (k, v) in a.as_object().into_iter().flatten() {
            if NOT_COMPARED.contains(&k.as_str()) {
                continue;
            }
            let got = match k.as_str() {
                "changed" => serde_json::Value::Bool(b["status"] == "changed"),
                "failed" => serde_json::Value::Bool(b["status"] == "failed"),
                _ => b[k].clone(),
            };
            assert_eq!(&got, v, "{name}: task {i}: `{k}` differs\nansible: {a}\nbaton: {b}");
        }
    }
}

/// What the account databases and homes say on host `i`.
fn accounts(lab: &Lab, i: usize) -> String {
    let script = "getent group bt_web bt_db | cut -d: -f1,3,4; \
                  getent passwd bt_svc bt_sys bt_web bt_lock | cut -d: -f1,3-; \
                  getent shadow bt_svc bt_sys bt_web bt_lock | cut -d: -f1,2,4-; \
                  for u in bt_svc bt_sys bt_web bt_lock; do printf '%s: ' $u; id -Gn $u 2>&1; done; \
                  stat -c '%n %a %U %G' /opt/bt /opt/bt/svc /home/bt_web /home/bt_lock /home/bt_sys 2>&1; \
                  ls -A /opt/bt/svc 2>&1";
    sh(lab, i, script).1
}

#[test]
fn same_accounts_and_changed_counts_as_ansible_playbook() {
    if !common::have("ansible-playbook") {
        eprintln!(
            "SKIPPED: same_accounts_and_changed_counts_as_ansible_playbook: ansible-playbook is not installed"
        );
        return;
    }
    let Some(lab) = lab_or_skip(2, "same_accounts_and_changed_counts_as_ansible_playbook") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let inv = lab.inventory_path();
    let create = r#"- hosts: all
  gather_facts: false
  tasks:
    - group: { name: bt_web, gid: 4567 }
    - group: { name: bt_db, system: true }
    - user:
        name: bt_svc
        comment: Svc user
        group: bt_web
        groups: [bt_db]
        shell: /bin/bash
        password: "$6$x$abc"
        home: /opt/bt/svc
    - user: { name: bt_sys, system: true, create_home: false, shell: /usr/sbin/nologin }
    - user: { name: bt_web }
    - user: { name: bt_lock, password: "$6$y$def", password_lock: true }
"#;
    let modify = r#"- hosts: all
  gather_facts: false
  tasks:
    - user:
        name: bt_svc
        groups: [bt_web]
        append: true
        comment: Svc 2
        expires: 1767225600
        password_expire_max: 90
    - user: { name: bt_sys, groups: [] }
    - user: { name: bt_lock, password_lock: false }
    - user: { name: bt_web, uid: 4999, shell: /bin/sh }
"#;
    let remove = r#"- hosts: all
  gather_facts: false
  tasks:
    - user: { name: bt_svc, state: absent, remove: true }
    - user: { name: bt_web, state: absent }
    - group: { name: bt_db, state: absent }
"#;
    for (name, book) in [("create", create), ("modify", modify), ("remove", remove)] {
        for check in [true, false, false] {
            let flag: &[&str] = if check { &["-C"] } else { &[] };
            let (code, ansible_changed, results, report) = ansible_play(&lab, dir.path(), book, check);
            assert_eq!(code, Some(0), "{name}: ansible-playbook failed:\n{report}");
            let mut extra = vec!["--limit", "host02"];
            extra.extend_from_slice(flag);
            let run = play(dir.path(), &inv, book, &extra);
            assert_eq!(run.code, Some(0), "{name}: {}{}", run.stdout, run.stderr);
            assert_eq!(
                run.count("changed"),
                ansible_changed,
                "{name} (check: {check}): changed counts differ\n{report}\n{}",
                run.stdout
            );
            assert_eq!(accounts(&lab, 1), accounts(&lab, 0), "{name} (check: {check}): hosts differ");
            if !check {
                same_results(name, &results, &run);
            }
        }
    }
}

/// Whether ansible-playbook can run `authorized_key` (the ansible.posix collection, or the
/// module in ANSIBLE_LIBRARY).
fn ansible_has_authorized_key() -> bool {
    // ansible-doc exits 0 with a warning and `{}` when the module is not found.
    common::have("ansible-playbook")
        && std::process::Command::new("ansible-doc")
            .args(["-t", "module", "authorized_key", "--json"])
            .output()
            .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("\"doc\""))
}

#[test]
fn same_authorized_keys_files_and_changed_counts_as_ansible_playbook() {
    if !ansible_has_authorized_key() {
        eprintln!(
            "SKIPPED: same_authorized_keys_files_and_changed_counts_as_ansible_playbook: ansible-playbook has no authorized_key (install ansible.posix)"
        );
        return;
    }
    let Some(lab) = lab_or_skip(2, "same_authorized_keys_files_and_changed_counts_as_ansible_playbook")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let inv = lab.inventory_path();
    let a = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIaaaa alice@laptop";
    let b = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIbbbb";
    let c = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYcccc carol";
    let seed = "# managed by hand\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIold old@host\n\n\nno-pty ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQrsa rsa key\ngarbage line here\n";
    for i in 0..2 {
        sh(&lab, i, "useradd -m bt_kim");
        lab.write_file(i, "/home/bt_kim/.ssh/authorized_keys", seed.as_bytes()).unwrap();
    }
    let task = |args: &str| {
        format!(
            "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: key\n      authorized_key:\n        user: bt_kim\n{args}"
        )
    };
    let books = [
        ("add", task(&format!("        key: \"{a}\"\n"))),
        ("options dropped", task("        key: \"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQrsa rsa key\"\n")),
        (
            "options and comment",
            task(&format!(
                "        key: \"{a}\"\n        key_options: 'from=\"10.0.0.1,10.0.0.2\",no-agent-forwarding'\n        comment: alice2\n"
            )),
        ),
        (
            "several",
            task(&format!(
                "        key: |\n          {a}\n          {b}\n          # a comment\n          {c}\n"
            )),
        ),
        ("exclusive", task(&format!("        key: \"{b}\"\n        exclusive: true\n"))),
        ("absent", task(&format!("        key: \"{b}\"\n        state: absent\n"))),
    ];
    let state = "stat -c '%n %a %U %G' /home/bt_kim/.ssh /home/bt_kim/.ssh/authorized_keys; cat -A /home/bt_kim/.ssh/authorized_keys";
    assert_eq!(sh(&lab, 0, state).1, sh(&lab, 1, state).1);
    for (name, book) in &books {
        for check in [true, false, false] {
            let (code, ansible_changed, results, report) = ansible_play(&lab, dir.path(), book, check);
            assert_eq!(code, Some(0), "{name}: ansible-playbook failed:\n{report}");
            let mut extra = vec!["--limit", "host02"];
            if check {
                extra.push("-C");
            }
            let run = play(dir.path(), &inv, book, &extra);
            assert_eq!(run.code, Some(0), "{name}: {}{}", run.stdout, run.stderr);
            assert_eq!(
                run.count("changed"),
                ansible_changed,
                "{name} (check: {check}): changed counts differ\n{report}"
            );
            assert_eq!(sh(&lab, 1, state).1, sh(&lab, 0, state).1, "{name} (check: {check}): files differ");
            if !check {
                same_results(name, &results, &run);
            }
        }
    }
}
