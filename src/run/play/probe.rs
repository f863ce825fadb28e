//! Health probes: one try of an `http`, `tcp` or `command` check, from the controller or from
//! the host. HTTP goes through `curl` (on the controller, or on the host over its SSH
//! session), so both sides behave the same and no HTTP stack is linked into Baton.

use std::time::Duration;

use crate::connection::quote::quote;
use crate::connection::{Command, Connection};
use crate::playbook::rollout::{HttpProbe, ProbeFrom};

/// What one try found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Try {
    pub passed: bool,
    /// The probe's last answer: status and body excerpt, or the error.
    pub detail: String,
}

fn excerpt(body: &str) -> String {
    let flat: String = body.chars().take(120).map(|c| if c == '\n' { ' ' } else { c }).collect();
    if body.chars().count() > 120 { format!("{flat}...") } else { flat }
}

/// The curl command line for an HTTP probe; the status code comes last on stdout.
pub fn curl_line(p: &HttpProbe, url: &str, headers: &[(String, String)]) -> String {
    let timeout = p.timeout.unwrap_or(5.0);
    let mut line = format!("curl -sS -m {timeout} -X {}", quote(p.method.as_deref().unwrap_or("GET")));
    if p.validate_certs == Some(false) {
        line.push_str(" -k");
    }
    for (k, v) in headers {
        line.push_str(&format!(" -H {}", quote(&format!("{k}: {v}"))));
    }
    line.push_str(&format!(" -w '\\n%{{http_code}}' {}", quote(url)));
    line
}

/// Judges curl's output: body, then the status on the last line.
pub fn judge_http(p: &HttpProbe, rc: Option<i32>, stdout: &str, stderr: &str) -> Try {
    if rc != Some(0) {
        let why = stderr.trim();
        return Try {
            passed: false,
            detail: format!("request failed: {}", if why.is_empty() { "curl exited non-zero" } else { why }),
        };
    }
    let (body, code) = match stdout.rsplit_once('\n') {
        Some((b, c)) => (b, c.trim()),
        None => ("", stdout.trim()),
    };
    let status: u16 = code.parse().unwrap_or(0);
    let wanted = p.status.as_ref().map_or(vec![200], |s| s.codes());
    if !wanted.contains(&status) {
        return Try {
            passed: false,
            detail: format!("status {status} (wanted {wanted:?}), body: {}", excerpt(body)),
        };
    }
    if let Some(re) = &p.body {
        match regex::Regex::new(re) {
            Ok(r) if r.is_match(body) => {}
            Ok(_) => {
                return Try {
                    passed: false,
                    detail: format!("status {status}, body does not match `{re}`: {}", excerpt(body)),
                };
            }
            Err(e) => return Try { passed: false, detail: format!("bad body regex `{re}`: {e}") },
        }
    }
    Try { passed: true, detail: format!("status {status}, body: {}", excerpt(body)) }
}

/// One HTTP try over `conn` (the local connection for `from: controller`).
pub async fn http(conn: &dyn Connection, p: &HttpProbe, url: &str, headers: &[(String, String)]) -> Try {
    let mut cmd = Command::new(curl_line(p, url, headers));
    cmd.timeout = Some(Duration::from_secs_f64(p.timeout.unwrap_or(5.0) + 2.0));
    match conn.exec(&cmd).await {
        Ok(out) => judge_http(p, out.rc, &out.stdout_str(), &out.stderr_str()),
        Err(e) => Try { passed: false, detail: e.to_string() },
    }
}

/// One TCP try: a direct connect from the controller, or `nc`/bash on the host.
pub async fn tcp(from: ProbeFrom, conn: &dyn Connection, host: &str, port: u16, timeout: f64) -> Try {
    let limit = Duration::from_secs_f64(timeout.max(0.1));
    match from {
        ProbeFrom::Controller => {
            match tokio::time::timeout(limit, tokio::net::TcpStream::connect((host, port))).await {
                Ok(Ok(_)) => Try { passed: true, detail: format!("{host}:{port} accepts connections") },
                Ok(Err(e)) => Try { passed: false, detail: format!("{host}:{port}: {e}") },
                Err(_) => {
                    Try { passed: false, detail: format!("{host}:{port}: no answer within {timeout}s") }
                }
            }
        }
        ProbeFrom::Host => {
            let (h, p, t) = (quote(host), port, timeout.ceil() as u64);
            let line = format!(
                "if command -v nc >/dev/null 2>&1; then nc -z -w {t} {h} {p}; \
                 else timeout {t} bash -c 'exec 3<>/dev/tcp/'{h}'/{p}'; fi"
            );
            let mut cmd = Command::new(line);
            cmd.timeout = Some(limit + Duration::from_secs(2));
            match conn.exec(&cmd).await {
                Ok(out) if out.success() => {
                    Try { passed: true, detail: format!("{host}:{port} accepts connections") }
                }
                Ok(out) => Try {
                    passed: false,
                    detail: format!("{host}:{port} refused or silent {}", out.stderr_str().trim()),
                },
                Err(e) => Try { passed: false, detail: e.to_string() },
            }
        }
    }
}

/// One command try: exit 0 passes.
pub async fn command(conn: &dyn Connection, line: &str, timeout: f64) -> Try {
    let mut cmd = Command::new(line);
    cmd.timeout = Some(Duration::from_secs_f64(timeout.max(1.0)));
    match conn.exec(&cmd).await {
        Ok(out) if out.success() => {
            let said = excerpt(out.stdout_str().trim());
            Try {
                passed: true,
                detail: if said.is_empty() { "exit 0".into() } else { format!("exit 0: {said}") },
            }
        }
        Ok(out) => Try {
            passed: false,
            detail: format!(
                "exit {}: {}",
                out.rc.map_or("signal".into(), |r| r.to_string()),
                excerpt(out.stderr_str().trim())
            ),
        },
        Err(e) => Try { passed: false, detail: e.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::rollout::StatusList;

    fn probe() -> HttpProbe {
        HttpProbe {
            url: "http://h/health".into(),
            method: None,
            status: Some(StatusList::Many(vec![200, 204])),
            body: Some("^ok".into()),
            headers: Default::default(),
            validate_certs: Some(false),
            timeout: Some(2.0),
        }
    }

    #[test]
    fn curl_line_quotes_everything() {
        let line = curl_line(&probe(), "http://h/health?a=1&b=2", &[("Host".into(), "app.example".into())]);
        assert_eq!(
            line,
            "curl -sS -m 2 -X GET -k -H 'Host: app.example' -w '\\n%{http_code}' 'http://h/health?a=1&b=2'"
        );
    }

    #[test]
    fn http_judgement() {
        let p = probe();
        assert!(judge_http(&p, Some(0), "ok v2\n200", "").passed);
        let t = judge_http(&p, Some(0), "down\n503", "");
        assert!(!t.passed && t.detail.contains("status 503") && t.detail.contains("down"), "{t:?}");
        let t = judge_http(&p, Some(0), "nope\n204", "");
        assert!(!t.passed && t.detail.contains("does not match"), "{t:?}");
        let t = judge_http(&p, Some(7), "", "curl: (7) Failed to connect");
        assert!(!t.passed && t.detail.contains("Failed to connect"), "{t:?}");
    }
}
