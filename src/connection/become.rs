//! Privilege escalation the way Ansible does it, so it works over a plain exec channel with no
//! terminal: the command is wrapped as
//!
//! ```text
//! sudo -H -S -p '[baton-sudo-ID] password:' -u USER /bin/sh -c 'echo BECOME-SUCCESS-ID
//! SCRIPT'
//! ```
//!
//! and its output is watched ([`BecomeWatch`]): the per-command prompt on stderr means "send the
//! password now" (once; a second prompt means it was wrong), and the success marker on stdout
//! means sudo let us through, so the command's own stdin may follow. Without a password `sudo -n`
//! is used, which fails at once instead of waiting for a password nobody will type.

use super::quote::{join, quote};
use super::random::hex_token;
use super::{Become, BecomeMethod, Command, ConnError};

/// A command ready to be handed to `/bin/sh -c` (locally) or to sshd, plus the watcher its
/// output must go through when it escalates.
#[derive(Debug)]
pub struct Prepared {
    pub line: String,
    pub watch: Option<BecomeWatch>,
}

/// The shell script for a command: its environment exported and its directory entered inside
/// the shell that runs it (so both survive `sudo`, which resets the environment).
pub fn script(cmd: &Command) -> Result<String, ConnError> {
    let mut out = String::new();
    for (name, value) in &cmd.env {
        if !is_shell_name(name) {
            return Err(ConnError::Invalid {
                what: "environment variable name".into(),
                reason: format!("`{name}` is not a valid shell variable name"),
            });
        }
        out.push_str(&format!("export {name}={}\n", quote(value)));
    }
    if let Some(dir) = &cmd.cwd {
        out.push_str(&format!("cd {} || exit 1\n", quote_dir(dir)));
    }
    out.push_str(&cmd.cmd);
    Ok(out)
}

/// Makes the host itself enforce a deadline on a command line, with coreutils `timeout` when
/// the host has it (otherwise the line runs as is).
///
/// sshd only forwards signal requests from non-root sessions, and closing a channel does not
/// stop a command that is not reading or writing; so over SSH a timed-out command (and any
/// background child, as `timeout` signals its whole process group) is killed this way.
pub fn with_deadline(cmd: &str, secs: u64) -> String {
    let inner = join(["/bin/sh", "-c", cmd]);
    format!(
        "if command -v timeout >/dev/null 2>&1; then exec timeout -s KILL {secs} {inner}; \
         else exec {inner}; fi"
    )
}

/// Builds the line to run for `cmd`, wrapped for privilege escalation when it asks for it.
pub fn prepare(cmd: &Command) -> Result<Prepared, ConnError> {
    let script = script(cmd)?;
    match &cmd.r#become {
        None => Ok(Prepared { line: join(["/bin/sh", "-c", &script]), watch: None }),
        Some(b) => wrap(b, &script),
    }
}

/// Wraps a shell script so it runs as `b.user`, with markers only this command knows.
pub fn wrap(b: &Become, script: &str) -> Result<Prepared, ConnError> {
    let id = hex_token(16);
    let success = format!("BECOME-SUCCESS-{id}");
    let inner = format!("echo {success}\n{script}");
    match b.method {
        BecomeMethod::Sudo => {
            let prompt = format!("[baton-sudo-{id}] password:");
            let line = match &b.password {
                Some(_) => join(["sudo", "-H", "-S", "-p", &prompt, "-u", &b.user, "/bin/sh", "-c", &inner]),
                None => join(["sudo", "-H", "-S", "-n", "-u", &b.user, "/bin/sh", "-c", &inner]),
            };
            let prompt = b.password.as_ref().map(|_| prompt);
            Ok(Prepared { line, watch: Some(BecomeWatch::new(b, prompt, success)) })
        }
        BecomeMethod::Su => {
            if b.password.is_some() {
                return Err(ConnError::Become(
                    "`su` reads its password from a terminal, which Baton does not allocate; \
                     use become_method `sudo`"
                        .into(),
                ));
            }
            let line = join(["su", &b.user, "-c", &join(["/bin/sh", "-c", &inner])]);
            Ok(Prepared { line, watch: Some(BecomeWatch::new(b, None, success)) })
        }
    }
}

/// What the process driver does next, as the watcher sees the escalation's output.
#[derive(PartialEq, Eq)]
pub enum Step {
    /// Keep reading.
    Wait,
    /// Write these bytes (the password and a newline) to the process's stdin.
    SendPassword(Vec<u8>),
    /// The command itself runs now; this is its output so far, with the markers removed.
    /// Its own stdin may be sent.
    Started { stdout: Vec<u8>, stderr: Vec<u8> },
    /// Escalation failed: stop the process and report this.
    Failed(String),
}

impl std::fmt::Debug for Step {
    /// Keeps the password out of test failures and logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Step::Wait => f.write_str("Wait"),
            Step::SendPassword(_) => f.write_str("SendPassword(********)"),
            Step::Started { stdout, stderr } => f
                .debug_struct("Started")
                .field("stdout", &String::from_utf8_lossy(stdout))
                .field("stderr", &String::from_utf8_lossy(stderr))
                .finish(),
            Step::Failed(m) => f.debug_tuple("Failed").field(m).finish(),
        }
    }
}

