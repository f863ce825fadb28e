//! HTTP requests made ON THE TARGET for `get_url` and `uri`: the shell fragment that runs
//! `curl` (or GNU `wget` when curl is missing) and the parser of what it printed.
//!
//! The host needs no Python: the request is one command line built here, every value quoted.
//! Its output is a list of sections, each `@name LEN\n` followed by exactly LEN bytes, so a
//! response body or an error text can hold any bytes (see [`parse_sections`]). The fragment
//! leaves the body in the file named by `$o`; callers decide what to do with it (verify and move
//! it, or print it as the `body` section).

use crate::connection::quote::quote;

/// Ansible's default `http_agent`.
pub const AGENT: &str = "ansible-httpget";

/// When redirects are followed (Ansible's `follow_redirects`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirects {
    /// `none`/`no`: never.
    Never,
    /// `safe`/`urllib2` (the default): only for GET and HEAD.
    Safe,
    /// `all`/`yes`: for every method.
    All,
}

impl Redirects {
    pub fn parse(s: &str) -> Option<Redirects> {
        Some(match s.to_ascii_lowercase().as_str() {
            "none" | "no" | "false" => Redirects::Never,
            "safe" | "urllib2" => Redirects::Safe,
            "all" | "yes" | "true" => Redirects::All,
            _ => return None,
        })
    }

    fn follows(self, method: &str) -> bool {
        match self {
            Redirects::Never => false,
            Redirects::Safe => matches!(method, "GET" | "HEAD"),
            Redirects::All => true,
        }
    }
}

/// Credentials for HTTP basic authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    pub user: String,
    pub password: String,
    /// Send them with the first request instead of waiting for a 401 challenge.
    pub force_basic: bool,
}

/// One request, as the modules' parameters describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub url: String,
    /// Upper-case method (`GET`, `POST`, ...).
    pub method: String,
    pub headers: Vec<(String, String)>,
    /// The body is in the host file named by `$bq`.
    pub has_body: bool,
    /// Seconds to wait for the connection and for data (Ansible's socket timeout).
    pub timeout: u64,
    pub validate_certs: bool,
    pub redirects: Redirects,
    pub auth: Option<Auth>,
}

impl Request {
    /// A plain GET, following redirects, as `get_url` makes it.
    pub fn get(url: &str, timeout: u64) -> Request {
        Request {
            url: url.to_string(),
            method: "GET".into(),
            headers: Vec::new(),
            has_body: false,
            timeout,
            validate_certs: true,
            redirects: Redirects::Safe,
            auth: None,
        }
    }

    /// The curl command line: body to `$o`, headers to `$h`, errors to `$ef`; prints the
    /// status, the number of redirects and the final URL.
    pub fn curl_line(&self) -> String {
        let mut a: Vec<String> = vec![
            "curl".into(),
            "-sS".into(),
            "-o".into(),
            "\"$o\"".into(),
            "-D".into(),
            "\"$h\"".into(),
            "-w".into(),
            quote("%{http_code} %{num_redirects} %{url_effective}").into_owned(),
            "-A".into(),
            AGENT.into(),
        ];
        let t = self.timeout.max(1);
        a.push(format!("--connect-timeout {t} --speed-limit 1 --speed-time {t}"));
        match self.method.as_str() {
            "GET" => {}
            "HEAD" => a.push("-I".into()),
            m => a.push(format!("-X {}", quote(m))),
        }
        for (k, v) in &self.headers {
            a.push(format!("-H {}", quote(&format!("{k}: {v}"))));
        }
        if self.has_body {
            a.push("--data-binary @\"$bq\"".into());
        }
        if !self.validate_certs {
            a.push("-k".into());
        }
        if self.redirects.follows(&self.method) {
            a.push("-L --max-redirs 10".into());
        }
        if let Some(auth) = &self.auth {
            a.push(format!("--basic -u {}", quote(&format!("{}:{}", auth.user, auth.password))));
        }
        a.push("--".into());
        a.push(quote(&self.url).into_owned());
        format!("{} 2>\"$ef\"", a.join(" "))
    }

