//! `service` and `systemd_service` on a real fleet host. The lab hosts run no systemd (no PID 1
//! of their own), so the service is an LSB init script driven through `service` and
//! `update-rc.d`, really started and stopped; `systemd_service` there must refuse clearly.

mod common;

use baton::lab::{Lab, LabMode};
use common::{lab_or_skip, play};

fn sh(lab: &Lab, i: usize, cmd: &str) -> String {
    let out = lab.exec(i, cmd).unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn running(lab: &Lab, i: usize) -> bool {
    sh(lab, i, "service bdemo status >/dev/null 2>&1 && echo yes || echo no") == "yes"
}

#[test]
fn an_init_script_service_is_started_enabled_restarted_and_stopped() {
    let Some(lab) = lab_or_skip(2, "an_init_script_service_is_started_enabled_restarted_and_stopped") else {
        return;
    };
    if lab.mode() != LabMode::Namespaces {
        eprintln!("SKIPPED: service test: loopback hosts share this machine's /etc/init.d");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let inv = lab.inventory_path();
    let script = std::fs::read("tests/differential/files/bdemo.init").unwrap();
    for i in 0..2 {
        lab.write_file(i, "/etc/init.d/bdemo", &script).unwrap();
        sh(&lab, i, "chmod 755 /etc/init.d/bdemo");
    }
    let start = "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: up\n      service: { name: bdemo, state: started, enabled: true }\n";
    let run = play(dir.path(), &inv, start, &["-C", "--limit", "host02"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    assert!(!running(&lab, 1));
    assert_eq!(sh(&lab, 1, "ls /etc/rc2.d | grep -c bdemo || true"), "0");

    let run = play(dir.path(), &inv, start, &["--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    assert!(running(&lab, 0));
    assert_eq!(sh(&lab, 0, "ls /etc/rc2.d | grep bdemo"), "S01bdemo");
    assert_eq!(run.result("host01", "up")["state"], "started");
    let run = play(dir.path(), &inv, start, &["--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}", run.stdout);

    let restart = "- hosts: host01\n  gather_facts: false\n  tasks:\n    - service: { name: bdemo, state: restarted }\n    - service: { name: bdemo, state: reloaded }\n";
    let pid = sh(&lab, 0, "cat /run/bdemo.pid");
    let run = play(dir.path(), &inv, restart, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 2), "{}{}", run.stdout, run.stderr);
    assert_ne!(sh(&lab, 0, "cat /run/bdemo.pid"), pid, "restart kept the old process");
    assert_eq!(sh(&lab, 0, "tail -n 3 /var/log/bdemo.log | tr '\\n' ' '"), "stop start reload");

    let stop = "- hosts: host01\n  gather_facts: false\n  tasks:\n    - service: { name: bdemo, state: stopped, enabled: false }\n";
    let run = play(dir.path(), &inv, stop, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    assert!(!running(&lab, 0));
    assert_eq!(sh(&lab, 0, "ls /etc/rc2.d | grep bdemo"), "K01bdemo");
    let run = play(dir.path(), &inv, stop, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}", run.stdout);

    let missing = "- hosts: host01\n  gather_facts: false\n  tasks:\n    - name: nope\n      service: { name: baton-nope, state: started }\n";
    let run = play(dir.path(), &inv, missing, &[]);
    assert_eq!(run.code, Some(2));
    assert!(
        run.result("host01", "nope")["msg"]
            .as_str()
            .unwrap_or_default()
            .contains("Could not find the requested service")
    );

    let systemd = "- hosts: host01\n  gather_facts: false\n  tasks:\n    - name: sd\n      systemd: { name: bdemo, state: started }\n";
    let run = play(dir.path(), &inv, systemd, &[]);
    assert_eq!(run.code, Some(2));
    let msg = run.result("host01", "sd")["msg"].as_str().unwrap_or_default().to_string();
    assert!(msg.contains("systemd is not running on this host"), "{msg}");
}