/// Watches an escalated command's output until sudo/su lets it run (or refuses).
pub struct BecomeWatch {
    method: BecomeMethod,
    user: String,
    /// Set when a password will be sent on the prompt.
    prompt: Option<String>,
    password: Option<Vec<u8>>,
    success: String,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    password_sent: bool,
}

impl std::fmt::Debug for BecomeWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BecomeWatch")
            .field("method", &self.method)
            .field("user", &self.user)
            .field("prompt", &self.prompt)
            .field("success", &self.success)
            .finish_non_exhaustive()
    }
}

impl BecomeWatch {
    fn new(b: &Become, prompt: Option<String>, success: String) -> BecomeWatch {
        BecomeWatch {
            method: b.method,
            user: b.user.clone(),
            prompt,
            password: b.password.as_ref().map(|p| p.0.as_bytes().to_vec()),
            success,
            stdout: Vec::new(),
            stderr: Vec::new(),
            password_sent: false,
        }
    }

    fn tool(&self) -> &'static str {
        match self.method {
            BecomeMethod::Sudo => "sudo",
            BecomeMethod::Su => "su",
        }
    }

    /// Feeds stdout read before the command started.
    pub fn on_stdout(&mut self, data: &[u8]) -> Step {
        self.stdout.extend_from_slice(data);
        let marker = self.success.as_bytes();
        let Some(at) = find(&self.stdout, marker, 0) else {
            return Step::Wait;
        };
        let after = at + marker.len();
        let rest = match self.stdout.get(after) {
            Some(b'\n') => after + 1,
            // The newline is still on its way; it belongs to the marker.
            None => return Step::Wait,
            Some(_) => after,
        };
        let stdout = self.stdout.split_off(rest);
        let stderr = match &self.prompt {
            Some(p) => remove_all(&self.stderr, p.as_bytes()),
            None => std::mem::take(&mut self.stderr),
        };
        self.password = None;
        Step::Started { stdout, stderr }
    }

    /// Feeds stderr read before the command started.
    pub fn on_stderr(&mut self, data: &[u8]) -> Step {
        self.stderr.extend_from_slice(data);
        let Some(prompt) = &self.prompt else {
            return Step::Wait;
        };
        let prompts = count(&self.stderr, prompt.as_bytes());
        if prompts >= 2 {
            self.password = None;
            return Step::Failed(format!("incorrect {} password (to become `{}`)", self.tool(), self.user));
        }
        if prompts == 1 && !self.password_sent {
            self.password_sent = true;
            return match self.password.take() {
                Some(mut line) => {
                    line.push(b'\n');
                    Step::SendPassword(line)
                }
                None => Step::Failed(needs_password()),
            };
        }
        Step::Wait
    }

    /// The process ended before the command started: says why, from what sudo/su printed.
    pub fn on_end(&self) -> String {
        let text = String::from_utf8_lossy(&self.stderr);
        let text = match &self.prompt {
            Some(p) => text.replace(p.as_str(), ""),
            None => text.into_owned(),
        };
        let text = text.trim();
        if text.contains("password is required") {
            return needs_password();
        }
        if text.contains("terminal is required") {
            return format!(
                "{} wants a terminal to ask for the password (`requiretty`?): {text}",
                self.tool()
            );
        }
        if text.is_empty() {
            format!("`{}` to `{}` ended before running the command", self.tool(), self.user)
        } else {
            format!("`{}` to `{}` did not run the command: {text}", self.tool(), self.user)
        }
    }
}

fn needs_password() -> String {
    "sudo requires a password; pass -K or set ansible_become_password".into()
}

/// A directory for `cd`: quoted, except that a leading `~/` still means home.
fn quote_dir(dir: &str) -> String {
    match dir.strip_prefix("~/") {
        Some(rest) if !rest.is_empty() => format!("~/{}", quote(rest)),
        _ if dir == "~" => "~".into(),
        _ => quote(dir).into_owned(),
    }
}

fn is_shell_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    (from..=haystack.len() - needle.len()).find(|&i| haystack[i..].starts_with(needle))
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    let mut n = 0;
    let mut from = 0;
    while let Some(at) = find(haystack, needle, from) {
        n += 1;
        from = at + needle.len();
    }
    n
}

