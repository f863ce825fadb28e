//! `uri`: makes an HTTP request from the host and returns the response, as Ansible's uri
//! module.
//!
//! ```yaml
//! - uri:
//!     url: http://127.0.0.1:8080/health
//!     return_content: true
//!   register: health
//! - uri:
//!     url: https://api.example.com/deploys
//!     method: POST
//!     body_format: json
//!     body: { version: "{{ version }}" }
//!     status_code: [200, 201]
//!     headers: { Authorization: "Bearer {{ token }}" }
//! ```
//!
//! The host runs one command (curl, else GNU wget; see [`http_client`]): `creates`/`removes`
//! are tested there first, the body is passed on stdin, and the status, headers and body come
//! back as separate sections. A JSON response (`application/json`, `+json`) is parsed into
//! `json`; the headers are returned lower-cased with `-` as `_`, as Ansible does.
//!
//! `changed` is false unless `dest` is written (Ansible reports it for any write to `dest`;
//! Baton only when the content differs). Like Ansible's, the module does not run in check mode
//! (skipped). Not supported (refused as unknown): `src`, `remote_src`, `unix_socket`,
//! `ca_path`, `client_cert`, `client_key`, `ciphers`, `decompress`, `unredirected_headers`,
//! `use_gssapi`, `use_netrc`, `use_proxy`, `body_format: form-multipart`.
//!
//! `url_password` travels on the host's command line (as the shell's argument), so a local
//! user who can list processes on the host may see it while the request runs.

use serde_json::{Map, Value};

use super::http_client::{self, Auth, Redirects, Request, Response, SHELL_FNS, Sections};
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::Command;
use crate::connection::quote::quote;
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "uri",
    free_form: false,
    params: &[
        "body",
        "body_format",
        "creates",
        "dest",
        "follow_redirects",
        "force",
        "force_basic_auth",
        "group",
        "headers",
        "http_agent",
        "method",
        "mode",
        "owner",
        "password",
        "removes",
        "return_content",
        "status_code",
        "timeout",
        "url",
        "url_password",
        "url_username",
        "user",
        "validate_certs",
    ],
    run: crate::module_entry!(run),
    run_loop: None,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub request: Request,
    pub body: Option<String>,
    pub status_codes: Vec<i32>,
    pub return_content: bool,
    pub dest: Option<String>,
    pub creates: Option<String>,
    pub removes: Option<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
    pub mode: Option<String>,
}

fn bad(message: impl Into<String>) -> ModuleError {
    ModuleError::BadArgs { module: MODULE.name.into(), message: message.into() }
}

/// `application/x-www-form-urlencoded` text of a mapping or list of pairs.
pub fn form_urlencoded(v: &Value) -> Result<String, String> {
    let enc = |s: &str| {
        let mut out = String::new();
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut pairs: Vec<(String, String)> = Vec::new();
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                match val {
                    Value::Array(items) => pairs.extend(items.iter().map(|i| (k.clone(), text(i)))),
                    other => pairs.push((k.clone(), text(other))),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Array(kv) if kv.len() == 2 => pairs.push((text(&kv[0]), text(&kv[1]))),
                    other => return Err(format!("cannot encode `{other}` as a form field")),
                }
            }
        }
        other => return Err(format!("cannot encode `{other}` as a form")),
    }
    Ok(pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&"))
}

