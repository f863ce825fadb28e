//! `baton run` against the lab fleet over real SSH: many hosts at once, private filesystems,
//! host key checking, unreachable and frozen hosts, become with and without a password, and
//! an atomic 50 MB upload.

mod common;

use std::time::{Duration, Instant};

use baton::lab::LabMode;
use common::{json_events, lab_or_skip, run_baton};
use serde_json::Value;

fn results(stdout: &str) -> Vec<Value> {
    json_events(stdout).into_iter().filter(|e| e["event"] == "host_result").collect()
}

#[test]
fn twenty_hosts_answer_with_twenty_names() {
    let Some(lab) = lab_or_skip(20, "twenty_hosts_answer_with_twenty_names") else { return };
    let inv = lab.inventory_path().display().to_string();
    let out = run_baton(&["run", "all", "-i", &inv, "-m", "command", "-a", "hostname", "--json"], None);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let mut names: Vec<String> =
        results(&out.stdout).iter().map(|r| r["result"]["stdout"].as_str().unwrap().to_string()).collect();
    names.sort();
    names.dedup();
    if lab.mode() == LabMode::Namespaces {
        assert_eq!(names.len(), 20, "{names:?}");
        assert_eq!(names[0], "host01");
    }
    // The plain text output too, one line per host.
    let out = run_baton(&["run", "fleet", "-i", &inv, "-a", "hostname", "-o"], None);
    assert_eq!(out.stdout.lines().filter(|l| l.contains("| CHANGED | rc=0 |")).count(), 20, "{}", out.stdout);
}

#[test]
fn a_file_written_on_one_host_is_absent_on_the_others() {
    let Some(lab) = lab_or_skip(3, "a_file_written_on_one_host_is_absent_on_the_others") else { return };
    if lab.mode() != LabMode::Namespaces {
        eprintln!(
            "SKIPPED: a_file_written_on_one_host_is_absent_on_the_others: loopback hosts share the filesystem"
        );
        return;
    }
    let inv = lab.inventory_path().display().to_string();
    let out = run_baton(
        &["run", "host02", "-i", &inv, "-m", "copy", "-a", "dest=/etc/app.conf content=hello"],
        None,
    );
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let out = run_baton(
        &[
            "run",
            "all",
            "-i",
            &inv,
            "-m",
            "shell",
            "-a",
            "cat /etc/app.conf 2>/dev/null || echo absent",
            "--json",
        ],
        None,
    );
    let mut seen: Vec<(String, String)> = results(&out.stdout)
        .iter()
        .map(|r| {
            (r["host"].as_str().unwrap().to_string(), r["result"]["stdout"].as_str().unwrap().to_string())
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("host01".into(), "absent".into()),
            ("host02".into(), "hello".into()),
            ("host03".into(), "absent".into())
        ]
    );
}