fn remove_all(haystack: &[u8], needle: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut from = 0;
    while let Some(at) = find(haystack, needle, from) {
        out.extend_from_slice(&haystack[from..at]);
        from = at + needle.len();
    }
    out.extend_from_slice(&haystack[from..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::Secret;

    fn sudo(password: Option<&str>) -> Become {
        Become {
            method: BecomeMethod::Sudo,
            user: "root".into(),
            password: password.map(|p| Secret(p.into())),
        }
    }

    fn markers(w: &BecomeWatch) -> (String, String) {
        (w.prompt.clone().unwrap_or_default(), w.success.clone())
    }

    #[test]
    fn script_exports_and_enters_the_directory_first() {
        let mut cmd = Command::new("make install");
        cmd.env = vec![("A".into(), "x y".into()), ("_B2".into(), "it's".into())];
        cmd.cwd = Some("/srv/my app".into());
        assert_eq!(
            script(&cmd).unwrap(),
            "export A='x y'\nexport _B2='it'\\''s'\ncd '/srv/my app' || exit 1\nmake install"
        );
        cmd.cwd = Some("~/build".into());
        assert!(script(&cmd).unwrap().contains("cd ~/build || exit 1"));
    }

    #[test]
    fn deadlines_fall_back_when_timeout_is_missing() {
        assert_eq!(
            with_deadline("sleep 9; echo x", 5),
            "if command -v timeout >/dev/null 2>&1; then exec timeout -s KILL 5 /bin/sh -c \
             'sleep 9; echo x'; else exec /bin/sh -c 'sleep 9; echo x'; fi"
        );
    }

    #[test]
    fn bad_variable_names_are_refused() {
        let mut cmd = Command::new("true");
        cmd.env = vec![("A;rm -rf /".into(), "x".into())];
        assert!(matches!(script(&cmd), Err(ConnError::Invalid { .. })));
    }

    #[test]
    fn plain_commands_go_through_sh() {
        let p = prepare(&Command::new("echo $HOME")).unwrap();
        assert_eq!(p.line, "/bin/sh -c 'echo $HOME'");
        assert!(p.watch.is_none());
    }

    #[test]
    fn sudo_without_password_is_non_interactive() {
        let p = wrap(&sudo(None), "id -u").unwrap();
        let w = p.watch.unwrap();
        assert!(p.line.starts_with("sudo -H -S -n -u root /bin/sh -c 'echo BECOME-SUCCESS-"));
        assert!(p.line.ends_with("\nid -u'"));
        assert!(w.prompt.is_none());
    }

    #[test]
    fn sudo_with_password_uses_a_private_prompt() {
        let p = wrap(&sudo(Some("s3cret")), "id -u").unwrap();
        let (prompt, success) = markers(p.watch.as_ref().unwrap());
        assert!(prompt.starts_with("[baton-sudo-") && prompt.ends_with("] password:"));
        assert!(p.line.contains(&format!("-p '{prompt}'")));
        assert!(p.line.contains(&success));
        assert!(!p.line.contains("s3cret"));
        assert!(!format!("{:?}", p.watch).contains("s3cret"));
    }

    #[test]
    fn password_is_sent_once_then_the_marker_starts_the_command() {
        let p = wrap(&sudo(Some("pw")), "cat").unwrap();
        let mut w = p.watch.unwrap();
        let (prompt, success) = markers(&w);
        // The prompt arrives in two pieces.
        let (a, b) = prompt.as_bytes().split_at(5);
        assert_eq!(w.on_stderr(a), Step::Wait);
        assert_eq!(w.on_stderr(b), Step::SendPassword(b"pw\n".to_vec()));
        assert_eq!(w.on_stderr(b"\n"), Step::Wait);
        assert_eq!(w.on_stdout(success.as_bytes()), Step::Wait);
        assert_eq!(
            w.on_stdout(b"\nhello"),
            Step::Started { stdout: b"hello".to_vec(), stderr: b"\n".to_vec() }
        );
    }

    #[test]
    fn a_second_prompt_means_a_wrong_password() {
        let mut w = wrap(&sudo(Some("pw")), "true").unwrap().watch.unwrap();
        let (prompt, _) = markers(&w);
        assert!(matches!(w.on_stderr(prompt.as_bytes()), Step::SendPassword(_)));
        let again = format!("\nSorry, try again.\n{prompt}");
        match w.on_stderr(again.as_bytes()) {
            Step::Failed(m) => assert!(m.contains("incorrect sudo password"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sudo_n_refusal_asks_for_a_password() {
        let mut w = wrap(&sudo(None), "true").unwrap().watch.unwrap();
        assert_eq!(w.on_stderr(b"sudo: a password is required\n"), Step::Wait);
        assert_eq!(w.on_end(), "sudo requires a password; pass -K or set ansible_become_password");
    }

    #[test]
    fn other_sudo_failures_are_quoted() {
        let mut w = wrap(&sudo(None), "true").unwrap().watch.unwrap();
        w.on_stderr(b"sudo: unknown user nobody2\n");
        assert_eq!(w.on_end(), "`sudo` to `root` did not run the command: sudo: unknown user nobody2");
    }

    #[test]
    fn su_wraps_twice_and_refuses_passwords() {
        let b = Become { method: BecomeMethod::Su, user: "app".into(), password: None };
        let p = wrap(&b, "id").unwrap();
        assert!(p.line.starts_with("su app -c '/bin/sh -c '\\''echo BECOME-SUCCESS-"));
        let b = Become { password: Some(Secret("x".into())), ..b };
        assert!(matches!(wrap(&b, "id"), Err(ConnError::Become(_))));
    }
}