    /// The GNU wget command line: body to `$o`, server headers and errors to `$h`.
    pub fn wget_line(&self) -> String {
        let mut a: Vec<String> = vec![
            "wget".into(),
            "-nv".into(),
            "-S".into(),
            "--tries=1".into(),
            "--content-on-error".into(),
            "-O".into(),
            "\"$o\"".into(),
            "-U".into(),
            AGENT.into(),
            format!("--timeout={}", self.timeout.max(1)),
        ];
        if self.method != "GET" {
            a.push(format!("--method={}", quote(&self.method)));
        }
        for (k, v) in &self.headers {
            a.push(format!("--header={}", quote(&format!("{k}: {v}"))));
        }
        if self.has_body {
            a.push("--body-file=\"$bq\"".into());
        }
        if !self.validate_certs {
            a.push("--no-check-certificate".into());
        }
        if !self.redirects.follows(&self.method) {
            a.push("--max-redirect=0".into());
        }
        if let Some(auth) = &self.auth {
            a.push(format!("--user={}", quote(&auth.user)));
            a.push(format!("--password={}", quote(&auth.password)));
            if auth.force_basic {
                a.push("--auth-no-challenge".into());
            }
        }
        a.push("--".into());
        a.push(quote(&self.url).into_owned());
        format!("{} 2>\"$h\"", a.join(" "))
    }

    /// The shell fragment that makes the request with whichever tool the host has. Expects
    /// `$o`, `$h`, `$ef` (and `$bq` with a body) to name writable files and [`SHELL_FNS`] to
    /// be defined; sets `$st` to the final status (`000` when no answer came) and prints the
    /// sections `tool`, `rc`, `write` (curl), `headers` and `err`.
    pub fn fragment(&self) -> String {
        format!(
            "if command -v curl >/dev/null 2>&1; then say tool curl; w=$({curl}); rc=$?; say write \"$w\"; \
             st=${{w%% *}}; \
             elif command -v wget >/dev/null 2>&1; then say tool wget; {wget}; rc=$?; \
             st=$(sed -n 's/^  HTTP\\/[0-9.]* \\([0-9][0-9]*\\).*/\\1/p' \"$h\" | tail -n 1); \
             else say tool none; rc=127; st=000; \
             printf '%s\\n' 'neither curl nor wget is installed on the host' >\"$ef\"; fi; \
             [ -n \"$st\" ] || st=000; say rc \"$rc\"; emit headers \"$h\"; emit err \"$ef\"",
            curl = self.curl_line(),
            wget = self.wget_line(),
        )
    }
}

/// Shell functions the fragments print with: `say NAME VALUE` and `emit NAME FILE`. The
/// script must run with `LC_ALL=C`, so `${#v}` counts bytes.
pub const SHELL_FNS: &str = "export LC_ALL=C; \
    say() { printf '@%s %s\\n%s' \"$1\" \"${#2}\" \"$2\"; }; \
    emit() { if [ -f \"$2\" ]; then printf '@%s %s\\n' \"$1\" \"$(wc -c < \"$2\" | tr -d ' ')\"; cat \"$2\"; \
    else printf '@%s 0\\n' \"$1\"; fi; }";

/// Splits `@name LEN\n<LEN bytes>` sections. A section named `rest` takes everything after it.
pub fn parse_sections(out: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut sections = Vec::new();
    let mut i = 0;
    while i < out.len() {
        if out[i] != b'@' {
            return Err(format!("unexpected output at byte {i}: `{}`", preview(&out[i..])));
        }
        let nl = out[i..].iter().position(|b| *b == b'\n').map(|n| i + n).ok_or("truncated output")?;
        let head = String::from_utf8_lossy(&out[i + 1..nl]).into_owned();
        let (name, len) = head.split_once(' ').ok_or_else(|| format!("bad section header `{head}`"))?;
        if name == "rest" {
            sections.push((name.to_string(), out[nl + 1..].to_vec()));
            return Ok(sections);
        }
        let len: usize = len.trim().parse().map_err(|_| format!("bad section length in `{head}`"))?;
        let end = nl + 1 + len;
        if end > out.len() {
            return Err(format!("section `{name}` is truncated"));
        }
        sections.push((name.to_string(), out[nl + 1..end].to_vec()));
        i = end;
    }
    Ok(sections)
}

