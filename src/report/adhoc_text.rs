//! Ad-hoc results on the terminal, in the shapes Ansible users know:
//!
//! ```text
//! web1 | CHANGED | rc=0 >>
//! hello
//! web2 | SUCCESS => {
//!     "changed": false,
//!     "ping": "pong"
//! }
//! web3 | UNREACHABLE! => { ... }
//! ```
//!
//! and with `-o` one line per host.

use super::progress::Progress;
use super::style::{Color, paint};
use crate::event::{Event, EventSink, Status, TaskResult};

pub struct AdhocText {
    one_line: bool,
    color: bool,
    progress: Progress,
}

impl AdhocText {
    pub fn new(one_line: bool, color: bool, progress: bool) -> AdhocText {
        AdhocText { one_line, color, progress: Progress::new(progress) }
    }

    fn caption(&self, result: &TaskResult) -> (String, Color) {
        let command_like = result.rc.is_some() && result.stdout.is_some();
        let (word, color) = match result.status {
            Status::Ok | Status::Skipped => ("SUCCESS", Color::Green),
            Status::Changed => ("CHANGED", Color::Yellow),
            Status::Failed if command_like => ("FAILED", Color::Red),
            Status::Failed => ("FAILED!", Color::Red),
            Status::Unreachable => ("UNREACHABLE!", Color::Red),
        };
        (word.to_string(), color)
    }

    fn render(&self, host: &str, result: &TaskResult) -> String {
        let (caption, color) = self.caption(result);
        let command_like = result.rc.is_some() && result.stdout.is_some();
        let text = if command_like {
            let rc = result.rc.unwrap_or(-1);
            let stdout = result.stdout.as_deref().unwrap_or("");
            let stderr = result.stderr.as_deref().unwrap_or("");
            let msg = if result.status == Status::Failed { result.msg.as_deref().unwrap_or("") } else { "" };
            if self.one_line {
                let mut line = format!("{host} | {caption} | rc={rc} | (stdout) {}", escape_newlines(stdout));
                if !stderr.is_empty() {
                    line.push_str(&format!(" (stderr) {}", escape_newlines(stderr)));
                }
                line
            } else {
                let mut buf = format!("{host} | {caption} | rc={rc} >>\n{stdout}");
                for extra in [stderr, msg] {
                    if !extra.is_empty() {
                        if !buf.ends_with('\n') {
                            buf.push('\n');
                        }
                        buf.push_str(extra);
                    }
                }
                buf
            }
        } else {
            let json = super::result_view(result);
            if self.one_line {
                format!("{host} | {caption} => {}", serde_json::to_string(&json).unwrap_or_default())
            } else {
                format!("{host} | {caption} => {}", super::pretty_json(&json))
            }
        };
        paint(self.color, color, &text)
    }
}

impl EventSink for AdhocText {
    fn emit(&self, event: &Event) {
        match event {
            Event::RunStarted { hosts, .. } => self.progress.start(hosts.len(), ""),
            Event::HostResult { host, result, .. } => {
                self.progress.println(&self.render(host, result));
                self.progress.tick();
            }
            Event::HostUnreachable { host, reason, .. } => {
                let mut r = TaskResult::new(Status::Unreachable);
                r.msg = Some(reason.clone());
                self.progress.println(&self.render(host, &r));
                self.progress.tick();
            }
            Event::Warning { host, message } => {
                let who = host.as_ref().map(|h| format!("{h}: ")).unwrap_or_default();
                self.progress.eprintln(&paint(
                    self.color,
                    Color::Yellow,
                    &format!("[WARNING]: {who}{message}"),
                ));
            }
            Event::RunFinished { .. } => self.progress.finish(),
            Event::TaskStarted { .. }
            | Event::Connected { .. }
            | Event::HostStarted { .. }
            | Event::PlayStarted { .. }
            | Event::ItemResult { .. }
            | Event::Ignored { .. }
            | Event::HealthCheck { .. }
            | Event::Rollout { .. } => {}
        }
    }
}

fn escape_newlines(s: &str) -> String {
    s.trim_end_matches('\n').replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printer(one_line: bool) -> AdhocText {
        AdhocText::new(one_line, false, false)
    }

    #[test]
    fn command_results_print_rc_and_output() {
        let mut r = TaskResult::new(Status::Changed);
        r.rc = Some(0);
        r.stdout = Some("hello".into());
        r.stderr = Some(String::new());
        assert_eq!(printer(false).render("web1", &r), "web1 | CHANGED | rc=0 >>\nhello");
        assert_eq!(printer(true).render("web1", &r), "web1 | CHANGED | rc=0 | (stdout) hello");
    }

    #[test]
    fn failed_command_shows_stderr_and_msg() {
        let mut r = TaskResult::failed("non-zero return code");
        r.rc = Some(2);
        r.stdout = Some(String::new());
        r.stderr = Some("ls: cannot access '/nope'".into());
        assert_eq!(
            printer(false).render("h", &r),
            "h | FAILED | rc=2 >>\nls: cannot access '/nope'\nnon-zero return code"
        );
    }

    #[test]
    fn other_modules_print_json() {
        let mut r = TaskResult::new(Status::Ok);
        r.data.insert("ping".into(), "pong".into());
        assert_eq!(
            printer(false).render("h", &r),
            "h | SUCCESS => {\n    \"changed\": false,\n    \"ping\": \"pong\"\n}"
        );
        assert_eq!(printer(true).render("h", &r), "h | SUCCESS => {\"changed\":false,\"ping\":\"pong\"}");
    }

    #[test]
    fn unreachable_says_why() {
        let mut r = TaskResult::new(Status::Unreachable);
        r.msg = Some("cannot connect to h: connection refused".into());
        let text = printer(true).render("h", &r);
        assert!(text.starts_with("h | UNREACHABLE! => "), "{text}");
        assert!(text.contains("connection refused"));
    }
}
