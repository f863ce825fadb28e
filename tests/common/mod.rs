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
