//! `wait_for`: waits on the host for a port to open or close, a file to appear (with some
//! text in it) or go away, or a port's connections to drain, as Ansible's wait_for module.
//!
//! ```yaml
//! - wait_for: port=8080 timeout=60
//! - wait_for: { host: 10.0.0.5, port: 5432, state: stopped }
//! - wait_for:
//!     path: /var/log/app.log
//!     search_regex: 'listening on (?P<addr>\S+)'
//! - wait_for: { port: 80, state: drained, exclude_hosts: [10.0.0.9] }
//! ```
//!
//! The whole wait is ONE POSIX shell loop on the host, so there is one round trip however
//! long it waits. A port is tried with bash's `/dev/tcp` (under `timeout` when the host has
//! it), else `nc -z`, else — for a local port only — the listening sockets in
//! `/proc/net/tcp{,6}`; `drained` counts the port's connections there (Ansible's Linux
//! strategy). A path is tested with `test -e`; `search_regex` is found with `grep -P` (Perl
//! syntax, close to Python's), or `grep -E` where grep has no `-P`, line by line; the groups
//! of the matching line are returned in `match_groups`/`match_groupdict`.
//!
//! Differences from Ansible: `search_regex` matches within one line (on a port, the answer
//! ends when the service closes the connection or `connect_timeout` passes); a regex Rust's
//! `regex` crate cannot compile (look-around, back-references) is refused; for `drained`,
//! `host` must be an IP address or `localhost`. Like Ansible's, the module does not run in
//! check mode.

use serde_json::{Map, Value};

use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::quote;
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "wait_for",
    free_form: false,
    params: &[
        "active_connection_states",
        "connect_timeout",
        "delay",
        "exclude_hosts",
        "host",
        "msg",
        "path",
        "port",
        "search_regex",
        "sleep",
        "state",
        "timeout",
    ],
    run: crate::module_entry!(run),
    run_loop: None,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitState {
    Started,
    Present,
    Stopped,
    Absent,
    Drained,
}

impl WaitState {
    fn parse(s: &str) -> Option<WaitState> {
        Some(match s {
            "started" => WaitState::Started,
            "present" => WaitState::Present,
            "stopped" => WaitState::Stopped,
            "absent" => WaitState::Absent,
            "drained" => WaitState::Drained,
            _ => return None,
        })
    }