fn preview(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(60)]).into_owned()
}

/// Sections by name (the last one wins).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sections(pub Vec<(String, Vec<u8>)>);

impl Sections {
    pub fn parse(out: &[u8]) -> Result<Sections, String> {
        parse_sections(out).map(Sections)
    }

    pub fn bytes(&self, name: &str) -> Option<&[u8]> {
        self.0.iter().rev().find(|(n, _)| n == name).map(|(_, b)| b.as_slice())
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.bytes(name).map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

/// What came back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// The final status; `-1` when no HTTP answer came (as Ansible reports it).
    pub status: i32,
    /// The reason phrase of the final status line (`OK`, `File not found`).
    pub reason: String,
    /// The final response's headers, in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// Where the request ended after redirects.
    pub url: String,
    pub redirects: u32,
    /// Why the request failed (no answer), as the tool said it.
    pub error: Option<String>,
}

impl Response {
    /// Reads the request's sections (see [`Request::fragment`]); `url` is the one asked for.
    pub fn from_sections(s: &Sections, url: &str) -> Response {
        let tool = s.text("tool").unwrap_or_default();
        let rc: i32 = s.text("rc").and_then(|r| r.trim().parse().ok()).unwrap_or(-1);
        let head = s.text("headers").unwrap_or_default();
        let err = s.text("err").unwrap_or_default();
        let mut r = Response { status: -1, url: url.to_string(), ..Response::default() };
        let blocks = match tool.as_str() {
            "curl" => {
                let w = s.text("write").unwrap_or_default();
                let mut parts = w.splitn(3, ' ');
                let status: i32 = parts.next().and_then(|c| c.trim().parse().ok()).unwrap_or(0);
                r.redirects = parts.next().and_then(|c| c.trim().parse().ok()).unwrap_or(0);
                if let Some(u) = parts.next().filter(|u| !u.is_empty()) {
                    r.url = u.to_string();
                }
                if status > 0 {
                    r.status = status;
                }
                header_blocks(&head, false)
            }
            "wget" => {
                let blocks = header_blocks(&head, true);
                r.redirects = u32::try_from(blocks.len().saturating_sub(1)).unwrap_or(0);
                if blocks.len() > 1
                    && let Some(loc) = blocks[blocks.len() - 2]
                        .headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case("location"))
                {
                    r.url = join_url(url, &loc.1);
                }
                if let Some(last) = blocks.last() {
                    r.status = last.status;
                }
                blocks
            }
            _ => Vec::new(),
        };
        if let Some(last) = blocks.into_iter().last()
            && r.status > 0
        {
            r.reason = last.reason;
            r.headers = last.headers;
        }
        if r.status <= 0 {
            r.status = -1;
            let why = if tool == "wget" {
                head.lines().filter(|l| !l.starts_with("  ")).collect::<Vec<_>>().join(" ")
            } else {
                err.clone()
            };
            let why = why.trim().trim_start_matches("curl: ").to_string();
            r.error = Some(if why.is_empty() { format!("exit code {rc}") } else { why });
        }
        r
    }

    /// A header's value by case-insensitive name (repeated headers joined with `, `).
    pub fn header(&self, name: &str) -> Option<String> {
        let vals: Vec<&str> = self
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        (!vals.is_empty()).then(|| vals.join(", "))
    }

    /// Ansible's `msg` for a response: `OK (N bytes)` for a success, `HTTP Error 404: reason`
    /// for an HTTP error, `Request failed: why` when no answer came.
    pub fn msg(&self) -> String {
        if let Some(e) = &self.error {
            return format!("Request failed: {e}");
        }
        if (200..400).contains(&self.status) {
            format!("OK ({} bytes)", self.header("content-length").unwrap_or_else(|| "unknown".into()))
        } else {
            format!("HTTP Error {}: {}", self.status, self.reason)
        }
    }

