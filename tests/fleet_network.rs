//! `get_url`, `uri` and `wait_for` on the lab fleet: host01 serves HTTP (a small Python
//! server over the machine's own python3), host02 downloads, calls and waits with curl from
//! the host itself. First runs change, second runs do not, a bad checksum fails and leaves no
//! file, a status mismatch fails with Ansible's message, a closed port times out fast, and
//! check mode changes nothing.

mod common;

use std::time::Instant;

use baton::lab::{Lab, LabMode};
use common::{PlayRun, lab_or_skip, play};
use serde_json::json;

/// GET serves files from the directory; POST answers 201 with the JSON it got and its type.
const SERVER: &str = r#"
import http.server, json, os, sys
class H(http.server.SimpleHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n)
        out = json.dumps({"got": json.loads(body or b"null"), "ctype": self.headers.get("Content-Type")}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def log_message(self, *args):
        pass
os.chdir(sys.argv[2])
http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), H).serve_forever()
"#;

const SHA256_HI: &str = "98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4";

fn sh(lab: &Lab, i: usize, script: &str) -> String {
    let out = lab.exec(i, script).unwrap();
    assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn show(run: &PlayRun) -> String {
    format!("{}\n{}", run.stdout, run.stderr)
}

/// Starts the server on host `i` and returns its `addr:port`, once it answers.
fn serve(lab: &Lab, i: usize, port: u16) -> String {
    lab.write_file(i, "/srv/server.py", SERVER.as_bytes()).unwrap();
    sh(
        lab,
        i,
        &format!(
            "mkdir -p /srv/www && echo hi > /srv/www/a.txt && printf '{{\"name\": \"baton\", \"n\": [1, 2]}}' > /srv/www/data.json \
             && printf '%s  a.txt\\n0000  other.txt\\n' {SHA256_HI} > /srv/www/SHA256SUMS \
             && (setsid /usr/bin/python3 /srv/server.py {port} /srv/www >/dev/null 2>&1 &) \
             && for n in $(seq 50); do curl -fs http://127.0.0.1:{port}/a.txt >/dev/null && exit 0; sleep 0.1; done; exit 1"
        ),
    );
    format!("{}:{port}", lab.hosts()[i].addr)
}

fn book(tasks: &str) -> String {
    format!("- hosts: host02\n  gather_facts: false\n  tasks:\n{tasks}")
}

#[test]
fn get_url_uri_and_wait_for_against_a_server_on_another_host() {
    let Some(lab) = lab_or_skip(2, "get_url_uri_and_wait_for_against_a_server_on_another_host") else {
        return;
    };
    let inv = lab.inventory_path();
    let dir = tempfile::tempdir().unwrap();
    // Loopback labs share one network: a port of our own.
    let port = 20000 + (std::process::id() % 20000) as u16;
    let server = serve(&lab, 0, port);
    sh(&lab, 1, "rm -rf /srv/net && mkdir -p /srv/net/sums");

    // --- get_url -------------------------------------------------------------------------
    let downloads = book(&format!(
        "    - name: plain
      get_url: url=http://{server}/a.txt dest=/srv/net/a.txt mode=0640
    - name: digest
      get_url:
        url: http://{server}/a.txt
        dest: /srv/net/b.txt
        checksum: sha256:{SHA256_HI}
    - name: sums file
      get_url:
        url: http://{server}/a.txt
        dest: /srv/net/sums/
        checksum: sha256:http://{server}/SHA256SUMS
"
    ));
    // Check mode predicts three downloads and writes nothing.
    let run = play(dir.path(), &inv, &downloads, &["-C"]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 3), "{}", show(&run));
    assert_eq!(sh(&lab, 1, "find /srv/net -type f | wc -l"), "0");

    let run = play(dir.path(), &inv, &downloads, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 3), "{}", show(&run));
    assert_eq!(sh(&lab, 1, "cat /srv/net/a.txt /srv/net/b.txt"), "hi\nhi");
    assert_eq!(sh(&lab, 1, "stat -c %a /srv/net/a.txt"), "640");
    let r = run.result("host02", "plain");
    assert_eq!(
        (r["dest"].clone(), r["status_code"].clone(), r["size"].clone(), r["msg"].clone()),
        (json!("/srv/net/a.txt"), json!(200), json!(3), json!("OK (3 bytes)")),
        "{r}"
    );
    assert_eq!(r["checksum_src"], "55ca6286e3e4f4fba5d0448333fa99fc5a404a73");
    assert_eq!(run.result("host02", "sums file")["dest"], "/srv/net/sums/a.txt");
    assert_eq!(sh(&lab, 1, "cat /srv/net/sums/a.txt"), "hi");
    // The second run downloads nothing.
    let run = play(dir.path(), &inv, &downloads, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}", show(&run));
    assert_eq!(run.result("host02", "plain")["msg"], "file already exists");

    // A wrong digest fails and leaves neither the file nor a temp file.
    let wrong = book(&format!(
        "    - name: wrong digest
      get_url:
        url: http://{server}/a.txt
        dest: /srv/net/bad.txt
        checksum: sha256:{}
",
        "0".repeat(64)
    ));
    let run = play(dir.path(), &inv, &wrong, &[]);
    assert_eq!(run.code, Some(2), "{}", show(&run));
    let msg = run.result("host02", "wrong digest")["msg"].as_str().unwrap_or_default().to_string();
    assert!(msg.contains(&format!("did not match {}; it was {SHA256_HI}", "0".repeat(64))), "{msg}");
    assert_eq!(
        sh(&lab, 1, "find /srv/net | sort | tr '\\n' ' '"),
        "/srv/net /srv/net/a.txt /srv/net/b.txt /srv/net/sums /srv/net/sums/a.txt"
    );

    // --- uri -----------------------------------------------------------------------------
    let calls = book(&format!(
        "    - name: get json
      uri:
        url: http://{server}/data.json
        return_content: true
    - name: post json
      uri:
        url: http://{server}/items
        method: POST
        body_format: json
        body: {{ a: 1, tags: [x, y] }}
        status_code: [200, 201]
"
    ));
    let run = play(dir.path(), &inv, &calls, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}", show(&run));
    let r = run.result("host02", "get json");
    assert_eq!(r["json"], json!({"name": "baton", "n": [1, 2]}), "{r}");
    assert_eq!(r["content"], "{\"name\": \"baton\", \"n\": [1, 2]}");
    assert_eq!((r["status"].clone(), r["content_type"].clone()), (json!(200), json!("application/json")));
    assert_eq!(r["url"], format!("http://{server}/data.json"));
    let r = run.result("host02", "post json");
    assert_eq!(r["status"], 201, "{r}");
    assert_eq!(r["json"], json!({"got": {"a": 1, "tags": ["x", "y"]}, "ctype": "application/json"}));

    let missing = book(&format!("    - name: missing\n      uri: url=http://{server}/missing\n"));
    let run = play(dir.path(), &inv, &missing, &[]);
    assert_eq!(run.code, Some(2), "{}", show(&run));
    let r = run.result("host02", "missing");
    assert_eq!(r["msg"], "Status code was 404 and not [200]: HTTP Error 404: File not found", "{r}");
    assert_eq!(r["status"], 404);

    // --- wait_for ------------------------------------------------------------------------
    let host = server.split(':').next().unwrap().to_string();
    let closed = port + 1;
    sh(&lab, 1, "printf 'boot\\napp ready on 8443\\n' > /srv/net/app.log");
    let waits = book(&format!(
        "    - name: port up
      wait_for: host={host} port={port} timeout=10
    - name: closed stays closed
      wait_for: host={host} port={closed} state=stopped timeout=5
    - name: log line
      wait_for:
        path: /srv/net/app.log
        search_regex: 'ready on (?P<port>\\d+)'
        timeout: 5
"
    ));
    let run = play(dir.path(), &inv, &waits, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}", show(&run));
    assert_eq!(run.result("host02", "port up")["port"], port);
    let r = run.result("host02", "log line");
    assert_eq!(
        (r["match_groups"].clone(), r["match_groupdict"].clone()),
        (json!(["8443"]), json!({"port": "8443"}))
    );
    // Check mode skips them, as Ansible does.
    let run = play(dir.path(), &inv, &waits, &["-C"]);
    assert_eq!((run.code, run.count("changed"), run.count("skipped")), (Some(0), 0, 3), "{}", show(&run));

    let timeout =
        book(&format!("    - name: closed port\n      wait_for: host={host} port={closed} timeout=2\n"));
    let started = Instant::now();
    let run = play(dir.path(), &inv, &timeout, &[]);
    assert_eq!(run.code, Some(2), "{}", show(&run));
    assert!(started.elapsed().as_secs() < 15, "took {:?}", started.elapsed());
    let r = run.result("host02", "closed port");
    assert_eq!(r["msg"], format!("Timeout when waiting for {host}:{closed}"), "{r}");
    assert!(r["elapsed"].as_u64().is_some_and(|e| (2..=4).contains(&e)), "{r}");
}