    fn word(self) -> &'static str {
        match self {
            WaitState::Started => "started",
            WaitState::Present => "present",
            WaitState::Stopped => "stopped",
            WaitState::Absent => "absent",
            WaitState::Drained => "drained",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub host: String,
    pub port: Option<u16>,
    pub path: Option<String>,
    pub search_regex: Option<String>,
    pub state: WaitState,
    pub delay: u64,
    pub timeout: u64,
    pub sleep: u64,
    pub connect_timeout: u64,
    pub msg: Option<String>,
    pub exclude_hosts: Vec<String>,
    /// `/proc/net/tcp` state ids (`01` ESTABLISHED, ...).
    pub active_states: Vec<&'static str>,
}

fn bad(message: impl Into<String>) -> ModuleError {
    ModuleError::BadArgs { module: MODULE.name.into(), message: message.into() }
}

fn state_id(name: &str) -> Option<&'static str> {
    Some(match name {
        "ESTABLISHED" => "01",
        "SYN_SENT" => "02",
        "SYN_RECV" => "03",
        "FIN_WAIT1" => "04",
        "FIN_WAIT2" => "05",
        "TIME_WAIT" => "06",
        _ => return None,
    })
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let num = |key: &str, default: u64| -> Result<u64, ModuleError> {
            match args.str(m, key)? {
                None => Ok(default),
                Some(s) => s
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| bad(format!("`{key}` must be a whole number of seconds, got `{s}`"))),
            }
        };
        let port = match args.str(m, "port")? {
            None => None,
            Some(s) => Some(
                s.trim()
                    .parse::<u16>()
                    .map_err(|_| bad(format!("`port` must be a port number, got `{s}`")))?,
            ),
        };
        let state = match args.str(m, "state")? {
            None => WaitState::Started,
            Some(s) => WaitState::parse(&s).ok_or_else(|| {
                bad(format!("`state` must be one of absent, drained, present, started, stopped; got `{s}`"))
            })?,
        };
        let search_regex = args.str(m, "search_regex")?;
        if let Some(re) = &search_regex {
            regex::Regex::new(re).map_err(|e| bad(format!("Invalid regular expression: {e}")))?;
        }
        let path = args.str(m, "path")?;
        let exclude_hosts = args.str_list(m, "exclude_hosts")?;
        if port.is_some() && path.is_some() {
            return Err(bad("port and path parameter can not both be passed to wait_for"));
        }
        if path.is_some() && state == WaitState::Stopped {
            return Err(bad("state=stopped should only be used for checking a port in the wait_for module"));
        }
        if path.is_some() && state == WaitState::Drained {
            return Err(bad("state=drained should only be used for checking a port in the wait_for module"));
        }
        if exclude_hosts.is_some() && state != WaitState::Drained {
            return Err(bad("exclude_hosts should only be with state=drained"));
        }
        let names = args.str_list(m, "active_connection_states")?.unwrap_or_else(|| {
            ["ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "SYN_RECV", "SYN_SENT", "TIME_WAIT"]
                .map(String::from)
                .to_vec()
        });
        let active_states = names
            .iter()
            .map(|n| state_id(n).ok_or_else(|| bad(format!("unknown active_connection_state ({n}) defined"))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Params {
            host: args.str(m, "host")?.unwrap_or_else(|| "127.0.0.1".into()),
            port,
            path,
            search_regex,
            state,
            delay: num("delay", 0)?,
            timeout: num("timeout", 300)?,
            sleep: num("sleep", 1)?.max(1),
            connect_timeout: num("connect_timeout", 5)?.max(1),
            msg: args.str(m, "msg")?,
            exclude_hosts: exclude_hosts.unwrap_or_default(),
            active_states,
        })
    }
}

/// An address as `/proc/net/tcp{,6}` prints it: each 32-bit word in host (little-endian) order.
pub fn proc_hex(addr: &std::net::IpAddr) -> String {
    let word = |b: &[u8]| format!("{:02X}{:02X}{:02X}{:02X}", b[3], b[2], b[1], b[0]);
    match addr {
        std::net::IpAddr::V4(v4) => word(&v4.octets()),
        std::net::IpAddr::V6(v6) => v6.octets().chunks(4).map(word).collect(),
    }
}

/// The `/proc` forms of a host name: an IPv4 address also as IPv4-mapped IPv6; `*` matches
/// every local address (`0.0.0.0`, `::`).
pub fn host_hexes(host: &str) -> Result<Vec<String>, String> {
    let addrs: Vec<std::net::IpAddr> = match host {
        "localhost" => {
            vec!["127.0.0.1".parse().map_err(|_| "bad address")?, "::1".parse().map_err(|_| "bad address")?]
        }
        h => vec![h.parse().map_err(|_| format!("`{h}` is not an IP address (state=drained needs one)"))?],
    };
    let mut out = Vec::new();
    for a in addrs {
        if a.is_unspecified() {
            return Ok(vec!["*".into()]);
        }
        out.push(proc_hex(&a));
        if let std::net::IpAddr::V4(v4) = a {
            out.push(proc_hex(&std::net::IpAddr::V6(v4.to_ipv6_mapped())));
        }
    }
    Ok(out)
}

