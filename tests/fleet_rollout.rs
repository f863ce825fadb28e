//! Rollouts on the lab fleet behind a real haproxy, under constant load: the rolling deploy
//! and the blue/green switch of `examples/` must answer every request (0 failed, each from
//! the old or the new version), and a broken version must stop after its batch, be rolled
//! back, and never be served by the load balancer.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use baton::lab::{Lab, LabMode};
use common::{json_events, lab_or_skip, run_baton};
use serde_json::Value;

/// What the load generator saw: responses by body (`v1 on host02`), and failures.
#[derive(Debug, Default)]
struct Load {
    by_body: BTreeMap<String, u32>,
    failed: u32,
    sent: u32,
}

impl Load {
    fn versions(&self) -> BTreeMap<String, u32> {
        let mut v = BTreeMap::new();
        for (body, n) in &self.by_body {
            *v.entry(body.split_whitespace().next().unwrap_or_default().to_string()).or_default() += n;
        }
        v
    }

    fn served_by(&self, version: &str, host: &str) -> u32 {
        self.by_body.get(&format!("{version} on {host}")).copied().unwrap_or(0)
    }
}

/// One HTTP/1.0 GET; the body, or why it failed.
fn get(addr: SocketAddr) -> Result<String, String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(3))).map_err(|e| e.to_string())?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: shop\r\n\r\n").map_err(|e| e.to_string())?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).map_err(|e| e.to_string())?;
    let (head, body) = buf.split_once("\r\n\r\n").ok_or("no header end")?;
    if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
        return Err(head.lines().next().unwrap_or_default().to_string());
    }
    Ok(body.trim().to_string())
}

/// Requests through the load balancer, back to back from two threads, until stopped.
fn load_while<T>(lb: SocketAddr, work: impl FnOnce() -> T) -> (T, Load) {
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut load = Load::default();
                while !stop.load(Ordering::SeqCst) {
                    load.sent += 1;
                    match get(lb) {
                        Ok(body) => *load.by_body.entry(body).or_default() += 1,
                        Err(_) => load.failed += 1,
                    }
                }
                load
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let out = work();
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    let mut total = Load::default();
    for w in workers {
        let l = w.join().unwrap();
        total.sent += l.sent;
        total.failed += l.failed;
        for (k, v) in l.by_body {
            *total.by_body.entry(k).or_default() += v;
        }
    }
    (out, total)
}

fn play(lab: &Lab, example: &str, playbook: &str, extra: &[&str]) -> (Option<i32>, Vec<Value>, String) {
    let dir = format!("examples/{example}");
    let inv = lab.inventory_path().display().to_string();
    let pb = format!("{dir}/{playbook}");
    let groups = format!("{dir}/groups.ini");
    let mut args = vec![if playbook.starts_with("rollback:") { "rollback" } else { "play" }];
    let pb = pb.replace("rollback:", "");
    args.extend_from_slice(&[pb.as_str(), "-i", &inv, "-i", &groups, "--json"]);
    args.extend_from_slice(extra);
    let out = run_baton(&args, None);
    (out.code, json_events(&out.stdout), out.stderr)
}

fn summary(events: &[Value]) -> Value {
    events.iter().rev().find(|e| e["event"] == "rollout").cloned().unwrap_or(Value::Null)
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap_or_default().to_string()).collect())
        .unwrap_or_default()
}

fn lab_for(test: &str) -> Option<Lab> {
    let lab = lab_or_skip(5, test)?;
    if lab.mode() != LabMode::Namespaces {
        eprintln!("SKIPPED: {test}: needs root (hosts with their own addresses for haproxy)");
        return None;
    }
    if !std::path::Path::new("/usr/sbin/haproxy").exists() || !common::have("socat") {
        eprintln!("SKIPPED: {test}: needs haproxy and socat (apt-get install haproxy socat)");
        return None;
    }
    Some(lab)
}

fn lb(lab: &Lab) -> SocketAddr {
    SocketAddr::from((lab.hosts()[0].addr, 80))
}

