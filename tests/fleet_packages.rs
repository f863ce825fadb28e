//! `apt` and `package` on real fleet hosts, installing from a local apt repository that the
//! test builds on the host (two versions of a tiny `baton-hello` package, `file:` source with
//! `[trusted=yes]`): install, upgrade to latest, remove, install a .deb file, check mode.

mod common;

use baton::lab::{Lab, LabMode};
use common::{lab_or_skip, play};

/// Builds version `v` of `baton-hello` into /srv/repo on host `i` and reindexes the repo;
/// the host's own apt sources are replaced by that repo alone (the hosts have no network).
fn publish(lab: &Lab, i: usize, v: &str) {
    let script = format!(
        r#"set -e
rm -f /etc/apt/sources.list; rm -rf /etc/apt/sources.list.d/*
echo 'deb [trusted=yes] file:/srv/repo ./' > /etc/apt/sources.list.d/baton.list
d=/tmp/pkg/baton-hello-{v}; mkdir -p $d/DEBIAN $d/usr/share/baton-hello /srv/repo
printf 'Package: baton-hello\nVersion: {v}\nArchitecture: all\nMaintainer: Baton <baton@example.invalid>\nDescription: Baton test package\n' > $d/DEBIAN/control
echo {v} > $d/usr/share/baton-hello/version
dpkg-deb --root-owner-group -b $d /srv/repo/baton-hello_{v}_all.deb >/dev/null
cd /srv/repo; : > Packages
for f in *.deb; do dpkg-deb -f $f >> Packages; printf 'Filename: ./%s\nSize: %s\nSHA256: %s\n\n' $f $(stat -c %s $f) $(sha256sum $f | cut -d' ' -f1) >> Packages; done
"#
    );
    let out = lab.exec(i, &script).unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn installed(lab: &Lab, i: usize) -> String {
    let out =
        lab.exec(i, "dpkg-query -W -f='${db:Status-Abbrev}${Version}' baton-hello 2>/dev/null").unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn apt_and_package_install_upgrade_and_remove_from_a_local_repository() {
    let Some(lab) = lab_or_skip(2, "apt_and_package_install_upgrade_and_remove_from_a_local_repository")
    else {
        return;
    };
    if lab.mode() != LabMode::Namespaces {
        eprintln!("SKIPPED: apt test: loopback hosts share this machine's package database");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let inv = lab.inventory_path();
    publish(&lab, 0, "1.0");
    publish(&lab, 1, "1.0");

    let install = "- hosts: all\n  gather_facts: false\n  tasks:\n    - name: install\n      apt: name=baton-hello update_cache=yes\n";
    // Check mode first, on host02: it predicts the install and installs nothing.
    let run = play(dir.path(), &inv, install, &["-C", "--limit", "host02"]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert_eq!(run.count("changed"), 1);
    assert!(!installed(&lab, 1).starts_with("ii"), "check mode installed it: {}", installed(&lab, 1));

    let run = play(dir.path(), &inv, install, &["--limit", "host01"]);
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    assert_eq!(run.count("changed"), 1);
    assert_eq!(run.result("host01", "install")["cache_updated"], true);
    assert_eq!(installed(&lab, 0), "ii 1.0");
    // Again: the cache is refreshed, but nothing is installed, so `ok`.
    let run = play(dir.path(), &inv, install, &["--limit", "host01"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}", run.stdout);

    // A new version in the repository: `latest` upgrades, once.
    publish(&lab, 0, "2.0");
    let latest = "- hosts: host01\n  gather_facts: false\n  tasks:\n    - name: latest\n      apt:\n        name: [baton-hello]\n        state: latest\n        update_cache: true\n";
    let run = play(dir.path(), &inv, latest, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    assert_eq!(installed(&lab, 0), "ii 2.0");
    let run = play(dir.path(), &inv, latest, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}", run.stdout);

    // `package` finds apt by itself and removes; then a .deb file installs version 1.0.
    let remove = "- hosts: host01\n  gather_facts: false\n  tasks:\n    - name: remove\n      ansible.builtin.package: name=baton-hello state=absent\n";
    let run = play(dir.path(), &inv, remove, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    assert!(!installed(&lab, 0).starts_with("ii"), "{}", installed(&lab, 0));
    let run = play(dir.path(), &inv, remove, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}", run.stdout);
    let deb = "- hosts: host01\n  gather_facts: false\n  tasks:\n    - apt: deb=/srv/repo/baton-hello_1.0_all.deb\n";
    let run = play(dir.path(), &inv, deb, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 1), "{}{}", run.stdout, run.stderr);
    assert_eq!(installed(&lab, 0), "ii 1.0");
    let run = play(dir.path(), &inv, deb, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}", run.stdout);

    // A package apt does not know fails and names it.
    let unknown = "- hosts: host01\n  gather_facts: false\n  tasks:\n    - name: nope\n      apt: name=baton-nope state=latest\n";
    let run = play(dir.path(), &inv, unknown, &[]);
    assert_eq!(run.code, Some(2), "{}", run.stdout);
    let msg = run.result("host01", "nope")["msg"].as_str().unwrap_or_default().to_string();
    assert!(msg.contains("baton-nope"), "{msg}");
}
