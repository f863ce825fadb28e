//! `sysctl` and `hostname` on real fleet hosts: each lab host has its own network and UTS
//! namespaces, so per-namespace kernel keys and the host name can really change there.

mod common;

use baton::lab::{Lab, LabMode};
use common::{lab_or_skip, play};

fn sh(lab: &Lab, i: usize, cmd: &str) -> String {
    let out = lab.exec(i, cmd).unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn sysctl_sets_the_file_and_the_running_kernel_once() {
    let Some(lab) = lab_or_skip(2, "sysctl_sets_the_file_and_the_running_kernel_once") else { return };
    if lab.mode() != LabMode::Namespaces {
        eprintln!("SKIPPED: sysctl test: loopback hosts share this machine's kernel settings");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let inv = lab.inventory_path();
    for i in 0..2 {
        sh(
            &lab,
            i,
            "sysctl -w net.ipv4.ip_forward=0 >/dev/null; printf '# ours\\nnet.ipv4.ip_forward = 0\\n' > /etc/sysctl.d/90-baton.conf",
        );
    }
    let book = "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: forward\n      sysctl: { name: net.ipv4.ip_forward, value: '1', sysctl_set: true, sysctl_file: /etc/sysctl.d/90-baton.conf }\n";
    let run = play(dir.path(), &inv, book, &["-C", "--limit", "host02"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    assert_eq!(sh(&lab, 1, "sysctl -n net.ipv4.ip_forward"), "0");

    let run = play(dir.path(), &inv, book, &["--limit", "host01", "-D"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    assert_eq!(sh(&lab, 0, "sysctl -n net.ipv4.ip_forward"), "1");
    assert_eq!(sh(&lab, 0, "cat /etc/sysctl.d/90-baton.conf"), "# ours\nnet.ipv4.ip_forward=1");
    // The other host's kernel is its own.
    assert_eq!(sh(&lab, 1, "sysctl -n net.ipv4.ip_forward"), "0");
    let run = play(dir.path(), &inv, book, &["--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}", run.stdout);

    let absent = "- hosts: host01\n  gather_facts: false\n  tasks:\n    - sysctl: { name: net.ipv4.ip_forward, state: absent, sysctl_file: /etc/sysctl.d/90-baton.conf }\n";
    let run = play(dir.path(), &inv, absent, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    assert_eq!(sh(&lab, 0, "cat /etc/sysctl.d/90-baton.conf"), "# ours");

    let unknown = "- hosts: host01\n  gather_facts: false\n  tasks:\n    - name: nope\n      sysctl: { name: net.baton.nope, value: '1' }\n";
    let run = play(dir.path(), &inv, unknown, &[]);
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    assert!(run.result("host01", "nope")["msg"].as_str().unwrap_or_default().contains("Invalid sysctl key"));
}

#[test]
fn hostname_renames_the_host_now_and_for_the_next_boot() {
    let Some(lab) = lab_or_skip(2, "hostname_renames_the_host_now_and_for_the_next_boot") else { return };
    if lab.mode() != LabMode::Namespaces {
        eprintln!("SKIPPED: hostname test: loopback hosts share this machine's name");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let inv = lab.inventory_path();
    let book = "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: rename\n      hostname: { name: \"web-{{ inventory_hostname }}\" }\n      register: r\n    - copy: { dest: /tmp/facts, content: \"{{ ansible_hostname | default('none') }}\\n\" }\n      when: r is changed\n";
    let run = play(dir.path(), &inv, book, &["-C", "--limit", "host02"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 2), "{}{}", run.stdout, run.stderr);
    assert_eq!(sh(&lab, 1, "hostname"), "host02");

    // As Ansible on a Debian host without systemd: /etc/hostname only.
    let run = play(dir.path(), &inv, book, &["--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 2), "{}{}", run.stdout, run.stderr);
    assert_eq!(sh(&lab, 0, "hostname"), "host01");
    assert_eq!(sh(&lab, 0, "cat /etc/hostname"), "web-host01");
    // The module's facts are the play's from then on.
    assert_eq!(sh(&lab, 0, "cat /tmp/facts"), "web-host01");
    let run = play(dir.path(), &inv, book, &["--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}", run.stdout);

    // `use: generic` renames the running host too, once.
    let generic = "- hosts: host01\n  gather_facts: false\n  tasks:\n    - hostname: { name: web-host01, use: generic }\n";
    let run = play(dir.path(), &inv, generic, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    assert_eq!(sh(&lab, 0, "hostname"), "web-host01");
    let run = play(dir.path(), &inv, generic, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}", run.stdout);
}