/// Ansible's accepted status codes: one number or a list.
pub fn parse_status_codes(v: Option<&Value>) -> Result<Vec<i32>, String> {
    let one = |v: &Value| -> Result<i32, String> {
        match v {
            Value::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or_else(|| format!("`status_code` must be a number or a list of numbers, got `{v}`"))
    };
    match v {
        None | Some(Value::Null) => Ok(vec![200]),
        Some(Value::Array(items)) => items.iter().map(one).collect(),
        // `status_code: 200,201` as k=v text, as Ansible's list type splits it.
        Some(Value::String(s)) if s.contains(',') => {
            s.split(',').map(|p| one(&Value::String(p.to_string()))).collect()
        }
        Some(v) => Ok(vec![one(v)?]),
    }
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let url = args
            .str(m, "url")?
            .ok_or_else(|| ModuleError::MissingParam { module: m.into(), param: "url".into() })?;
        let method = args.str(m, "method")?.unwrap_or_else(|| "GET".into()).to_uppercase();
        if method.is_empty() || !method.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(bad("Parameter 'method' needs to be a single word in uppercase, like GET or POST."));
        }
        let format = args.str(m, "body_format")?.unwrap_or_else(|| "raw".into()).to_lowercase();
        let mut headers = http_client::headers_from(args, m)?;
        let has_type = headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
        let raw_body = args.0.get("body").filter(|v| !v.is_null());
        let body = match (format.as_str(), raw_body) {
            (_, None) => None,
            ("json", Some(Value::String(s))) => Some(s.clone()),
            ("json", Some(v)) => Some(v.to_string()),
            ("form-urlencoded", Some(Value::String(s))) => Some(s.clone()),
            ("form-urlencoded", Some(v)) => Some(
                form_urlencoded(v)
                    .map_err(|e| bad(format!("failed to parse body as form_urlencoded: {e}")))?,
            ),
            ("raw", Some(Value::String(s))) => Some(s.clone()),
            ("raw", Some(v)) => Some(v.to_string()),
            (other, Some(_)) => {
                return Err(bad(format!(
                    "`body_format` must be one of raw, json, form-urlencoded; got `{other}`"
                )));
            }
        };
        if !has_type {
            match format.as_str() {
                "json" => headers.push(("Content-Type".into(), "application/json".into())),
                "form-urlencoded" => {
                    headers.push(("Content-Type".into(), "application/x-www-form-urlencoded".into()));
                }
                _ => {}
            }
        }
        if !["raw", "json", "form-urlencoded"].contains(&format.as_str()) {
            return Err(bad(format!(
                "`body_format` must be one of raw, json, form-urlencoded; got `{format}`"
            )));
        }
        if let Some(agent) = args.str(m, "http_agent")? {
            headers.push(("User-Agent".into(), agent));
        }
        let follow = args.str(m, "follow_redirects")?.unwrap_or_else(|| "safe".into());
        let redirects = Redirects::parse(&follow).ok_or_else(|| {
            bad(format!(
                "`follow_redirects` must be one of all, no, none, safe, urllib2, yes; got `{follow}`"
            ))
        })?;
        let user = args.str(m, "url_username")?.or(args.str(m, "user")?);
        let password = args.str(m, "url_password")?.or(args.str(m, "password")?);
        let force_basic = args.bool(m, "force_basic_auth")?.unwrap_or(false);
        let request = Request {
            url,
            method,
            headers,
            has_body: body.is_some(),
            timeout: http_client::seconds(args, m, "timeout", 30)?,
            validate_certs: args.bool(m, "validate_certs")?.unwrap_or(true),
            redirects,
            auth: user.map(|user| Auth { user, password: password.unwrap_or_default(), force_basic }),
        };
        Ok(Params {
            request,
            body,
            status_codes: parse_status_codes(args.0.get("status_code")).map_err(bad)?,
            return_content: args.bool(m, "return_content")?.unwrap_or(false),
            dest: args.str(m, "dest")?,
            creates: args.str(m, "creates")?,
            removes: args.str(m, "removes")?,
            owner: args.str(m, "owner")?,
            group: args.str(m, "group")?,
            mode: args.str(m, "mode")?,
        })
    }
}

/// The one command: guards, the request, then the body (and `dest` written when the status
/// is accepted and the content differs).
pub fn script(p: &Params) -> String {
    let mut s = format!("{SHELL_FNS}; ");
    if let Some(c) = &p.creates {
        let q = quote(c);
        s.push_str(&format!(
            "if [ -e {q} ]; then say skip \"skipped, since '\"{q}\"' exists\"; exit 0; fi; "
        ));
    }
    if let Some(r) = &p.removes {
        let q = quote(r);
        s.push_str(&format!(
            "if ! [ -e {q} ]; then say skip \"skipped, since '\"{q}\"' does not exist\"; exit 0; fi; "
        ));
    }
    s.push_str("o=$(mktemp); h=$(mktemp); ef=$(mktemp); bq=$(mktemp); trap 'rm -f \"$o\" \"$h\" \"$ef\" \"$bq\"' EXIT; ");
    if p.body.is_some() {
        s.push_str("cat > \"$bq\"; ");
    }
    s.push_str(&p.request.fragment());
    s.push_str("; emit body \"$o\"");
    if let Some(dest) = &p.dest {
        let codes: Vec<String> = p.status_codes.iter().filter(|c| **c != 304).map(i32::to_string).collect();
        if !codes.is_empty() {
            let mut attrs = String::new();
            if p.owner.is_some() || p.group.is_some() {
                let spec = format!(
                    "{}{}",
                    p.owner.as_deref().unwrap_or(""),
                    p.group.as_ref().map(|g| format!(":{g}")).unwrap_or_default()
                );
                attrs.push_str(&format!("chown -- {} \"$d\" 2>\"$ef\" || fail=1; ", quote(&spec)));
            }
            if let Some(mode) = &p.mode {
                attrs.push_str(&format!("chmod {} -- \"$d\" 2>\"$ef\" || fail=1; ", quote(mode)));
            }
            s.push_str(&format!(
                "; case \"$st\" in {}) d={}; [ -d \"$d\" ] && d=\"$d/index.html\"; say path \"$d\"; \
                 if ! cmp -s \"$o\" \"$d\"; then cp -- \"$o\" \"$d.baton-tmp\" 2>\"$ef\" && mv -f -- \"$d.baton-tmp\" \"$d\" 2>\"$ef\" \
                 && say written 1 || say fail \"$(cat \"$ef\")\"; fi; fail=; {attrs}[ -z \"$fail\" ] || say fail \"$(cat \"$ef\")\";; esac",
                codes.join("|"),
                quote(dest),
            ));
        }
    }
    s
}

