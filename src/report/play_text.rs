//! Playbook results on the terminal, as ansible-playbook prints them:
//!
//! ```text
//! PLAY [web] *********************************************************************
//!
//! TASK [install config] **********************************************************
//! changed: [web1]
//! ok: [web2]
//!
//! PLAY RECAP *********************************************************************
//! web1 : ok=1 changed=1 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0
//! ```

use std::sync::Mutex;

use serde_json::Value;

use super::progress::Progress;
use super::style::{Color, paint};
use crate::event::{Event, EventSink, HostStats, Status, TaskResult};

pub struct PlayText {
    color: bool,
    verbose: u8,
    diff: bool,
    progress: Progress,
    /// Whether the current task's header has been printed (skipped-only tasks print it
    /// lazily, so a run with many skipped tasks stays readable).
    header: Mutex<Option<String>>,
}

const WIDTH: usize = 80;

fn banner(title: &str) -> String {
    let stars = WIDTH.saturating_sub(title.len() + 1).max(3);
    format!("\n{title} {}", "*".repeat(stars))
}

impl PlayText {
    pub fn new(color: bool, verbose: u8, diff: bool, progress: bool) -> PlayText {
        PlayText { color, verbose, diff, progress: Progress::new(progress), header: Mutex::new(None) }
    }

    fn print(&self, text: &str) {
        self.flush_header();
        self.progress.println(text);
    }

    fn flush_header(&self) {
        if let Some(h) = self.header.lock().unwrap_or_else(|e| e.into_inner()).take() {
            self.progress.println(&h);
        }
    }

