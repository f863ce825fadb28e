//! Differential tests: every playbook in tests/differential/ runs with ansible-playbook
//! (ansible-core from PyPI, the oracle) on one fresh lab host and with `baton play` on another,
//! over real SSH, in three steps: check mode, a first run, a second run. After each step the two
//! hosts must hold the same files under `/srv/t` (paths, types, modes, owners, contents, link
//! targets) and under the paths a `# compare: PATH...` header names, the same output for each
//! `# state: COMMAND` header, and the tools must report the same changed counts. Check mode
//! must leave `/srv/t` (made empty before the runs) empty. The playbooks assert on registered
//! results themselves. `# setup: COMMAND` runs as root on both hosts before the runs (outside
//! either tool, e.g. a test HTTP server) and `# teardown: COMMAND` after them.
//!
//! One test per playbook, so cargo runs two at a time; a test checks that none is left out.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use baton::lab::{Lab, LabMode};
use common::{have, lab_or_skip, play_file};

const DIR: &str = "tests/differential";
const ROOT: &str = "/srv/t";

/// Path -> (type, mode, uid:gid, content or link target) for everything under `root`.
type Tree = BTreeMap<String, (char, u32, String, String)>;

fn tree(root: &Path, name: &str, out: &mut Tree) {
    if std::fs::symlink_metadata(root).is_err() {
        return;
    }
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let Ok(entry) = entry else { continue };
        let rel = format!("{name}{}", entry.path().strip_prefix(root).unwrap().display());
        let meta = std::fs::symlink_metadata(entry.path()).unwrap();
        let mode = meta.permissions().mode() & 0o7777;
        let owner = format!("{}:{}", meta.uid(), meta.gid());
        let item = if meta.file_type().is_symlink() {
            ('l', 0, owner, std::fs::read_link(entry.path()).unwrap().display().to_string())
        } else if meta.is_dir() {
            ('d', mode, owner, String::new())
        } else {
            ('f', mode, owner, String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap()).into_owned())
        };
        out.insert(rel, item);
    }
}

/// What a playbook's header asks to compare besides /srv/t.
struct Header {
    paths: Vec<String>,
    states: Vec<String>,
    /// `# setup:` commands run as root on both hosts before the runs, `# teardown:` after.
    setup: Vec<String>,
    teardown: Vec<String>,
}

fn header(text: &str) -> Header {
    let mut h = Header { paths: Vec::new(), states: Vec::new(), setup: Vec::new(), teardown: Vec::new() };
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        if let Some(p) = line.strip_prefix("# compare:") {
            h.paths.extend(p.split_whitespace().map(String::from));
        } else if let Some(c) = line.strip_prefix("# state:") {
            h.states.push(c.trim().to_string());
        } else if let Some(c) = line.strip_prefix("# setup:") {
            h.setup.push(c.trim().to_string());
        } else if let Some(c) = line.strip_prefix("# teardown:") {
            h.teardown.push(c.trim().to_string());
        }
    }
    h
}

/// Everything compared on host `i`.
fn snapshot(lab: &Lab, i: usize, h: &Header) -> Tree {
    let mut out = Tree::new();
    for path in std::iter::once(ROOT.to_string()).chain(h.paths.iter().cloned()) {
        tree(&lab.host_path(i, &path).unwrap(), &path, &mut out);
    }
    for cmd in &h.states {
        let o = lab.exec(i, cmd).unwrap();
        let text = format!("rc={:?}\n{}", o.status.code(), String::from_utf8_lossy(&o.stdout));
        out.insert(format!("$ {cmd}"), ('s', 0, String::new(), text));
    }
    out
}

/// A run that failed: the first task that failed, and what the tool said.
struct Failure {
    task: String,
    detail: String,
}

fn ansible(lab: &Lab, book: &str, check: bool) -> Result<u64, Failure> {
    let home = lab.dir().join("ansible-home");
    let mut cmd = Command::new("ansible-playbook");
    cmd.current_dir(DIR)
        .args([book, "-i"])
        .arg(lab.inventory_path())
        .args(["--limit", "host01", "-e", &format!("root={ROOT}")])
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .env("ANSIBLE_PIPELINING", "1")
        .env("ANSIBLE_HOME", &home)
        .env("ANSIBLE_LOCAL_TEMP", home.join("tmp"));
    if check {
        cmd.arg("--check");
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        let lines: Vec<&str> = text.lines().collect();
        let fatal = lines.iter().position(|l| l.starts_with("fatal:")).unwrap_or(lines.len());
        let task = lines[..fatal]
            .iter()
            .rev()
            .find_map(|l| {
                l.strip_prefix("TASK [")
                    .or_else(|| l.strip_prefix("RUNNING HANDLER ["))
                    .and_then(|t| t.rsplit_once(']'))
                    .map(|(t, _)| t.to_string())
            })
            .unwrap_or_default();
        let detail = format!("{}\n{}", lines.get(fatal).unwrap_or(&""), String::from_utf8_lossy(&out.stderr));
        return Err(Failure { task, detail });
    }
    let recap = text
        .lines()
        .rev()
        .find(|l| l.starts_with("host01") && l.contains("changed="))
        .ok_or(Failure { task: String::new(), detail: text.clone() })?;
    Ok(recap.split("changed=").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap())
}