#[test]
fn wget_stands_in_for_curl_and_written_files_change_once() {
    let Some(lab) = lab_or_skip(2, "wget_stands_in_for_curl_and_written_files_change_once") else {
        return;
    };
    let inv = lab.inventory_path();
    let dir = tempfile::tempdir().unwrap();
    let port = 20000 + ((std::process::id() + 7) % 20000) as u16;
    let server = serve(&lab, 0, port);
    sh(&lab, 1, "rm -rf /srv/net && mkdir -p /srv/net && echo old > /srv/net/a.txt");

    // force=yes replaces a different file once, with a backup; uri writes dest once; creates
    // skips; an ad-hoc call works too.
    let tasks = book(&format!(
        "    - name: forced
      get_url: url=http://{server}/a.txt dest=/srv/net/a.txt force=yes backup=yes
    - name: saved
      uri:
        url: http://{server}/data.json
        dest: /srv/net/data.json
        mode: '0600'
    - name: guarded
      uri:
        url: http://{server}/missing
        creates: /srv/net/a.txt
"
    ));
    let run = play(dir.path(), &inv, &tasks, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 2), "{}", show(&run));
    let backup = run.result("host02", "forced")["backup_file"].as_str().unwrap_or_default().to_string();
    assert!(backup.starts_with("/srv/net/a.txt."), "{}", show(&run));
    assert_eq!(sh(&lab, 1, &format!("cat /srv/net/a.txt {backup}")), "hi\nold");
    assert_eq!(sh(&lab, 1, "stat -c %a /srv/net/data.json"), "600");
    assert_eq!(run.result("host02", "saved")["json"]["name"], "baton");
    assert_eq!(run.result("host02", "guarded")["stdout"], "skipped, since '/srv/net/a.txt' exists");
    let run = play(dir.path(), &inv, &tasks, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 0), "{}", show(&run));

    // Without curl on host02 (its own overlay), wget makes the same requests. A loopback lab
    // shares this machine's files: there curl stays.
    if lab.mode() != LabMode::Namespaces {
        eprintln!("SKIPPED: the wget half: loopback hosts share the machine's /usr/bin");
        return;
    }
    sh(&lab, 1, "mv /usr/bin/curl /usr/bin/curl.off && rm -rf /srv/net && mkdir -p /srv/net");
    assert_eq!(sh(&lab, 1, "command -v curl || echo none"), "none");
    let run = play(dir.path(), &inv, &tasks, &[]);
    assert_eq!((run.code, run.count("changed")), (Some(0), 2), "{}", show(&run));
    assert_eq!(sh(&lab, 1, "cat /srv/net/a.txt"), "hi");
    assert_eq!(run.result("host02", "saved")["content_type"], "application/json");
    let missing = book(&format!("    - name: missing\n      uri: url=http://{server}/missing\n"));
    let run = play(dir.path(), &inv, &missing, &[]);
    assert_eq!(
        run.result("host02", "missing")["msg"],
        "Status code was 404 and not [200]: HTTP Error 404: File not found",
        "{}",
        show(&run)
    );
    let inv_s = inv.display().to_string();
    let out = common::run_baton(
        &[
            "run",
            "host02",
            "-i",
            &inv_s,
            "-m",
            "uri",
            "-a",
            &format!("url=http://{server}/data.json"),
            "--json",
        ],
        None,
    );
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let results: Vec<_> =
        common::json_events(&out.stdout).into_iter().filter(|e| e["event"] == "host_result").collect();
    assert_eq!(results[0]["result"]["data"]["json"]["n"], json!([1, 2]), "{}", out.stdout);
    sh(&lab, 1, "mv /usr/bin/curl.off /usr/bin/curl");
}