    fn line(&self, host: &str, item: Option<&Value>, result: &TaskResult) -> String {
        let (word, color) = match result.status {
            Status::Ok => ("ok", Color::Green),
            Status::Changed => ("changed", Color::Yellow),
            Status::Skipped => ("skipping", Color::Cyan),
            Status::Failed => (if item.is_some() { "failed" } else { "fatal" }, Color::Red),
            Status::Unreachable => ("fatal", Color::Red),
        };
        let mut text = format!("{word}: [{host}]");
        if let Some(item) = item {
            let label = match item {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            text.push_str(&format!(" => (item={label})"));
        }
        let shows_data = self.verbose > 0
            || result.status == Status::Failed
            || result.status == Status::Unreachable
            || result.data.contains_key("msg") && result.status != Status::Skipped && is_debug(result)
            || is_debug(result);
        if result.status == Status::Failed {
            text = if item.is_some() { text } else { format!("{text}: FAILED!") };
        }
        if result.status == Status::Unreachable {
            text.push_str(": UNREACHABLE!");
        }
        if shows_data {
            text.push_str(&format!(" => {}", super::pretty_json(&view(result))));
        }
        let mut out = paint(self.color, color, &text);
        if self.diff
            && let Some(diff) = result.data.get("diff")
        {
            out.push('\n');
            out.push_str(&render_diff(diff));
        }
        out
    }
}

/// debug's output is its whole point: always shown.
fn is_debug(result: &TaskResult) -> bool {
    result.status == Status::Ok
        && result.rc.is_none()
        && result.stdout.is_none()
        && !result.data.is_empty()
        && !result.data.contains_key("ansible_facts")
        && (result.data.len() == 1 && !result.data.contains_key("diff"))
        && !result.data.contains_key("results")
}

fn view(result: &TaskResult) -> Value {
    let mut v = super::result_view(result);
    if let Value::Object(m) = &mut v {
        for key in ["results", "ansible_facts", "diff"] {
            m.remove(key);
        }
        if is_debug(result) {
            m.remove("changed");
        }
    }
    v
}

/// A unified-style view of a module's before/after.
fn render_diff(diff: &Value) -> String {
    let diffs: Vec<&Value> = match diff {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let mut out = String::new();
    for d in diffs {
        let before = d.get("before").and_then(Value::as_str).unwrap_or("");
        let after = d.get("after").and_then(Value::as_str).unwrap_or("");
        let bh = d.get("before_header").and_then(Value::as_str).unwrap_or("before");
        let ah = d.get("after_header").and_then(Value::as_str).unwrap_or("after");
        out.push_str(&format!("--- {bh}\n+++ {ah}\n"));
        let (b, a): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
        // A plain line diff: common prefix and suffix kept as context, the middle changed.
        let prefix = b.iter().zip(&a).take_while(|(x, y)| x == y).count();
        let suffix =
            b[prefix..].iter().rev().zip(a[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
        for l in &b[prefix.saturating_sub(3)..prefix] {
            out.push_str(&format!(" {l}\n"));
        }
        for l in &b[prefix..b.len() - suffix] {
            out.push_str(&format!("-{l}\n"));
        }
        for l in &a[prefix..a.len() - suffix] {
            out.push_str(&format!("+{l}\n"));
        }
        for l in b[b.len() - suffix..].iter().take(3) {
            out.push_str(&format!(" {l}\n"));
        }
    }
    out.trim_end().to_string()
}

fn recap_line(host: &str, s: &HostStats, color: bool) -> String {
    let c = if s.failed > 0 || s.unreachable > 0 {
        Color::Red
    } else if s.changed > 0 {
        Color::Yellow
    } else {
        Color::Green
    };
    format!(
        "{:<26} : ok={:<4} changed={:<4} unreachable={:<4} failed={:<4} skipped={:<4} rescued={:<4} ignored={}",
        paint(color, c, host),
        s.ok,
        s.changed,
        s.unreachable,
        s.failed,
        s.skipped,
        s.rescued,
        s.ignored
    )
}

impl EventSink for PlayText {
    fn emit(&self, event: &Event) {
        match event {
            Event::PlayStarted { name, .. } => {
                *self.header.lock().unwrap_or_else(|e| e.into_inner()) = None;
                self.print(&banner(&format!("PLAY [{name}]")));
            }
            Event::TaskStarted { name, hosts, handler } => {
                let kind = if *handler { "RUNNING HANDLER" } else { "TASK" };
                *self.header.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(banner(&format!("{kind} [{name}]")));
                self.progress.start(*hosts, name);
            }
            Event::HostResult { host, result, .. } => {
                // A loop's items were printed one by one; its summary only when it failed.
                let looped = result.data.contains_key("results");
                if !looped || result.status == Status::Failed {
                    self.print(&self.line(host, None, result));
                }
                self.progress.tick();
            }
            Event::ItemResult { host, item, result, .. } => self.print(&self.line(host, Some(item), result)),
            Event::HostUnreachable { host, reason, .. } => {
                let mut r = TaskResult::new(Status::Unreachable);
                r.msg = Some(reason.clone());
                self.print(&self.line(host, None, &r));
                self.progress.tick();
            }
            Event::HealthCheck { host, check, passed, attempts, detail } => {
                let (word, color) =
                    if *passed { ("healthy", Color::Green) } else { ("unhealthy", Color::Red) };
                let tries = if *attempts == 1 { "1 try".to_string() } else { format!("{attempts} tries") };
                self.print(&paint(
                    self.color,
                    color,
                    &format!("{word}: [{host}] {check} ({tries}): {detail}"),
                ));
            }
            Event::Rollout { updated, failed, rolled_back, untouched, stopped } => {
                *self.header.lock().unwrap_or_else(|e| e.into_inner()) = None;
                self.print(&banner("ROLLOUT"));
                if let Some(why) = stopped {
                    self.print(&paint(self.color, Color::Red, &format!("stopped: {why}")));
                }
                for (label, hosts) in [
                    ("updated", updated),
                    ("failed", failed),
                    ("rolled back", rolled_back),
                    ("untouched", untouched),
                ] {
                    self.print(&format!("{label:<12} ({}): {}", hosts.len(), hosts.join(", ")));
                }
            }
            Event::Ignored { .. } => self.print(&paint(self.color, Color::Cyan, "...ignoring")),
            Event::Connected { host, detail } => {
                if self.verbose > 1 {
                    self.progress.eprintln(&format!("<{host}> connected: {detail}"));
                }
            }
            Event::Warning { host, message } => {
                let who = host.as_ref().map(|h| format!("{h}: ")).unwrap_or_default();
                self.progress.eprintln(&paint(
                    self.color,
                    Color::Yellow,
                    &format!("[WARNING]: {who}{message}"),
                ));
            }
            Event::RunFinished { stats, duration } => {
                self.progress.finish();
                *self.header.lock().unwrap_or_else(|e| e.into_inner()) = None;
                self.print(&banner("PLAY RECAP"));
                for (host, s) in stats {
                    self.print(&recap_line(host, s, self.color));
                }
                if self.verbose > 0 {
                    self.print(&format!("\nfinished in {:.2}s", duration.as_secs_f64()));
                }
            }
            Event::RunStarted { .. } | Event::HostStarted { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_shows_changed_lines_with_context() {
        let d = serde_json::json!({"before": "a\nb\nc\n", "after": "a\nB\nc\n", "before_header": "/etc/x"});
        assert_eq!(render_diff(&d), "--- /etc/x\n+++ after\n a\n-b\n+B\n c");
    }

    #[test]
    fn recap_reads_without_color() {
        let s = HostStats { ok: 3, changed: 1, ..HostStats::default() };
        assert!(recap_line("web1", &s, false).starts_with("web1                       : ok=3    changed=1"));
    }
}