    /// The headers as Ansible's uri returns them: lower case, `-` as `_`.
    pub fn header_keys(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        for (k, _) in &self.headers {
            let key = k.to_ascii_lowercase().replace('-', "_");
            if !m.contains_key(&key)
                && let Some(v) = self.header(k)
            {
                m.insert(key, v.into());
            }
        }
        m
    }
}

/// One response's status line and headers in a header dump.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Block {
    status: i32,
    reason: String,
    headers: Vec<(String, String)>,
}

/// The response header blocks of a header dump, one per response (redirects first), in
/// order. wget indents its server-response lines by two spaces and mixes in its own lines.
fn header_blocks(text: &str, indented: bool) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    for raw in text.lines() {
        let line = raw.trim_end_matches('\r');
        let line = if indented {
            match line.strip_prefix("  ") {
                Some(l) => l,
                None => continue,
            }
        } else {
            line
        };
        if let Some(rest) = line.strip_prefix("HTTP/") {
            let mut parts = rest.splitn(3, ' ');
            let _version = parts.next();
            let status = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            let reason = parts.next().unwrap_or("").trim().to_string();
            blocks.push(Block { status, reason, headers: Vec::new() });
        } else if let Some((k, v)) = line.split_once(':')
            && let Some(block) = blocks.last_mut()
            && !k.is_empty()
            && !k.contains(' ')
        {
            block.headers.push((k.to_string(), v.trim().to_string()));
        }
    }
    blocks
}