/// Whether a content type is JSON (`application/json`, `text/json`, `application/x+json`).
pub fn is_json(content_type: &str) -> bool {
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let sub = mime.split_once('/').map_or("", |(_, s)| s);
    let sub = sub.rsplit_once('+').map_or(sub, |(_, suffix)| suffix);
    matches!(sub, "json" | "javascript" | "x-json")
}

/// Python's list repr of the accepted codes (`[200, 201]`), for the failure message.
fn codes_repr(codes: &[i32]) -> String {
    format!("[{}]", codes.iter().map(i32::to_string).collect::<Vec<_>>().join(", "))
}

/// Turns the command's sections into the task result.
pub fn result(p: &Params, s: &Sections) -> TaskResult {
    if let Some(skip) = s.text("skip") {
        let mut r = TaskResult::new(Status::Ok);
        r.stdout = Some(skip);
        return r;
    }
    let resp = Response::from_sections(s, &p.request.url);
    let mut data = Map::new();
    data.extend(resp.header_keys());
    if let Some(loc) = resp.header("location") {
        data.insert("location".into(), http_client::join_url(&resp.url, &loc).into());
    }
    data.insert("url".into(), resp.url.clone().into());
    data.insert("status".into(), resp.status.into());
    data.insert("redirected".into(), (resp.redirects > 0 || resp.url != p.request.url).into());
    data.insert("elapsed".into(), 0.into());
    data.insert("cookies".into(), Value::Object(Map::new()));
    if resp.header("content-type").is_none() {
        data.insert("content_type".into(), Value::Null);
    }
    if resp.header("content-length").is_none() && resp.status > 0 {
        data.insert("content_length".into(), Value::Null);
    }
    let body = s.bytes("body").unwrap_or_default();
    let content = String::from_utf8_lossy(body).into_owned();
    if resp.header("content-type").is_some_and(|t| is_json(&t))
        && let Ok(js) = serde_json::from_str::<Value>(&content)
    {
        data.insert("json".into(), js);
    }
    let accepted = p.status_codes.contains(&resp.status);
    if p.return_content {
        data.insert("content".into(), content.clone().into());
    } else if !accepted && resp.status > 0 {
        // Ansible keeps the body of an unexpected answer for the failure.
        data.insert("content".into(), content.into());
    }
    if let Some(path) = s.text("path") {
        data.insert("path".into(), path.into());
    }
    let written = s.text("written").is_some();
    let msg = resp.msg();
    if !accepted {
        let mut r = TaskResult::failed(format!(
            "Status code was {} and not {}: {msg}",
            resp.status,
            codes_repr(&p.status_codes)
        ));
        r.data = data;
        return r;
    }
    if let Some(fail) = s.text("fail") {
        let mut r = TaskResult::failed(format!(
            "failed to write {}: {}",
            p.dest.as_deref().unwrap_or(""),
            fail.trim()
        ));
        r.data = data;
        return r;
    }
    let mut r = TaskResult::new(if written { Status::Changed } else { Status::Ok });
    r.msg = Some(msg);
    r.data = data;
    r
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    if ctx.check_mode {
        // Ansible's uri does not support check mode: the task is skipped.
        let mut r = TaskResult::new(Status::Skipped);
        r.msg = Some("check mode not supported for uri".into());
        return Ok(r);
    }
    let cmd =
        Command { cmd: script(&p), stdin: p.body.clone().map(String::into_bytes), ..Command::default() };
    let out = ctx.exec_with(cmd).await?;
    match Sections::parse(&out.stdout) {
        Ok(s) => Ok(result(&p, &s)),
        Err(e) => {
            let mut r = TaskResult::failed(format!("cannot read the response: {e}"));
            r.stderr = Some(out.stderr_str());
            r.rc = out.rc;
            Ok(r)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn params(v: Value) -> Params {
        Params::parse(&ModuleArgs(v.as_object().unwrap().clone())).unwrap()
    }

    fn parse_err(v: Value) -> String {
        Params::parse(&ModuleArgs(v.as_object().unwrap().clone())).unwrap_err().to_string()
    }

    fn sections(items: &[(&str, &str)]) -> Sections {
        Sections(items.iter().map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())).collect())
    }

    fn curl(status: &str, headers: &str, body: &str) -> Sections {
        sections(&[
            ("tool", "curl"),
            ("write", &format!("{status} 0 http://h/x")),
            ("rc", "0"),
            ("headers", headers),
            ("err", ""),
            ("body", body),
        ])
    }

    #[test]
    fn status_codes_as_ansible_accepts_them() {
        assert_eq!(parse_status_codes(None).unwrap(), vec![200]);
        assert_eq!(parse_status_codes(Some(&json!(201))).unwrap(), vec![201]);
        assert_eq!(parse_status_codes(Some(&json!([200, "204"]))).unwrap(), vec![200, 204]);
        assert_eq!(parse_status_codes(Some(&json!("200,301"))).unwrap(), vec![200, 301]);
        assert!(parse_status_codes(Some(&json!("ok"))).is_err());
    }

    #[test]
    fn bodies_by_format() {
        let p = params(
            json!({"url": "http://h/", "method": "post", "body_format": "json", "body": {"a": [1, "x"]}}),
        );
        assert_eq!(p.request.method, "POST");
        assert_eq!(p.body.as_deref(), Some(r#"{"a":[1,"x"]}"#));
        assert!(p.request.has_body);
        assert!(p.request.headers.contains(&("Content-Type".into(), "application/json".into())));
        let p = params(json!({"url": "http://h/", "body_format": "json", "body": "{\"pre\": 1}",
            "headers": {"content-type": "application/vnd+json"}}));
        assert_eq!(p.body.as_deref(), Some("{\"pre\": 1}"));
        assert_eq!(p.request.headers, vec![("content-type".to_string(), "application/vnd+json".to_string())]);
        let p = params(
            json!({"url": "http://h/", "body_format": "form-urlencoded", "body": {"name": "a b", "x": "&="}}),
        );
        assert_eq!(p.body.as_deref(), Some("name=a+b&x=%26%3D"));
        let p = params(json!({"url": "http://h/"}));
        assert_eq!((p.body, p.request.has_body, p.status_codes), (None, false, vec![200]));
    }

    #[test]
    fn bad_params_are_refused() {
        assert!(
            parse_err(json!({"url": "http://h/", "method": "GET /x"})).contains("single word in uppercase")
        );
        assert!(parse_err(json!({"url": "http://h/", "body_format": "xml", "body": "a"})).contains("`xml`"));
        assert!(
            parse_err(json!({"url": "http://h/", "follow_redirects": "sometimes"})).contains("`sometimes`")
        );
        assert!(parse_err(json!({"url": "http://h/", "status_code": "ok"})).contains("status_code"));
        assert!(parse_err(json!({})).contains("`url`"));
    }

    #[test]
    fn script_guards_and_dest() {
        let p = params(json!({"url": "http://h/", "creates": "/a b", "removes": "/r", "body": "x",
            "dest": "/srv/out", "status_code": [200, 304], "mode": "0600"}));
        let s = script(&p);
        assert!(s.contains("if [ -e '/a b' ]; then say skip"), "{s}");
        assert!(s.contains("if ! [ -e /r ]; then say skip"), "{s}");
        assert!(s.contains("cat > \"$bq\""), "{s}");
        assert!(s.contains("case \"$st\" in 200) d=/srv/out;"), "{s}");
        assert!(s.contains("chmod 0600 -- \"$d\""), "{s}");
        let p = params(json!({"url": "http://h/"}));
        assert!(!script(&p).contains("cat > \"$bq\""));
    }

    #[test]
    fn json_content_types() {
        for (t, want) in [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("application/problem+json", true),
            ("text/json", true),
            ("text/html", false),
            ("", false),
        ] {
            assert_eq!(is_json(t), want, "{t}");
        }
    }

    #[test]
    fn a_json_answer_is_parsed_and_headers_become_keys() {
        let p = params(json!({"url": "http://h/x", "return_content": true}));
        let r = result(
            &p,
            &curl(
                "200",
                "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: 8\r\nX-Req-Id: 7\r\n\r\n",
                "{\"a\":1}\n",
            ),
        );
        assert_eq!(r.status, Status::Ok);
        assert_eq!(r.msg.as_deref(), Some("OK (8 bytes)"));
        let d = &r.data;
        assert_eq!(d["json"], json!({"a": 1}));
        assert_eq!(d["content"], "{\"a\":1}\n");
        assert_eq!(d["status"], 200);
        assert_eq!(d["content_type"], "application/json");
        assert_eq!(d["content_length"], "8");
        assert_eq!(d["x_req_id"], "7");
        assert_eq!(d["redirected"], false);
        // Without return_content: json still, content not.
        let p = params(json!({"url": "http://h/x"}));
        let r = result(&p, &curl("200", "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n", "[1]"));
        assert_eq!(r.data["json"], json!([1]));
        assert!(r.data.get("content").is_none());
    }

    #[test]
    fn an_unexpected_status_fails_like_ansible() {
        let p = params(json!({"url": "http://h/x"}));
        let r = result(
            &p,
            &curl("404", "HTTP/1.0 404 File not found\r\nContent-Type: text/html\r\n\r\n", "nope"),
        );
        assert_eq!(r.status, Status::Failed);
        assert_eq!(
            r.msg.as_deref(),
            Some("Status code was 404 and not [200]: HTTP Error 404: File not found")
        );
        assert_eq!(r.data["status"], 404);
        let p = params(json!({"url": "http://h/x", "status_code": [200, 201]}));
        let s = sections(&[
            ("tool", "curl"),
            ("write", "000 0 http://h:1/"),
            ("rc", "7"),
            ("headers", ""),
            ("err", "curl: (7) Failed to connect\n"),
            ("body", ""),
        ]);
        let r = result(&p, &s);
        assert_eq!(
            r.msg.as_deref(),
            Some("Status code was -1 and not [200, 201]: Request failed: (7) Failed to connect")
        );
        let p = params(json!({"url": "http://h/x", "status_code": 404}));
        assert_eq!(result(&p, &curl("404", "HTTP/1.0 404 Not Found\r\n\r\n", "")).status, Status::Ok);
    }

    #[test]
    fn skipped_and_written() {
        let p = params(json!({"url": "http://h/x", "creates": "/f"}));
        let r = result(&p, &sections(&[("skip", "skipped, since '/f' exists")]));
        assert_eq!((r.status, r.stdout.as_deref()), (Status::Ok, Some("skipped, since '/f' exists")));
        let p = params(json!({"url": "http://h/x", "dest": "/srv/x"}));
        let mut s = curl("200", "HTTP/1.0 200 OK\r\n\r\n", "hi");
        s.0.push(("path".into(), b"/srv/x".to_vec()));
        s.0.push(("written".into(), b"1".to_vec()));
        let r = result(&p, &s);
        assert_eq!((r.status, r.data["path"].clone()), (Status::Changed, json!("/srv/x")));
    }

    #[test]
    fn script_runs_locally_with_a_posted_body() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            while !String::from_utf8_lossy(&got).contains("{\"a\":1}") {
                let n = s.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            let _ = s.write_all(b"HTTP/1.0 201 Created\r\nContent-Type: application/json\r\n\r\n{\"id\":5}");
            String::from_utf8_lossy(&got).into_owned()
        });
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.json").display().to_string();
        let p = params(json!({"url": format!("http://127.0.0.1:{port}/items"), "method": "POST",
            "body_format": "json", "body": {"a": 1}, "status_code": 201, "dest": dest}));
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(script(&p))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(p.body.as_deref().unwrap().as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let r = result(&p, &Sections::parse(&out.stdout).unwrap());
        assert_eq!(r.status, Status::Changed, "{r:?}");
        assert_eq!(r.data["json"], json!({"id": 5}));
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "{\"id\":5}");
        let request = server.join().unwrap();
        assert!(request.starts_with("POST /items "), "{request}");
        assert!(request.to_ascii_lowercase().contains("content-type: application/json"), "{request}");
    }
}
