//! The test fleet itself, checked with the system `ssh` client: distinct hostnames, private
//! filesystems, users and sudo, faults (kill, cut, freeze, revive), 50 hosts, clean teardown.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use baton::lab::{Lab, LabMode, LabOptions};

fn lab(n: usize, test: &str) -> Option<Lab> {
    common::lab_or_skip(n, test)
}

fn ssh(lab: &Lab, i: usize, user: &str, cmd: &str, timeout: u64) -> std::process::Output {
    let h = &lab.hosts()[i];
    Command::new("ssh")
        .args(["-i"])
        .arg(lab.client_key())
        .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes"])
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", lab.known_hosts().display()))
        .args(["-o", &format!("ConnectTimeout={timeout}"), "-p", &h.port.to_string()])
        .arg(format!("{user}@{}", h.addr))
        .arg(cmd)
        .output()
        .unwrap()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn hosts_have_their_own_names_files_and_users() {
    let Some(lab) = lab(3, "hosts_have_their_own_names_files_and_users") else { return };
    if lab.mode() != LabMode::Namespaces {
        eprintln!("SKIPPED: hosts_have_their_own_names_files_and_users: needs root for namespaces");
        return;
    }
    for i in 0..3 {
        let out = ssh(&lab, i, "root", "hostname", 5);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(stdout(&out), lab.hosts()[i].name);
    }
    let out = ssh(&lab, 0, "root", "echo one > /etc/app.conf && cat /etc/app.conf && ls -A /root", 5);
    assert_eq!(
        stdout(&out),
        "one\n.bashrc\n.profile\n.ssh".replace(".bashrc\n.profile\n", &skel()),
        "{out:?}"
    );
    assert!(!std::path::Path::new("/etc/app.conf").exists(), "leaked to the machine");
    assert!(lab.exec(1, "test -e /etc/app.conf").unwrap().status.code() == Some(1), "leaked to host02");
    assert_eq!(lab.read_file(0, "/etc/app.conf").unwrap(), b"one\n");
    lab.write_file(2, "/srv/x", b"from the controller").unwrap();
    assert_eq!(stdout(&ssh(&lab, 2, "root", "cat /srv/x", 5)), "from the controller");

    assert_eq!(stdout(&ssh(&lab, 0, "deploy", "sudo -n id -un", 5)), "root");
    let op = ssh(&lab, 0, "op", "sudo -n true", 5);
    assert!(!op.status.success(), "op must need a password");
    let op = ssh(&lab, 0, "op", "echo op-secret | sudo -S -p '' id -un", 5);
    assert_eq!(stdout(&op), "root", "{op:?}");
}

fn skel() -> String {
    let mut names: Vec<String> = std::fs::read_dir("/etc/skel")
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names.iter().map(|n| format!("{n}\n")).collect()
}

#[test]
fn faults_kill_cut_freeze_and_revive() {
    let Some(mut lab) = lab(2, "faults_kill_cut_freeze_and_revive") else { return };
    lab.exec(0, "echo kept > /srv/kept").unwrap();
    lab.kill(0).unwrap();
    let out = ssh(&lab, 0, "root", "true", 3);
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused"), "{out:?}");
    assert!(ssh(&lab, 1, "root", "true", 3).status.success(), "the other host is fine");
    lab.revive(0).unwrap();
    assert_eq!(stdout(&ssh(&lab, 0, "root", "cat /srv/kept", 5)), "kept", "a killed host keeps its files");

    if lab.mode() == LabMode::Namespaces {
        lab.cut(1).unwrap();
        let t = Instant::now();
        let out = ssh(&lab, 1, "root", "true", 2);
        assert!(!out.status.success());
        assert!(t.elapsed() >= Duration::from_millis(1500), "a cut host hangs until the timeout");
        lab.revive(1).unwrap();
        assert!(ssh(&lab, 1, "root", "true", 5).status.success());
    }

    lab.freeze(1).unwrap();
    let t = Instant::now();
    let out = ssh(&lab, 1, "root", "true", 2);
    assert!(!out.status.success() && t.elapsed() >= Duration::from_millis(1500), "{out:?}");
    lab.revive(1).unwrap();
    assert!(ssh(&lab, 1, "root", "true", 5).status.success());
}

#[test]
fn fifty_hosts_start_quickly_and_leave_nothing_behind() {
    let Some(lab) = lab(50, "fifty_hosts_start_quickly_and_leave_nothing_behind") else { return };
    eprintln!("50 hosts started in {:.1}s", lab.started_in().as_secs_f64());
    assert_eq!(lab.hosts().len(), 50);
    assert!(ssh(&lab, 49, "root", "true", 5).status.success());
    let dir = lab.dir().to_path_buf();
    let mode = lab.mode();
    let t = Instant::now();
    drop(lab);
    eprintln!("50 hosts torn down in {:.2}s", t.elapsed().as_secs_f64());
    assert!(!dir.exists(), "lab dir left behind");
    if mode == LabMode::Namespaces {
        let id = dir.file_name().unwrap().to_string_lossy().to_string();
        let ns =
            String::from_utf8_lossy(&Command::new("ip").args(["netns", "list"]).output().unwrap().stdout)
                .to_string();
        assert!(!ns.contains(&format!("btl{id}-")), "namespaces left: {ns}");
        let links =
            String::from_utf8_lossy(&Command::new("ip").args(["-o", "link"]).output().unwrap().stdout)
                .to_string();
        assert!(!links.contains(&format!("btl{id}:")) && !links.contains(&format!("btl{id}h")), "links left");
    }
}

#[test]
fn the_lab_inventory_works_with_the_opts() {
    let Some(lab) = lab(1, "the_lab_inventory_works_with_the_opts") else { return };
    let text = std::fs::read_to_string(lab.inventory_path()).unwrap();
    assert!(text.contains("[fleet]") && text.contains("host01 ansible_host="), "{text}");
    let _ = LabOptions::default();
}