/// Resolves a `Location` against the URL it came from (absolute, host-absolute or relative).
pub fn join_url(base: &str, loc: &str) -> String {
    if loc.contains("://") {
        return loc.to_string();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    let host_end = rest.find('/').unwrap_or(rest.len());
    let origin = format!("{scheme}://{}", &rest[..host_end]);
    if loc.starts_with('/') {
        return format!("{origin}{loc}");
    }
    let path = &rest[host_end..];
    let path = path.split(['?', '#']).next().unwrap_or("");
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    format!("{origin}{dir}/{loc}")
}

/// The last path segment of a URL, or `index.html` (Ansible's `url_filename`).
pub fn url_filename(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    let path = path.split(['?', '#']).next().unwrap_or("");
    match path.rsplit('/').next() {
        Some(name) if !name.is_empty() => name.to_string(),
        _ => "index.html".to_string(),
    }
}

/// Whether a string looks like a URL Ansible would fetch (`is_url`).
pub fn is_url(s: &str) -> bool {
    ["http://", "https://", "ftp://", "file://"].iter().any(|p| s.to_ascii_lowercase().starts_with(p))
}

/// Headers from a module's `headers` mapping (values shown as strings).
pub fn headers_from(
    args: &super::ModuleArgs,
    module: &str,
) -> Result<Vec<(String, String)>, super::ModuleError> {
    match args.0.get("headers") {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(serde_json::Value::Object(m)) => Ok(m
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect()),
        Some(other) => Err(super::ModuleError::BadArgs {
            module: module.to_string(),
            message: format!("`headers` must be a mapping, got `{other}`"),
        }),
    }
}

/// A positive number of seconds from a parameter.
pub fn seconds(
    args: &super::ModuleArgs,
    module: &str,
    key: &str,
    default: u64,
) -> Result<u64, super::ModuleError> {
    match args.str(module, key)? {
        None => Ok(default),
        Some(s) => s.trim().parse::<u64>().map_err(|_| super::ModuleError::BadArgs {
            module: module.to_string(),
            message: format!("`{key}` must be a whole number of seconds, got `{s}`"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> Request {
        Request::get("http://10.0.0.2:8080/a b.txt", 10)
    }

    #[test]
    fn curl_line_quotes_everything_and_maps_options() {
        let mut r = req();
        assert_eq!(
            r.curl_line(),
            "curl -sS -o \"$o\" -D \"$h\" -w '%{http_code} %{num_redirects} %{url_effective}' -A ansible-httpget \
             --connect-timeout 10 --speed-limit 1 --speed-time 10 -L --max-redirs 10 -- 'http://10.0.0.2:8080/a b.txt' 2>\"$ef\""
        );
        r.method = "POST".into();
        r.has_body = true;
        r.validate_certs = false;
        r.headers = vec![("X-It".into(), "it's".into())];
        r.auth = Some(Auth { user: "u".into(), password: "p w".into(), force_basic: true });
        let line = r.curl_line();
        for part in ["-X POST", "-H 'X-It: it'\\''s'", "--data-binary @\"$bq\"", " -k ", "--basic -u 'u:p w'"]
        {
            assert!(line.contains(part), "{part} in {line}");
        }
        // `safe` does not follow redirects for a POST.
        assert!(!line.contains(" -L "), "{line}");
        r.redirects = Redirects::All;
        assert!(r.curl_line().contains(" -L "));
        r.method = "HEAD".into();
        assert!(r.curl_line().contains(" -I "));
    }

    #[test]
    fn wget_line_maps_options() {
        let mut r = req();
        r.method = "PUT".into();
        r.has_body = true;
        r.redirects = Redirects::Never;
        r.auth = Some(Auth { user: "u".into(), password: "p".into(), force_basic: false });
        let line = r.wget_line();
        for part in [
            "--method=PUT",
            "--body-file=\"$bq\"",
            "--max-redirect=0",
            "--user=u --password=p",
            "--timeout=10",
            "-- 'http://10.0.0.2:8080/a b.txt' 2>\"$h\"",
        ] {
            assert!(line.contains(part), "{part} in {line}");
        }
        assert!(!line.contains("--auth-no-challenge"));
    }

    #[test]
    fn sections_round_trip_any_bytes() {
        let out = b"@tool 4\ncurl@body 5\na\n@\0b@rc 1\n0";
        let s = Sections::parse(out).unwrap();
        assert_eq!(s.text("tool").as_deref(), Some("curl"));
        assert_eq!(s.bytes("body"), Some(&b"a\n@\0b"[..]));
        assert_eq!(s.text("rc").as_deref(), Some("0"));
        assert!(parse_sections(b"@x 9\nab").is_err());
        assert!(parse_sections(b"junk").is_err());
        let s = Sections::parse(b"@a 1\nx@rest 0\n\0raw\0").unwrap();
        assert_eq!(s.bytes("rest"), Some(&b"\0raw\0"[..]));
    }

    fn sections(items: &[(&str, &str)]) -> Sections {
        Sections(items.iter().map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())).collect())
    }

    #[test]
    fn curl_response_after_a_redirect() {
        let s = sections(&[
            ("tool", "curl"),
            ("write", "200 1 http://h/new/x.json"),
            ("rc", "0"),
            (
                "headers",
                "HTTP/1.0 301 Moved Permanently\r\nLocation: /new/x.json\r\n\r\nHTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: 8\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n",
            ),
            ("err", ""),
        ]);
        let r = Response::from_sections(&s, "http://h/x.json");
        assert_eq!((r.status, r.reason.as_str(), r.redirects), (200, "OK", 1));
        assert_eq!(r.url, "http://h/new/x.json");
        assert_eq!(r.header("content-type").as_deref(), Some("application/json"));
        assert_eq!(r.msg(), "OK (8 bytes)");
        let keys = r.header_keys();
        assert_eq!(keys["content_length"], "8");
        assert_eq!(keys["set_cookie"], "a=1, b=2");
        assert!(keys.get("location").is_none());
    }

    #[test]
    fn curl_errors_and_http_errors() {
        let s = sections(&[
            ("tool", "curl"),
            ("write", "000 0 http://h:1/"),
            ("rc", "7"),
            ("headers", ""),
            ("err", "curl: (7) Failed to connect to h port 1: Connection refused\n"),
        ]);
        let r = Response::from_sections(&s, "http://h:1/");
        assert_eq!(r.status, -1);
        assert_eq!(r.msg(), "Request failed: (7) Failed to connect to h port 1: Connection refused");
        let s = sections(&[
            ("tool", "curl"),
            ("write", "404 0 http://h/x"),
            ("rc", "0"),
            ("headers", "HTTP/1.0 404 File not found\r\nContent-Length: 3\r\n\r\n"),
        ]);
        let r = Response::from_sections(&s, "http://h/x");
        assert_eq!(r.msg(), "HTTP Error 404: File not found");
    }

    #[test]
    fn wget_server_response_is_parsed() {
        let s = sections(&[
            ("tool", "wget"),
            ("rc", "8"),
            (
                "headers",
                "  HTTP/1.1 302 Found\n  Location: b/y\n  HTTP/1.0 404 File not found\n  Server: x\n  Content-Length: 335\nhttp://h/a/x:\n2026-11-22 ERROR 404: File not found.\n",
            ),
        ]);
        let r = Response::from_sections(&s, "http://h/a/x");
        assert_eq!((r.status, r.redirects, r.url.as_str()), (404, 1, "http://h/a/b/y"));
        assert_eq!(r.header("server").as_deref(), Some("x"));
        let s = sections(&[("tool", "wget"), ("rc", "4"), ("headers", "failed: Connection refused.\n")]);
        let r = Response::from_sections(&s, "http://h/");
        assert_eq!(r.msg(), "Request failed: failed: Connection refused.");
        let s = sections(&[
            ("tool", "none"),
            ("rc", "127"),
            ("err", "neither curl nor wget is installed on the host\n"),
        ]);
        assert_eq!(
            Response::from_sections(&s, "http://h/").msg(),
            "Request failed: neither curl nor wget is installed on the host"
        );
    }

    #[test]
    fn filenames_and_urls() {
        assert_eq!(url_filename("http://h/a/b.tar.gz?x=1"), "b.tar.gz");
        assert_eq!(url_filename("http://h/"), "index.html");
        assert_eq!(url_filename("http://h"), "index.html");
        assert_eq!(join_url("http://h/a/b?q", "/c"), "http://h/c");
        assert_eq!(join_url("http://h/a/b", "c"), "http://h/a/c");
        assert_eq!(join_url("http://h/a", "https://o/x"), "https://o/x");
        assert!(is_url("HTTP://x") && !is_url("abc123"));
        assert_eq!(Redirects::parse("urllib2"), Some(Redirects::Safe));
        assert_eq!(Redirects::parse("bogus"), None);
    }

    /// The fragment runs in this machine's shell against a loopback server, with each tool.
    #[test]
    fn fragment_runs_with_curl_and_wget_against_a_loopback_server() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(2) {
                let mut s = stream.unwrap();
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let _ = s.write_all(
                    b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{\"a\":1}",
                );
            }
        });
        let url = format!("http://127.0.0.1:{port}/x");
        let dir = tempfile::tempdir().unwrap();
        for tool in ["curl", "wget"] {
            if std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {tool}"))
                .output()
                .map_or(true, |o| !o.status.success())
            {
                continue;
            }
            let mut r = Request::get(&url, 5);
            r.method = "POST".into();
            // curl is tried first; for wget, the curl probe is made to fail.
            let frag = if tool == "wget" {
                r.fragment().replacen("command -v curl", "command -v no-such-tool", 1)
            } else {
                r.fragment()
            };
            let d = dir.path().display();
            let script = format!(
                "{SHELL_FNS}; o={d}/o; h={d}/h; ef={d}/e; : >\"$h\"; : >\"$ef\"; {frag}; emit body \"$o\""
            );
            let out = std::process::Command::new("sh").arg("-c").arg(&script).output().unwrap();
            let s = Sections::parse(&out.stdout).unwrap();
            assert_eq!(s.text("tool").as_deref(), Some(tool));
            let resp = Response::from_sections(&s, &url);
            assert_eq!((resp.status, resp.reason.as_str()), (201, "Created"), "{tool}: {s:?}");
            assert_eq!(s.text("body").as_deref(), Some("{\"a\":1}"), "{tool}");
        }
    }
}