/// The condition the loop waits for, as a shell command that succeeds when it holds.
fn condition(p: &Params) -> Result<String, String> {
    let host = quote(&p.host);
    if p.state == WaitState::Drained {
        let port = p.port.ok_or("state=drained needs a `port`")?;
        let ips = host_hexes(&p.host)?.join(" ");
        let mut ex = Vec::new();
        for h in &p.exclude_hosts {
            ex.extend(host_hexes(h)?);
        }
        return Ok(format!(
            "[ \"$(awk -v p={port:04X} -v ips={} -v ex={} -v st={} 'FNR > 1 {{ split($2, l, \":\"); split($3, r, \":\"); \
             if (l[2] != p) next; if (index(\" \" st \" \", \" \" $4 \" \") == 0) next; \
             if (index(\" \" ex \" \", \" \" r[1] \" \")) next; \
             if (ips == \"*\" || index(\" \" ips \" \", \" \" l[1] \" \")) n++ }} END {{ print n + 0 }}' \
             /proc/net/tcp /proc/net/tcp6 2>/dev/null)\" = 0 ]",
            quote(&ips),
            quote(&ex.join(" ")),
            quote(&p.active_states.join(" ")),
        ));
    }
    if let Some(port) = p.port {
        let ct = p.connect_timeout;
        if let (Some(re), WaitState::Started | WaitState::Present) = (&p.search_regex, p.state) {
            return Ok(format!(
                "l=$(if command -v bash >/dev/null 2>&1; then $T bash -c 'exec 3<>\"/dev/tcp/$1/$2\" && cat <&3' _ {host} {port}; \
                 else nc -w {ct} {host} {port} </dev/null; fi 2>/dev/null | $G -m 1 -- {}) && say line \"$l\"",
                quote(re)
            ));
        }
        let open = format!(
            "{{ if command -v bash >/dev/null 2>&1; then $T bash -c 'exec 3<>\"/dev/tcp/$1/$2\"' _ {host} {port}; \
             elif command -v nc >/dev/null 2>&1; then nc -z -w {ct} {host} {port}; \
             else awk -v p={port:04X} 'FNR > 1 {{ split($2, l, \":\"); if (l[2] == p && $4 == \"0A\") f = 1 }} END {{ exit !f }}' \
             /proc/net/tcp /proc/net/tcp6; fi; }} >/dev/null 2>&1"
        );
        return Ok(match p.state {
            WaitState::Stopped | WaitState::Absent => format!("! {open}"),
            _ => open,
        });
    }
    if let Some(path) = &p.path {
        let q = quote(path);
        return Ok(match (p.state, &p.search_regex) {
            (WaitState::Absent, _) => format!("! [ -e {q} ]"),
            (_, None) => format!("[ -e {q} ]"),
            (_, Some(re)) => {
                format!("[ -e {q} ] && l=$($G -m 1 -- {} {q} 2>/dev/null) && say line \"$l\"", quote(re))
            }
        });
    }
    // Neither port nor path: Ansible just sleeps for `timeout`.
    Ok("false".into())
}

/// The one shell loop: delay, then test the condition every `sleep` seconds until it holds
/// or `timeout` (counted from the start, delay included) has passed.
pub fn script(p: &Params) -> Result<String, String> {
    let cond = condition(p)?;
    let ct = p.connect_timeout;
    let mut s = format!(
        "export LC_ALL=C; say() {{ printf '@%s %s\\n%s' \"$1\" \"${{#2}}\" \"$2\"; }}; \
         if command -v timeout >/dev/null 2>&1; then T='timeout {ct}'; else T=; fi; \
         if printf 'a\\n' | grep -P 'a' >/dev/null 2>&1; then G='grep -P'; else G='grep -E'; fi; \
         start=$(date +%s); end=$((start + {})); ",
        p.timeout
    );
    if p.delay > 0 {
        s.push_str(&format!("sleep {}; ", p.delay));
    }
    if cond == "false" {
        s.push_str(&format!("sleep {}; say done 1; ", p.timeout.saturating_sub(p.delay)));
    } else {
        s.push_str(&format!(
            "while :; do if {cond}; then say done 1; break; fi; \
             if [ \"$(date +%s)\" -ge \"$end\" ]; then say timeout 1; break; fi; sleep {}; done; ",
            p.sleep
        ));
    }
    s.push_str("say elapsed \"$(($(date +%s) - start))\"");
    Ok(s)
}