fn baton(lab: &Lab, book: &str, check: bool) -> Result<u64, Failure> {
    let path = Path::new(DIR).join(book);
    let root = format!("root={ROOT}");
    let mut extra = vec!["--limit", "host02", "-e", root.as_str()];
    if check {
        extra.push("--check");
    }
    let run = play_file(&path, &lab.inventory_path(), &extra);
    if run.code != Some(0) {
        // The failure that stopped the host: not one whose error was ignored.
        let ignored = |e: &serde_json::Value| {
            run.events
                .iter()
                .any(|i| i["event"] == "ignored" && i["task"] == e["task"] && i["host"] == e["host"])
        };
        let failed = run
            .events
            .iter()
            .find(|e| e["event"] == "host_result" && e["result"]["status"] == "failed" && !ignored(e));
        return Err(Failure {
            task: failed.and_then(|e| e["task"].as_str()).unwrap_or_default().to_string(),
            detail: format!(
                "exit {:?}: {}\n{}",
                run.code,
                failed.map(|e| e["result"].to_string()).unwrap_or_default(),
                run.stderr
            ),
        });
    }
    Ok(run.count("changed"))
}

fn show(r: &Result<u64, Failure>) -> String {
    match r {
        Ok(changed) => format!("ok, changed={changed}"),
        Err(f) => format!("failed at task `{}`: {}", f.task, f.detail),
    }
}

fn differential(book: &str) {
    let test = format!("differential {book}");
    if !have("ansible-playbook") {
        eprintln!("SKIPPED: {test}: ansible-playbook is not installed (pip install ansible-core)");
        return;
    }
    let Some(lab) = lab_or_skip(2, &test) else { return };
    if lab.mode() != LabMode::Namespaces {
        eprintln!(
            "SKIPPED: {test}: loopback hosts share one filesystem, so the two tools' results would mix"
        );
        return;
    }
    let text = std::fs::read_to_string(Path::new(DIR).join(book)).unwrap();
    let h = header(&text);
    for i in 0..2 {
        assert!(lab.exec(i, &format!("mkdir -p {ROOT}")).unwrap().status.success());
        for cmd in &h.setup {
            let out = lab.exec(i, cmd).unwrap();
            assert!(out.status.success(), "setup `{cmd}`: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
    let mut problems = Vec::new();
    for (step, check) in [("check", true), ("first", false), ("second", false)] {
        // Both tools at once, each on its own host.
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| ansible(&lab, book, check));
            let b = baton(&lab, book, check);
            (a.join().unwrap(), b)
        });
        match (a, b) {
            (Ok(ca), Ok(cb)) => {
                eprintln!("{book} {step} run: changed ansible={ca} baton={cb}");
                if ca != cb {
                    problems.push(format!("{step} run: changed {cb} with baton, {ca} with ansible"));
                }
            }
            // Some playbooks cannot run in check mode (a file a later task edits is never
            // created); then both tools must stop at the same task.
            (Err(fa), Err(fb)) if check && fa.task == fb.task => {
                eprintln!("{book} check run: both stop at task `{}`", fa.task);
            }
            (a, b) => panic!("{book} ({step} run):\nansible: {}\nbaton: {}", show(&a), show(&b)),
        }
        let (ta, tb) = (snapshot(&lab, 0, &h), snapshot(&lab, 1, &h));
        for (path, item) in &ta {
            if tb.get(path) != Some(item) {
                problems
                    .push(format!("{step} run: {path}:\n  ansible {item:?}\n  baton   {:?}", tb.get(path)));
            }
        }
        for path in tb.keys().filter(|p| !ta.contains_key(*p)) {
            problems.push(format!("{step} run: {path} only with baton"));
        }
        if check && tb.keys().any(|p| p.starts_with(&format!("{ROOT}/"))) {
            problems
                .push(format!("check run: baton wrote under {ROOT}: {:?}", tb.keys().collect::<Vec<_>>()));
        }
    }
    for i in 0..2 {
        for cmd in &h.teardown {
            let _ = lab.exec(i, cmd);
        }
    }
    assert!(problems.is_empty(), "{book}: differences from ansible-playbook:\n{}", problems.join("\n"));
}

macro_rules! corpus {
    ($($name:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $name() {
                differential($file);
            }
        )*

        #[test]
        fn every_playbook_of_the_corpus_has_a_test() {
            let listed = [$($file),*];
            let mut missing: Vec<String> = std::fs::read_dir(DIR)
                .unwrap()
                .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
                .filter(|n| n.ends_with(".yml") && !listed.contains(&n.as_str()))
                .collect();
            missing.sort();
            assert!(missing.is_empty(), "add these to the corpus! list: {missing:?}");
        }
    };
}

corpus! {
    text_edits => "01_text_edits.yml",
    files_and_templates => "02_files_and_templates.yml",
    loops_blocks_handlers => "03_loops_blocks_handlers.yml",
    vars_conditions_facts => "04_vars_conditions_facts.yml",
    commands => "05_commands.yml",
    file_states => "06_file_states.yml",
    copy_sources => "07_copy_sources.yml",
    roles => "08_roles.yml",
    handlers => "09_handlers.yml",
    loops => "10_loops.yml",
    blocks => "11_blocks.yml",
    include_import => "12_include_import.yml",
    until_retries => "13_until_retries.yml",
    facts => "14_facts.yml",
    stat_find => "15_stat_find.yml",
    fetch_slurp => "16_fetch_slurp.yml",
    archives => "17_archives.yml",
    text_modules => "18_text_modules.yml",
    lookups => "19_lookups.yml",
    filters => "20_filters.yml",
    play_keywords => "21_play_keywords.yml",
    r#become => "22_become.yml",
    delegation => "23_delegation.yml",
    conditions => "24_conditions.yml",
    check_mode_keywords => "25_check_mode_keywords.yml",
    users_groups => "26_users_groups.yml",
    control => "27_control.yml",
    packages => "28_packages.yml",
    strategy_serial => "29_strategy_serial.yml",
    git => "30_git.yml",
    hostname => "31_hostname.yml",
    cron => "32_cron.yml",
    service => "33_service.yml",
    http => "34_http.yml",
    file_loops => "35_file_loops.yml",
    template_options => "36_template_options.yml",
}
