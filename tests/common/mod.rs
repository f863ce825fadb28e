//! Helpers shared by the integration tests: where the built `baton` binary is and how to run it.
//!
//! Also the lab fleet for tests: [`lab_or_skip`].
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The `baton` binary cargo built for this test run, so tests drive the real CLI.
pub fn baton_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_baton"))
}

/// What one `baton` invocation produced.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `baton` with `args`, feeding `stdin` (empty when `None`), and captures everything.
pub fn run_baton(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(baton_bin())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The JSON events `baton ... --json` printed, one per stdout line; other lines are skipped.
pub fn json_events(stdout: &str) -> Vec<serde_json::Value> {
    stdout.lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
}

/// Starts a lab of `n` hosts, or says loudly why not and returns `None` (the test then
/// passes without running: CI runs as root with sshd installed, so there it always runs).
pub fn lab_or_skip(n: usize, test: &str) -> Option<baton::lab::Lab> {
    if let Some(why) = baton::lab::Lab::unavailable() {
        eprintln!("SKIPPED: {test}: {why}");
        return None;
    }
    match baton::lab::Lab::start(baton::lab::LabOptions { hosts: n, ..Default::default() }) {
        Ok(lab) => Some(lab),
        Err(e) => panic!("the lab did not start: {e}"),
    }
}

/// Whether a program is on PATH.
pub fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// What one `baton play --json` run reported.
pub struct PlayRun {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub events: Vec<serde_json::Value>,
}

impl PlayRun {
    /// A recap counter (`changed`, `failed`, `ok`, ...) summed over every host.
    pub fn count(&self, key: &str) -> u64 {
        self.events
            .iter()
            .filter(|e| e["event"] == "run_finished")
            .flat_map(|e| e["stats"].as_array().cloned().unwrap_or_default())
            .map(|pair| pair[1][key].as_u64().unwrap_or(0))
            .sum()
    }

    /// The result of `task` on `host`, with the module's own keys (`data`) beside `status`,
    /// `msg`, `rc`, as a playbook's `register` sees them.
    pub fn result(&self, host: &str, task: &str) -> serde_json::Value {
        let Some(mut result) = self
            .events
            .iter()
            .find(|e| e["event"] == "host_result" && e["host"] == host && e["task"] == task)
            .map(|e| e["result"].clone())
        else {
            return serde_json::Value::Null;
        };
        if let Some(serde_json::Value::Object(data)) = result.as_object_mut().and_then(|r| r.remove("data")) {
            for (k, v) in data {
                result[k] = v;
            }
        }
        result
    }
}

/// Writes `yaml` as a playbook into `dir` and runs it with `baton play --json` and `extra` flags.
pub fn play(dir: &std::path::Path, inventory: &std::path::Path, yaml: &str, extra: &[&str]) -> PlayRun {
    let book = dir.join("play.yml");
    std::fs::write(&book, yaml).unwrap();
    play_file(&book, inventory, extra)
}

/// Runs the playbook `book` with `baton play --json` and `extra` flags.
pub fn play_file(book: &std::path::Path, inventory: &std::path::Path, extra: &[&str]) -> PlayRun {
    let inv = inventory.display().to_string();
    let book = book.display().to_string();
    let mut args = vec!["play", book.as_str(), "-i", inv.as_str(), "--json"];
    args.extend_from_slice(extra);
    let out = run_baton(&args, None);
    PlayRun { code: out.code, events: json_events(&out.stdout), stdout: out.stdout, stderr: out.stderr }
}