/// The message Ansible gives when the wait times out.
pub fn timeout_msg(p: &Params) -> String {
    if let Some(m) = &p.msg {
        return m.clone();
    }
    let (host, port) = (&p.host, p.port.map(|n| n.to_string()).unwrap_or_else(|| "None".into()));
    match (p.state, &p.path, &p.search_regex) {
        (WaitState::Drained, _, _) => format!("Timeout when waiting for {host}:{port} to drain"),
        (WaitState::Stopped | WaitState::Absent, Some(path), _) => {
            format!("Timeout when waiting for {path} to be absent.")
        }
        (WaitState::Stopped | WaitState::Absent, None, _) => {
            format!("Timeout when waiting for {host}:{port} to stop.")
        }
        (_, Some(path), Some(re)) => format!("Timeout when waiting for search string {re} in {path}"),
        (_, Some(path), None) => format!("Timeout when waiting for file {path}"),
        (_, None, Some(re)) => format!("Timeout when waiting for search string {re} in {host}:{port}"),
        (_, None, None) => format!("Timeout when waiting for {host}:{port}"),
    }
}

/// The groups of the regex in the matching line (positional, and the named ones).
pub fn match_groups(re: &str, line: &str) -> (Vec<Value>, Map<String, Value>) {
    let mut groups = Vec::new();
    let mut named = Map::new();
    let Ok(re) = regex::Regex::new(re) else { return (groups, named) };
    if let Some(c) = re.captures(line) {
        for i in 1..c.len() {
            groups.push(c.get(i).map_or(Value::Null, |g| Value::String(g.as_str().to_string())));
        }
        for name in re.capture_names().flatten() {
            named.insert(
                name.into(),
                c.name(name).map_or(Value::Null, |g| Value::String(g.as_str().to_string())),
            );
        }
    }
    (groups, named)
}