#[test]
fn rolling_deploy_under_load_then_a_broken_version_is_stopped_and_rolled_back() {
    let Some(lab) = lab_for("rolling_deploy_under_load_then_a_broken_version_is_stopped_and_rolled_back")
    else {
        return;
    };
    let (code, _, err) = play(&lab, "rolling-deploy", "setup.yml", &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(get(lb(&lab)).unwrap().starts_with("v1 on host0"));

    // A good version, one host at a time, under load.
    let ((code, events, err), load) =
        load_while(lb(&lab), || play(&lab, "rolling-deploy", "deploy.yml", &["-e", "app_version=v2"]));
    eprintln!(
        "rolling v1 -> v2: sent {}, failed {}, by version {:?}",
        load.sent,
        load.failed,
        load.versions()
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(names(&summary(&events)["updated"]), ["host02", "host03", "host04", "host05"]);
    assert_eq!(load.failed, 0, "{load:?}");
    assert!(load.versions().keys().all(|v| v == "v1" || v == "v2"), "{load:?}");
    assert!(load.sent > 50, "the load generator barely ran: {load:?}");
    assert!(get(lb(&lab)).unwrap().starts_with("v2 on"));
    // Every host's audit log says what it runs now.
    let inv = lab.inventory_path().display().to_string();
    let out = run_baton(
        &[
            "status",
            "web",
            "-i",
            &inv,
            "-i",
            "examples/rolling-deploy/groups.ini",
            "--lock",
            "shop",
            "--json",
        ],
        None,
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let records: Vec<Value> = json_events(&out.stdout);
    assert_eq!(records.len(), 4, "{}", out.stdout);
    assert!(records.iter().all(|r| r["version"] == "v2" && r["result"] == "updated"), "{records:?}");

    // A broken version: the first batch fails its checks, is rolled back, the rest untouched.
    let ((code, events, _), load) = load_while(lb(&lab), || {
        play(&lab, "rolling-deploy", "deploy.yml", &["-e", "app_version=v3", "-e", "broken=true"])
    });
    eprintln!(
        "rolling v2 -> broken v3: sent {}, failed {}, by version {:?}",
        load.sent,
        load.failed,
        load.versions()
    );
    assert_eq!(code, Some(2));
    let s = summary(&events);
    assert_eq!(names(&s["failed"]), ["host02"]);
    assert_eq!(names(&s["rolled_back"]), ["host02"]);
    assert_eq!(names(&s["untouched"]), ["host03", "host04", "host05"]);
    assert_eq!(load.failed, 0, "{load:?}");
    assert_eq!(
        load.served_by("v3", "host02"),
        0,
        "the load balancer sent requests to the broken host: {load:?}"
    );
    for i in 1..5 {
        let page = String::from_utf8(lab.read_file(i, "/srv/shop/current/index.html").unwrap()).unwrap();
        assert!(page.starts_with("v2 on"), "host{:02} serves {page}", i + 1);
    }
    // Everything serves v2 again, through the load balancer.
    let (_, after) = load_while(lb(&lab), || std::thread::sleep(Duration::from_millis(500)));
    assert!(after.versions().keys().all(|v| v == "v2") && after.failed == 0, "{after:?}");

    // `baton rollback`: the whole fleet back one release, with the same gates.
    let ((code, events, err), load) = load_while(lb(&lab), || {
        play(&lab, "rolling-deploy", "rollback:deploy.yml", &["-e", "app_version=v1"])
    });
    eprintln!(
        "rollback v2 -> v1: sent {}, failed {}, by version {:?}",
        load.sent,
        load.failed,
        load.versions()
    );
    assert_eq!(code, Some(0), "{err} {events:?}");
    assert_eq!(load.failed, 0, "{load:?}");
    assert!(get(lb(&lab)).unwrap().starts_with("v1 on"));
}

#[test]
fn blue_green_switch_under_load_and_instant_rollback() {
    let Some(lab) = lab_for("blue_green_switch_under_load_and_instant_rollback") else { return };
    let (code, _, err) = play(&lab, "blue-green", "setup.yml", &[]);
    assert_eq!(code, Some(0), "{err}");
    let first = get(lb(&lab)).unwrap();
    assert!(first == "v1 on host02" || first == "v1 on host03", "blue serves: {first}");

    let ((code, events, err), load) =
        load_while(lb(&lab), || play(&lab, "blue-green", "deploy.yml", &["-e", "app_version=v2"]));
    eprintln!("blue/green v1 -> v2: sent {}, failed {}, by body {:?}", load.sent, load.failed, load.by_body);
    assert_eq!(code, Some(0), "{err} {events:?}");
    assert_eq!(load.failed, 0, "{load:?}");
    assert!(load.versions().keys().all(|v| v == "v1" || v == "v2"), "{load:?}");
    // Green serves v2 now; blue still has v1, for the rollback.
    let now = get(lb(&lab)).unwrap();
    assert!(now == "v2 on host04" || now == "v2 on host05", "{now}");
    let blue = String::from_utf8(lab.read_file(1, "/srv/shop/current/index.html").unwrap()).unwrap();
    assert!(blue.starts_with("v1 on host02"), "{blue}");

    let ((code, _, err), load) =
        load_while(lb(&lab), || play(&lab, "blue-green", "rollback:deploy.yml", &["-e", "app_version=v1"]));
    eprintln!("blue/green rollback: sent {}, failed {}", load.sent, load.failed);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(load.failed, 0);
    assert!(get(lb(&lab)).unwrap().starts_with("v1 on host0"));

    // A broken version on the idle color never reaches the load balancer.
    let ((code, _, _), load) = load_while(lb(&lab), || {
        play(&lab, "blue-green", "deploy.yml", &["-e", "app_version=v3", "-e", "broken=true"])
    });
    assert_ne!(code, Some(0));
    assert_eq!(load.failed, 0);
    assert!(load.versions().keys().all(|v| v == "v1"), "{load:?}");
    let _ = Ipv4Addr::LOCALHOST;
}