#[test]
fn a_changed_host_key_is_refused() {
    let Some(lab) = lab_or_skip(2, "a_changed_host_key_is_refused") else { return };
    // A known_hosts where host01 has host02's key.
    let text = std::fs::read_to_string(lab.known_hosts()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let key_of_2 = lines[1].split_once(' ').unwrap().1;
    let first = lines[0].split_once(' ').unwrap().0;
    let forged = format!("{first} {key_of_2}\n{}\n", lines[1]);
    let kh = lab.dir().join("forged_known_hosts");
    std::fs::write(&kh, forged).unwrap();
    let inv_text = std::fs::read_to_string(lab.inventory_path())
        .unwrap()
        .replace(&lab.known_hosts().display().to_string(), &kh.display().to_string());
    let inv = lab.dir().join("forged.ini");
    std::fs::write(&inv, inv_text).unwrap();
    let out = run_baton(&["run", "all", "-i", &inv.display().to_string(), "-a", "true", "--json"], None);
    assert_eq!(out.code, Some(4), "{}", out.stdout);
    let events = json_events(&out.stdout);
    let refused = events.iter().find(|e| e["event"] == "host_unreachable").expect("an unreachable host");
    assert_eq!(refused["host"], "host01");
    let reason = refused["reason"].as_str().unwrap();
    assert!(reason.contains("does not match") && reason.contains("SHA256:"), "{reason}");
    assert!(results(&out.stdout).iter().any(|r| r["host"] == "host02" && r["result"]["status"] == "changed"));
}

#[test]
fn a_killed_host_is_unreachable_and_the_others_carry_on() {
    let Some(mut lab) = lab_or_skip(3, "a_killed_host_is_unreachable_and_the_others_carry_on") else {
        return;
    };
    lab.kill(1).unwrap();
    let inv = lab.inventory_path().display().to_string();
    let out = run_baton(&["run", "all", "-i", &inv, "-m", "ping", "--json"], None);
    assert_eq!(out.code, Some(4), "{}", out.stdout);
    let events = json_events(&out.stdout);
    let down: Vec<&Value> = events.iter().filter(|e| e["event"] == "host_unreachable").collect();
    assert_eq!(down.len(), 1);
    assert_eq!(down[0]["host"], "host02");
    assert!(down[0]["reason"].as_str().unwrap().contains("refused"), "{down:?}");
    assert_eq!(results(&out.stdout).iter().filter(|r| r["result"]["data"]["ping"] == "pong").count(), 2);
}

#[test]
fn a_frozen_host_times_out_within_the_timeout() {
    let Some(mut lab) = lab_or_skip(2, "a_frozen_host_times_out_within_the_timeout") else { return };
    lab.freeze(0).unwrap();
    let inv = lab.inventory_path().display().to_string();
    let started = Instant::now();
    let out = run_baton(&["run", "all", "-i", &inv, "-T", "3", "-a", "true", "--json"], None);
    let took = started.elapsed();
    assert_eq!(out.code, Some(4), "{}", out.stdout);
    assert!(took < Duration::from_secs(8), "took {took:?}");
    let events = json_events(&out.stdout);
    let down = events.iter().find(|e| e["event"] == "host_unreachable").unwrap();
    assert_eq!(down["host"], "host01");
    assert!(down["reason"].as_str().unwrap().contains("timed out"), "{down}");
    lab.revive(0).unwrap();
}

#[test]
fn become_with_and_without_a_password() {
    let Some(lab) = lab_or_skip(2, "become_with_and_without_a_password") else { return };
    if lab.mode() != LabMode::Namespaces {
        eprintln!("SKIPPED: become_with_and_without_a_password: loopback hosts have no deploy/op users");
        return;
    }
    let inv = lab.inventory_path().display().to_string();
    let out = run_baton(
        &["run", "all", "-i", &inv, "-u", "deploy", "-e", "ansible_user=deploy", "-b", "-a", "id -un", "-o"],
        None,
    );
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout.matches("(stdout) root").count(), 2, "{}", out.stdout);

    let op = ["run", "all", "-i", &inv, "-e", "ansible_user=op", "-b", "-a", "id -un", "-o"];
    let out = run_baton(&[&op[..], &["-e", "ansible_become_password=op-secret"]].concat(), None);
    assert_eq!(out.stdout.matches("(stdout) root").count(), 2, "{}{}", out.stdout, out.stderr);
    let out = run_baton(&[&op[..], &["-K"]].concat(), Some("op-secret\n"));
    assert_eq!(out.stdout.matches("(stdout) root").count(), 2, "{}{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("op-secret") && !out.stderr.contains("op-secret"), "the password leaked");
    let out = run_baton(&[&op[..], &["-e", "ansible_become_password=wrong"]].concat(), None);
    assert_eq!(out.code, Some(2), "{}", out.stdout);
    assert!(out.stdout.to_lowercase().contains("password"), "{}", out.stdout);
}

#[test]
fn a_50_mb_upload_is_atomic() {
    let Some(lab) = lab_or_skip(1, "a_50_mb_upload_is_atomic") else { return };
    let size = 50 * 1024 * 1024;
    let src = lab.dir().join("big.bin");
    std::fs::write(&src, vec![b'n'; size]).unwrap();
    lab.write_file(0, "/srv/big.bin", &vec![b'o'; size]).unwrap();
    // A reader on the host, all along: every read is the old file or the new one, whole.
    let watcher = lab.host_path(0, "/srv/big.bin").unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let reader = std::thread::spawn(move || {
        let (mut reads, mut torn) = (0, 0);
        while !stop2.load(std::sync::atomic::Ordering::SeqCst) {
            if let Ok(bytes) = std::fs::read(&watcher) {
                reads += 1;
                let whole = bytes.len() == size
                    && (bytes.iter().all(|b| *b == b'o') || bytes.iter().all(|b| *b == b'n'));
                if !whole {
                    torn += 1;
                }
            }
        }
        (reads, torn)
    });
    let inv = lab.inventory_path().display().to_string();
    let arg = format!("src={} dest=/srv/big.bin", src.display());
    let out = run_baton(&["run", "all", "-i", &inv, "-m", "copy", "-a", &arg], None);
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (reads, torn) = reader.join().unwrap();
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    eprintln!("{reads} reads during the upload, {torn} torn");
    assert!(reads > 1);
    assert_eq!(torn, 0);
    assert!(lab.read_file(0, "/srv/big.bin").unwrap().iter().all(|b| *b == b'n'));
}