/// The task result from what the loop printed.
pub fn result(p: &Params, s: &super::http_client::Sections) -> TaskResult {
    let elapsed: u64 = s.text("elapsed").and_then(|e| e.trim().parse().ok()).unwrap_or(0);
    if s.text("done").is_none() {
        let mut r = TaskResult::failed(timeout_msg(p));
        r.data.insert("elapsed".into(), elapsed.into());
        return r;
    }
    let mut r = TaskResult::new(Status::Ok);
    let d = &mut r.data;
    d.insert("state".into(), p.state.word().into());
    d.insert("port".into(), p.port.map_or(Value::Null, Value::from));
    d.insert("path".into(), p.path.clone().map_or(Value::Null, Value::from));
    d.insert("search_regex".into(), p.search_regex.clone().map_or(Value::Null, Value::from));
    let (groups, named) = match (&p.search_regex, s.text("line")) {
        (Some(re), Some(line)) => match_groups(re, &line),
        _ => (Vec::new(), Map::new()),
    };
    d.insert("match_groups".into(), Value::Array(groups));
    d.insert("match_groupdict".into(), Value::Object(named));
    d.insert("elapsed".into(), elapsed.into());
    r
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    if ctx.check_mode {
        // Ansible's wait_for does not support check mode: the task is skipped.
        let mut r = TaskResult::new(Status::Skipped);
        r.msg = Some("check mode not supported for wait_for".into());
        return Ok(r);
    }
    let script = script(&p).map_err(bad)?;
    let out = ctx.exec(script).await?;
    match super::http_client::Sections::parse(&out.stdout) {
        Ok(s) => Ok(result(&p, &s)),
        Err(e) => {
            let mut r = TaskResult::failed(format!("wait_for: unexpected output from the host: {e}"));
            r.stderr = Some(out.stderr_str());
            r.rc = out.rc;
            Ok(r)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::http_client::Sections;
    use super::*;

    fn params(v: Value) -> Params {
        Params::parse(&ModuleArgs(v.as_object().unwrap().clone())).unwrap()
    }

    fn parse_err(v: Value) -> String {
        Params::parse(&ModuleArgs(v.as_object().unwrap().clone())).unwrap_err().to_string()
    }

    fn run_local(p: &Params) -> TaskResult {
        let out = std::process::Command::new("sh").arg("-c").arg(script(p).unwrap()).output().unwrap();
        result(p, &Sections::parse(&out.stdout).unwrap())
    }

    #[test]
    fn defaults_and_refusals() {
        let p = params(json!({"port": 22}));
        assert_eq!(
            (p.host.as_str(), p.timeout, p.sleep, p.connect_timeout, p.state),
            ("127.0.0.1", 300, 1, 5, WaitState::Started)
        );
        assert_eq!(p.active_states, vec!["01", "04", "05", "03", "02", "06"]);
        for (args, want) in [
            (json!({"port": 1, "path": "/x"}), "port and path parameter can not both be passed"),
            (
                json!({"path": "/x", "state": "stopped"}),
                "state=stopped should only be used for checking a port",
            ),
            (json!({"path": "/x", "state": "drained"}), "state=drained should only be used"),
            (json!({"port": 1, "exclude_hosts": ["a"]}), "exclude_hosts should only be with state=drained"),
            (json!({"port": 1, "state": "up"}), "`up`"),
            (json!({"port": "http"}), "`port` must be a port number"),
            (json!({"path": "/x", "search_regex": "(unclosed"}), "Invalid regular expression"),
            (
                json!({"port": 1, "state": "drained", "active_connection_states": ["LISTEN"]}),
                "unknown active_connection_state (LISTEN)",
            ),
            (json!({"port": 1, "timeout": "soon"}), "`timeout`"),
        ] {
            let err = parse_err(args.clone());
            assert!(err.contains(want), "{args}: {err}");
        }
    }

    #[test]
    fn timeout_messages_as_ansible_words_them() {
        let m = |v: Value| timeout_msg(&params(v));
        assert_eq!(m(json!({"port": 9})), "Timeout when waiting for 127.0.0.1:9");
        assert_eq!(
            m(json!({"host": "db", "port": 9, "state": "stopped"})),
            "Timeout when waiting for db:9 to stop."
        );
        assert_eq!(m(json!({"path": "/f"})), "Timeout when waiting for file /f");
        assert_eq!(m(json!({"path": "/f", "state": "absent"})), "Timeout when waiting for /f to be absent.");
        assert_eq!(
            m(json!({"path": "/f", "search_regex": "ok"})),
            "Timeout when waiting for search string ok in /f"
        );
        assert_eq!(
            m(json!({"port": 9, "search_regex": "SSH"})),
            "Timeout when waiting for search string SSH in 127.0.0.1:9"
        );
        assert_eq!(
            m(json!({"port": 9, "state": "drained"})),
            "Timeout when waiting for 127.0.0.1:9 to drain"
        );
        assert_eq!(m(json!({"port": 9, "msg": "db down"})), "db down");
    }

    #[test]
    fn proc_addresses() {
        assert_eq!(host_hexes("127.0.0.1").unwrap(), vec!["0100007F", "0000000000000000FFFF00000100007F"]);
        assert_eq!(host_hexes("0.0.0.0").unwrap(), vec!["*"]);
        assert_eq!(host_hexes("::1").unwrap(), vec!["00000000000000000000000001000000"]);
        assert!(host_hexes("db.example").is_err());
    }

    #[test]
    fn conditions_by_kind() {
        let c = |v: Value| condition(&params(v)).unwrap();
        assert!(c(json!({"port": 80})).contains("bash -c 'exec 3<>\"/dev/tcp/$1/$2\"' _ 127.0.0.1 80"));
        assert!(c(json!({"port": 80})).contains("nc -z -w 5 127.0.0.1 80"));
        assert!(c(json!({"port": 80})).contains("p=0050"));
        assert!(c(json!({"port": 80, "state": "stopped"})).starts_with("! {"));
        assert_eq!(c(json!({"path": "/a b"})), "[ -e '/a b' ]");
        assert_eq!(c(json!({"path": "/a", "state": "absent"})), "! [ -e /a ]");
        assert!(c(json!({"path": "/a", "search_regex": "x y"})).contains("$G -m 1 -- 'x y' /a"));
        let d = c(json!({"port": 80, "state": "drained", "host": "0.0.0.0", "exclude_hosts": ["10.0.0.1"]}));
        assert!(
            d.contains("-v ips='*'") && d.contains("-v ex='0100000A 0000000000000000FFFF00000100000A'"),
            "{d}"
        );
    }

    #[test]
    fn groups_of_the_matching_line() {
        let (g, n) = match_groups(r"listening on (?P<addr>\S+):(\d+)", "app listening on 0.0.0.0:8080 now");
        assert_eq!(g, vec![json!("0.0.0.0"), json!("8080")]);
        assert_eq!(n["addr"], "0.0.0.0");
    }

    #[test]
    fn a_path_and_its_text_on_this_machine() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("log").display().to_string();
        std::fs::write(&f, "boot\nready on port 8080\n").unwrap();
        let r = run_local(&params(json!({"path": f, "search_regex": r"ready on port (\d+)", "timeout": 2})));
        assert_eq!(r.status, Status::Ok, "{r:?}");
        assert_eq!(r.data["match_groups"], json!(["8080"]));
        assert_eq!(r.data["path"], json!(f));
        let r = run_local(&params(json!({"path": f, "search_regex": "never", "timeout": 1})));
        assert_eq!(r.status, Status::Failed);
        assert_eq!(r.msg.unwrap(), format!("Timeout when waiting for search string never in {f}"));
        let r = run_local(&params(json!({"path": format!("{f}.gone"), "state": "absent", "timeout": 1})));
        assert_eq!(r.status, Status::Ok);
    }

    #[test]
    fn a_banner_on_a_port_on_this_machine() {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(1) {
                let _ = stream.unwrap().write_all(b"SSH-2.0-OpenSSH_9.2\r\n");
            }
        });
        let p = params(
            json!({"port": port, "search_regex": r"OpenSSH_(\d+)", "timeout": 3, "connect_timeout": 2}),
        );
        let r = run_local(&p);
        assert_eq!(r.status, Status::Ok, "{r:?}");
        assert_eq!(r.data["match_groups"], json!(["9"]));
    }

    #[test]
    fn ports_on_this_machine() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let r = run_local(&params(json!({"port": port, "timeout": 2})));
        assert_eq!((r.status, r.data["port"].clone()), (Status::Ok, json!(port)), "{r:?}");
        drop(listener);
        let started = std::time::Instant::now();
        let r = run_local(&params(json!({"port": port, "timeout": 1})));
        assert_eq!(r.status, Status::Failed);
        assert_eq!(r.msg.as_deref(), Some(format!("Timeout when waiting for 127.0.0.1:{port}").as_str()));
        assert!(started.elapsed().as_secs() < 5);
        assert_eq!(
            run_local(&params(json!({"port": port, "state": "stopped", "timeout": 1}))).status,
            Status::Ok
        );
        // An established connection keeps the port from draining; none lets it drain at once.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let r = run_local(&params(json!({"port": port, "state": "drained", "timeout": 1})));
        assert_eq!(
            r.msg.as_deref(),
            Some(format!("Timeout when waiting for 127.0.0.1:{port} to drain").as_str())
        );
        let r = run_local(&params(
            json!({"port": port, "state": "drained", "timeout": 1, "exclude_hosts": ["127.0.0.1"]}),
        ));
        assert_eq!(r.status, Status::Ok, "{r:?}");
        drop(client);
        drop(listener);
    }
}
