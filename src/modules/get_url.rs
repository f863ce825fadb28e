//! `get_url`: downloads a file over HTTP(S) or FTP onto the host, as Ansible's get_url module.
//!
//! ```yaml
//! - get_url:
//!     url: https://example.com/app-1.4.tar.gz
//!     dest: /srv/dist/
//!     checksum: sha256:https://example.com/SHA256SUMS
//!     mode: "0644"
//! - get_url: url=http://10.0.0.2/a.txt dest=/tmp/a.txt force=yes backup=yes
//! ```
//!
//! The host makes the request itself (curl, else GNU wget; see [`http_client`]). One command
//! reads `dest` (and its checksum when one is asked for); an existing file is left alone when
//! `force: no` and, with a `checksum`, when its digest matches, so a second run downloads
//! nothing. A download goes to a temp file beside `dest` (or in `tmp_dest`), is checked against
//! the checksum there, and only then replaces `dest` (a rename), when its sha1 differs.
//!
//! Differences from Ansible: with `force: no` and no checksum an existing `dest` is never
//! fetched again (Ansible sends `If-Modified-Since` and may replace it); a directory `dest`
//! gets the URL's file name (a `Content-Disposition` name is not used); check mode makes no
//! request. Not supported (refused as unknown): `ciphers`, `client_cert`, `client_key`,
//! `decompress`, `unredirected_headers`, `use_gssapi`, `use_netrc`, `use_proxy` (the host's
//! proxy variables apply), `attributes`, `selevel`/`serole`/`setype`/`seuser`.
//!
//! `url_password` travels on the host's command line (as the shell's argument), so a local
//! user who can list processes on the host may see it while the request runs.

use serde_json::{Map, Value};

use super::fileinfo::{self, Attrs, Checksum, FileInfo, HostFacts, Kind, Probe, Target};
use super::http_client::{self, Auth, Request, Response, SHELL_FNS, Sections};
use super::plan::Plan;
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::quote;
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "get_url",
    free_form: false,
    params: &[
        "backup",
        "checksum",
        "dest",
        "force",
        "force_basic_auth",
        "group",
        "headers",
        "http_agent",
        "mode",
        "owner",
        "password",
        "timeout",
        "tmp_dest",
        "url",
        "url_password",
        "url_username",
        "username",
        "validate_certs",
    ],
    run: crate::module_entry!(run),
    run_loop: None,
};

/// The `checksum` parameter: `algo:hex` or `algo:URL` of a checksum file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    Digest { algo: Checksum, hex: String },
    FromUrl { algo: Checksum, url: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub url: String,
    pub dest: String,
    pub checksum: Option<Wanted>,
    pub force: bool,
    pub backup: bool,
    pub attrs: Attrs,
    pub tmp_dest: Option<String>,
    pub request: Request,
}

fn bad(message: impl Into<String>) -> ModuleError {
    ModuleError::BadArgs { module: MODULE.name.into(), message: message.into() }
}

/// Ansible's cleanup of a digest: non-word characters dropped, lower case, hex only.
pub fn clean_digest(s: &str) -> Result<String, String> {
    let hex: String =
        s.chars().filter(|c| c.is_alphanumeric() || *c == '_').collect::<String>().to_lowercase();
    if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err("The checksum format is invalid".into());
    }
    Ok(hex)
}

/// Parses `algo:value` (Ansible's `checksum`).
pub fn parse_checksum(s: &str) -> Result<Option<Wanted>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    let (algo, value) = s
        .split_once(':')
        .ok_or_else(|| "The checksum parameter has to be in format <algorithm>:<checksum>".to_string())?;
    let algo = Checksum::parse(algo).ok_or_else(|| {
        format!("unsupported checksum algorithm `{algo}` (md5, sha1, sha224, sha256, sha384, sha512)")
    })?;
    if http_client::is_url(value) {
        return Ok(Some(Wanted::FromUrl { algo, url: value.to_string() }));
    }
    Ok(Some(Wanted::Digest { algo, hex: clean_digest(value)? }))
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let need = |key: &str| -> Result<String, ModuleError> {
            args.str(m, key)?.ok_or_else(|| ModuleError::MissingParam { module: m.into(), param: key.into() })
        };
        let url = need("url")?;
        let dest = need("dest")?;
        let checksum = parse_checksum(&args.str(m, "checksum")?.unwrap_or_default()).map_err(bad)?;
        let user = args.str(m, "url_username")?.or(args.str(m, "username")?);
        let password = args.str(m, "url_password")?.or(args.str(m, "password")?);
        let force_basic = args.bool(m, "force_basic_auth")?.unwrap_or(false);
        let auth = user.map(|user| Auth { user, password: password.unwrap_or_default(), force_basic });
        let mut headers = http_client::headers_from(args, m)?;
        if let Some(agent) = args.str(m, "http_agent")? {
            headers.push(("User-Agent".into(), agent));
        }
        let mut request = Request::get(&url, http_client::seconds(args, m, "timeout", 10)?);
        request.headers = headers;
        request.validate_certs = args.bool(m, "validate_certs")?.unwrap_or(true);
        request.auth = auth;
        let attrs = Attrs::from_args(args, m)?;
        if matches!(attrs.mode, Some(super::mode::Mode::Preserve)) {
            return Err(bad("mode `preserve` only works with copy and template"));
        }
        Ok(Params {
            url,
            dest,
            checksum,
            force: args.bool(m, "force")?.unwrap_or(false),
            backup: args.bool(m, "backup")?.unwrap_or(false),
            attrs,
            tmp_dest: args.str(m, "tmp_dest")?,
            request,
        })
    }

    /// The algorithm and digest once a checksum URL has been read.
    fn digest(&self, from_url: Option<&str>) -> Option<(Checksum, String)> {
        match &self.checksum {
            None => None,
            Some(Wanted::Digest { algo, hex }) => Some((*algo, hex.clone())),
            Some(Wanted::FromUrl { algo, .. }) => from_url.map(|h| (*algo, h.to_string())),
        }
    }
}

/// Finds the digest for `filename` in a checksum file (GNU `sum  file`, BSD `ALGO (file) =
/// sum`, or a file holding only the digest), as Ansible's `parse_digest_lines`.
pub fn digest_for(filename: &str, text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() == 1 && lines[0].split_whitespace().count() == 1 {
        return Some(lines[0].trim().to_string());
    }
    let bsd = regex::Regex::new(r"^(\w+) ?\((?P<path>.+)\) ?= (?P<digest>[\w.]+)$").ok()?;
    let gnu = regex::Regex::new(r"^(?P<digest>[\w.]+)\s+(\*|\./|\.)?(?P<path>.+)$").ok()?;
    for line in lines {
        if let Some(c) = bsd.captures(line) {
            if &c["path"] == filename {
                return Some(c["digest"].to_string());
            }
        } else if let Some(c) = gnu.captures(line)
            && c["path"].trim_start_matches(['.', '/']) == filename
        {
            return Some(c["digest"].to_string());
        }
    }
    None
}

/// What the host has: `dest` (with the wanted digest) and whether its parent exists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub host: HostFacts,
    pub dest: Option<FileInfo>,
    pub parent_exists: bool,
}

fn dirname(path: &str) -> String {
    match path.trim_end_matches('/').rsplit_once('/') {
        Some(("", _)) => "/".into(),
        Some((d, _)) => d.into(),
        None => ".".into(),
    }
}

fn probes(p: &Params, algo: Option<Checksum>) -> Vec<Probe> {
    vec![Probe::new(&p.dest).follow(true).checksum(algo), Probe::new(dirname(&p.dest)).follow(true)]
}

/// What to do about `dest`.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Leave the file; only its attributes are brought in line (the plan's steps).
    Keep { path: String, plan: Plan, msg: String },
    /// Download to `path` (the file name resolved inside a directory `dest`).
    Download { path: String },
}

/// Decides from (params, state, digest) what happens, without I/O.
pub fn decide(p: &Params, s: &State, digest: Option<&(Checksum, String)>) -> Result<Decision, String> {
    let dest_is_dir = s.dest.as_ref().is_some_and(FileInfo::is_dir);
    if dest_is_dir {
        let path = format!("{}/{}", p.dest.trim_end_matches('/'), http_client::url_filename(&p.url));
        return Ok(Decision::Download { path });
    }
    if !s.parent_exists && s.dest.is_none() {
        return Err(format!("Destination {} does not exist", dirname(&p.dest)));
    }
    if let Some(cur) = &s.dest
        && !p.force
    {
        let matches = match digest {
            Some((_, want)) => cur.checksum.as_deref() == Some(want.as_str()),
            None => true,
        };
        if matches {
            let mut plan = Plan::default();
            let t = [Target { path: &p.dest, kind: cur.kind, current: Some(cur) }];
            p.attrs.plan(&mut plan, &t, s.host.umask, None)?;
            let msg = if plan.is_empty() {
                "file already exists"
            } else {
                "file already exists but file attributes changed"
            };
            return Ok(Decision::Keep { path: p.dest.clone(), plan, msg: msg.into() });
        }
    }
    Ok(Decision::Download { path: p.dest.clone() })
}

/// The download command: fetch into a temp file beside `path` (or in `tmp_dest`), check the
/// digest, replace `path` when the sha1 differs (backup first), then report `path`'s state.
pub fn download_script(p: &Params, path: &str, digest: Option<&(Checksum, String)>) -> String {
    let d = quote(path);
    let td = quote(p.tmp_dest.as_deref().map_or_else(|| dirname(path), str::to_string).as_str()).into_owned();
    let mut s = format!(
        "{SHELL_FNS}; d={d}; o=$(mktemp {td}/.baton-get_url.XXXXXX) || {{ say fail \"cannot create a temp file in \"{td}; exit 0; }}; \
         h=$(mktemp); ef=$(mktemp); trap 'rm -f \"$o\" \"$h\" \"$ef\"' EXIT; {}; \
         case \"$rc:$st\" in 0:200) ;; *) exit 0;; esac; ",
        p.request.fragment()
    );
    if let Some((algo, hex)) = digest {
        s.push_str(&format!(
            "sum=$({} < \"$o\" | cut -d' ' -f1); if [ \"$sum\" != {} ]; then say badsum \"$sum\"; say tmp \"$o\"; exit 0; fi; ",
            tool(*algo),
            quote(hex)
        ));
    }
    s.push_str(
        "s1=$(sha1sum < \"$o\" | cut -d' ' -f1); say sha1src \"$s1\"; say size \"$(wc -c < \"$o\" | tr -d ' ')\"; say tmp \"$o\"; \
         s2=; if [ -f \"$d\" ]; then s2=$(sha1sum < \"$d\" | cut -d' ' -f1); say sha1dest \"$s2\"; fi; \
         if [ \"$s1\" != \"$s2\" ]; then ",
    );
    if p.backup {
        s.push_str(
            "if [ -f \"$d\" ]; then b=\"$d.$$.$(date +%Y-%m-%d@%H:%M:%S)~\"; cp -p -- \"$d\" \"$b\" && say backup \"$b\"; fi; ",
        );
    }
    s.push_str(
        "if [ -e \"$d\" ]; then chmod --reference=\"$d\" \"$o\"; chown --reference=\"$d\" \"$o\" 2>/dev/null; \
         else chmod \"$(printf '%o' $((0666 & ~0$(umask))))\" \"$o\"; fi; \
         mv -f -- \"$o\" \"$d\" 2>\"$ef\" || { say fail \"failed to copy to $d: $(cat \"$ef\")\"; exit 0; }; say moved 1; fi; \
         say md5sum \"$(md5sum < \"$d\" | cut -d' ' -f1)\"; printf '@rest 0\\n'; ",
    );
    s.push_str(&fileinfo::script_for_word("\"$d\"", None));
    s
}

fn tool(algo: Checksum) -> &'static str {
    match algo {
        Checksum::Md5 => "md5sum",
        Checksum::Sha1 => "sha1sum",
        Checksum::Sha224 => "sha224sum",
        Checksum::Sha256 => "sha256sum",
        Checksum::Sha384 => "sha384sum",
        Checksum::Sha512 => "sha512sum",
    }
}

/// What the download command reported.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub response: Response,
    pub failure: Option<String>,
    pub badsum: Option<String>,
    pub tmp: Option<String>,
    pub sha1_src: Option<String>,
    pub sha1_dest: Option<String>,
    pub md5: Option<String>,
    pub size: Option<u64>,
    pub moved: bool,
    pub backup: Option<String>,
    pub facts: Option<fileinfo::Facts>,
}

pub fn parse_outcome(out: &[u8], url: &str) -> Result<Outcome, String> {
    let s = Sections::parse(out)?;
    Ok(Outcome {
        response: Response::from_sections(&s, url),
        failure: s.text("fail"),
        badsum: s.text("badsum"),
        tmp: s.text("tmp"),
        sha1_src: s.text("sha1src"),
        sha1_dest: s.text("sha1dest"),
        md5: s.text("md5sum"),
        size: s.text("size").and_then(|v| v.trim().parse().ok()),
        moved: s.text("moved").is_some(),
        backup: s.text("backup"),
        facts: s.bytes("rest").map(fileinfo::parse).transpose()?,
    })
}

fn base_keys(p: &Params, dest: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("url".into(), p.url.clone().into());
    m.insert("dest".into(), dest.into());
    m.insert("checksum_src".into(), Value::Null);
    m.insert("checksum_dest".into(), Value::Null);
    m.insert("elapsed".into(), 0.into());
    m
}

fn failed(msg: impl Into<String>, data: Map<String, Value>) -> TaskResult {
    let mut r = TaskResult::failed(msg);
    r.data = data;
    r
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    let started = std::time::Instant::now();
    let mut data = base_keys(&p, &p.dest);
    // A checksum file is read first (also in check mode, as Ansible does).
    let from_url = match &p.checksum {
        Some(Wanted::FromUrl { url, .. }) => {
            let req = Request { url: url.clone(), ..p.request.clone() };
            let script = format!(
                "{SHELL_FNS}; o=$(mktemp); h=$(mktemp); ef=$(mktemp); trap 'rm -f \"$o\" \"$h\" \"$ef\"' EXIT; {}; emit body \"$o\"",
                req.fragment()
            );
            let out = ctx.exec(script).await?;
            let s = match Sections::parse(&out.stdout) {
                Ok(s) => s,
                Err(e) => return Ok(failed(format!("cannot read the checksum file: {e}"), data)),
            };
            let resp = Response::from_sections(&s, url);
            if resp.status != 200 {
                return Ok(failed(format!("Request failed: {}", resp.msg()), data));
            }
            let name = http_client::url_filename(&p.url);
            let text = s.text("body").unwrap_or_default();
            match digest_for(&name, &text).map(|d| clean_digest(&d)) {
                Some(Ok(hex)) => Some(hex),
                Some(Err(e)) => return Ok(failed(e, data)),
                None => {
                    return Ok(failed(
                        format!("Unable to find a checksum for file '{name}' in '{url}'"),
                        data,
                    ));
                }
            }
        }
        _ => None,
    };
    let digest = p.digest(from_url.as_deref());
    let probes = probes(&p, digest.as_ref().map(|(a, _)| *a));
    let facts = match fileinfo::read(ctx, &probes).await? {
        Ok(f) => f,
        Err(msg) => return Ok(failed(msg, data)),
    };
    let state = State {
        host: facts.host.clone(),
        dest: facts.get(0, &probes[0].path).cloned(),
        parent_exists: facts.get(1, &probes[1].path).is_some_and(FileInfo::is_dir),
    };
    let decision = match decide(&p, &state, digest.as_ref()) {
        Ok(d) => d,
        Err(msg) => return Ok(failed(msg, data)),
    };
    match decision {
        Decision::Keep { path, plan, msg } => {
            if let Some(info) = &state.dest {
                data.extend(fileinfo::result_keys(info));
            }
            data.insert("dest".into(), path.into());
            let mut r = plan.apply(ctx, data).await?;
            if r.status != Status::Failed {
                r.msg = Some(msg);
            }
            Ok(r)
        }
        Decision::Download { path } => {
            data.insert("dest".into(), path.clone().into());
            if ctx.check_mode {
                // Ansible's check mode compares against an empty HEAD body: a download is a change.
                let mut r = TaskResult::new(Status::Changed);
                r.data = data;
                return Ok(r);
            }
            let out = ctx.exec(download_script(&p, &path, digest.as_ref())).await?;
            let o = match parse_outcome(&out.stdout, &p.url) {
                Ok(o) => o,
                Err(e) => {
                    let why = out.stderr_str();
                    return Ok(failed(format!("download failed: {e} {}", why.trim()), data));
                }
            };
            data.insert("elapsed".into(), started.elapsed().as_secs().into());
            if let Some(tmp) = &o.tmp {
                data.insert("src".into(), tmp.clone().into());
            }
            if let Some(f) = o.failure {
                return Ok(failed(f, data));
            }
            if o.response.status != 200 {
                data.insert("status_code".into(), o.response.status.into());
                data.insert("response".into(), o.response.msg().into());
                return Ok(failed("Request failed", data));
            }
            if let (Some(sum), Some((_, want))) = (&o.badsum, &digest) {
                return Ok(failed(
                    format!(
                        "The checksum for {} did not match {want}; it was {sum}.",
                        o.tmp.as_deref().unwrap_or("the download")
                    ),
                    data,
                ));
            }
            data.insert("checksum_src".into(), o.sha1_src.clone().into());
            data.insert("checksum_dest".into(), o.sha1_dest.clone().into());
            data.insert("md5sum".into(), o.md5.clone().into());
            data.insert("size".into(), o.size.into());
            data.insert("status_code".into(), o.response.status.into());
            if let Some(b) = &o.backup {
                data.insert("backup_file".into(), b.clone().into());
            }
            let facts = o.facts.unwrap_or_default();
            let info = facts.get(0, &path).cloned();
            let mut plan = Plan::default();
            if let Some(i) = &info {
                let t = [Target { path: &path, kind: Kind::File, current: Some(i) }];
                if let Err(e) = p.attrs.plan(&mut plan, &t, facts.host.umask, None) {
                    return Ok(failed(e, data));
                }
                data.extend(fileinfo::result_keys(i));
            }
            let attrs_changed = !plan.is_empty();
            let mut r = plan.apply(ctx, data).await?;
            if r.status == Status::Failed {
                return Ok(r);
            }
            r.status = if o.moved || attrs_changed { Status::Changed } else { Status::Ok };
            r.msg = Some(o.response.msg());
            if attrs_changed && let Some(m) = p.attrs.mode.as_ref().and(info.as_ref()) {
                // The mode now is the one asked for, not the one read before chmod.
                let t = Target { path: &path, kind: Kind::File, current: Some(m) };
                if let Ok(Some(want)) = p.attrs.wanted_mode(&t, facts.host.umask, None) {
                    r.data.insert("mode".into(), super::mode::format_mode(want).into());
                }
            }
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

    fn file(sum: Option<&str>) -> FileInfo {
        FileInfo { checksum: sum.map(str::to_string), ..FileInfo::sample("/srv/a.txt", Kind::File, 0o644) }
    }

    const SHA256_HI: &str = "98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4";

    #[test]
    fn checksum_parameter_forms() {
        let p = params(
            json!({"url": "http://h/a.txt", "dest": "/srv/a.txt", "checksum": format!("sha256:{}", SHA256_HI.to_uppercase())}),
        );
        assert_eq!(p.checksum, Some(Wanted::Digest { algo: Checksum::Sha256, hex: SHA256_HI.into() }));
        let p = params(json!({"url": "http://h/a.txt", "dest": "/d", "checksum": "sha1:https://h/SUMS"}));
        assert_eq!(p.checksum, Some(Wanted::FromUrl { algo: Checksum::Sha1, url: "https://h/SUMS".into() }));
        assert!(
            parse_err(json!({"url": "u", "dest": "/d", "checksum": "abc"}))
                .contains("<algorithm>:<checksum>")
        );
        assert!(
            parse_err(json!({"url": "u", "dest": "/d", "checksum": "sha1:xyz!"}))
                .contains("checksum format is invalid")
        );
        assert!(parse_err(json!({"url": "u", "dest": "/d", "checksum": "crc:00"})).contains("`crc`"));
        assert!(parse_err(json!({"dest": "/d"})).contains("`url`"));
        assert!(parse_err(json!({"url": "u"})).contains("`dest`"));
        assert!(parse_err(json!({"url": "u", "dest": "/d", "timeout": "soon"})).contains("`timeout`"));
    }

    #[test]
    fn request_options_from_params() {
        let p = params(json!({
            "url": "https://h/a", "dest": "/d", "validate_certs": false, "timeout": 3,
            "url_username": "u", "url_password": "p", "headers": {"X-A": "1"}
        }));
        assert!(!p.request.validate_certs);
        assert_eq!(p.request.timeout, 3);
        assert_eq!(p.request.auth.as_ref().map(|a| a.user.as_str()), Some("u"));
        assert_eq!(p.request.headers, vec![("X-A".to_string(), "1".to_string())]);
    }

    #[test]
    fn checksum_files_in_every_format() {
        let gnu = format!("{SHA256_HI}  a.txt\n0000  other.txt\n");
        assert_eq!(digest_for("a.txt", &gnu).as_deref(), Some(SHA256_HI));
        assert_eq!(digest_for("a.txt", &format!("{SHA256_HI} *./a.txt\n")).as_deref(), Some(SHA256_HI));
        assert_eq!(
            digest_for("a.txt", &format!("SHA256 (a.txt) = {SHA256_HI}\n")).as_deref(),
            Some(SHA256_HI)
        );
        assert_eq!(digest_for("a.txt", &format!("{SHA256_HI}\n")).as_deref(), Some(SHA256_HI));
        assert_eq!(digest_for("b.txt", &gnu), None);
    }

    struct Case {
        name: &'static str,
        args: Value,
        state: State,
        digest: Option<(Checksum, String)>,
        want: Result<Decision, &'static str>,
    }

    #[test]
    fn decisions_as_data() {
        let present = State { dest: Some(file(Some(SHA256_HI))), parent_exists: true, ..State::default() };
        let missing = State { parent_exists: true, ..State::default() };
        let dir = State {
            dest: Some(FileInfo::sample("/srv", Kind::Dir, 0o755)),
            parent_exists: true,
            ..State::default()
        };
        let d = Some((Checksum::Sha256, SHA256_HI.to_string()));
        let keep =
            |msg: &str, plan: Plan| Ok(Decision::Keep { path: "/srv/a.txt".into(), plan, msg: msg.into() });
        let mut chmod = Plan::default();
        chmod.exec("chmod", "chmod 00600 -- /srv/a.txt");
        let cases = vec![
            Case {
                name: "a missing file is downloaded",
                args: json!({"url": "http://h/a.txt", "dest": "/srv/a.txt"}),
                state: missing.clone(),
                digest: None,
                want: Ok(Decision::Download { path: "/srv/a.txt".into() }),
            },
            Case {
                name: "an existing file without force is kept",
                args: json!({"url": "http://h/a.txt", "dest": "/srv/a.txt"}),
                state: present.clone(),
                digest: None,
                want: keep("file already exists", Plan::default()),
            },
            Case {
                name: "kept, with its mode fixed",
                args: json!({"url": "http://h/a.txt", "dest": "/srv/a.txt", "mode": "0600"}),
                state: present.clone(),
                digest: None,
                want: keep("file already exists but file attributes changed", chmod),
            },
            Case {
                name: "a matching checksum keeps the file",
                args: json!({"url": "http://h/a.txt", "dest": "/srv/a.txt"}),
                state: present.clone(),
                digest: d.clone(),
                want: keep("file already exists", Plan::default()),
            },
            Case {
                name: "a different checksum downloads again",
                args: json!({"url": "http://h/a.txt", "dest": "/srv/a.txt"}),
                state: State { dest: Some(file(Some("00"))), ..present.clone() },
                digest: d.clone(),
                want: Ok(Decision::Download { path: "/srv/a.txt".into() }),
            },
            Case {
                name: "force downloads an existing file",
                args: json!({"url": "http://h/a.txt", "dest": "/srv/a.txt", "force": true}),
                state: present.clone(),
                digest: d.clone(),
                want: Ok(Decision::Download { path: "/srv/a.txt".into() }),
            },
            Case {
                name: "a directory gets the URL's file name",
                args: json!({"url": "http://h/x/pkg.tgz?v=1", "dest": "/srv/"}),
                state: dir,
                digest: None,
                want: Ok(Decision::Download { path: "/srv/pkg.tgz".into() }),
            },
            Case {
                name: "a missing parent fails",
                args: json!({"url": "http://h/a.txt", "dest": "/nope/a.txt"}),
                state: State::default(),
                digest: None,
                want: Err("Destination /nope does not exist"),
            },
        ];
        for c in cases {
            let got = decide(&params(c.args), &c.state, c.digest.as_ref());
            assert_eq!(got, c.want.map_err(str::to_string), "{}", c.name);
        }
    }

    #[test]
    fn download_script_checks_the_digest_before_the_rename() {
        let p = params(json!({"url": "http://h/a b.txt", "dest": "/srv/a b.txt", "backup": true}));
        let s = download_script(&p, "/srv/a b.txt", Some(&(Checksum::Sha256, SHA256_HI.to_string())));
        let sum = s.find("sha256sum < \"$o\"").unwrap();
        let mv = s.find("mv -f -- \"$o\" \"$d\"").unwrap();
        assert!(sum < mv);
        assert!(s.contains("d='/srv/a b.txt'"), "{s}");
        assert!(s.contains("mktemp /srv/.baton-get_url.XXXXXX"), "{s}");
        assert!(s.contains("cp -p -- \"$d\" \"$b\""), "{s}");
        let p = params(json!({"url": "http://h/a", "dest": "/srv/a", "tmp_dest": "/var/tmp"}));
        assert!(download_script(&p, "/srv/a", None).contains("mktemp /var/tmp/.baton-get_url"));
    }

    /// The whole download script on this machine's shell, against a loopback server.
    #[test]
    fn download_script_runs_locally() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(3) {
                let mut s = stream.unwrap();
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let _ = s.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nhi\n");
            }
        });
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.txt").display().to_string();
        let p = params(json!({"url": format!("http://127.0.0.1:{port}/a.txt"), "dest": dest}));
        let run = |digest: Option<(Checksum, String)>| {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(download_script(&p, &dest, digest.as_ref()))
                .output()
                .unwrap();
            parse_outcome(&out.stdout, &p.url).unwrap()
        };
        let bad = run(Some((Checksum::Sha256, "00".into())));
        assert_eq!(bad.badsum.as_deref(), Some(SHA256_HI));
        assert!(!std::path::Path::new(&dest).exists());
        let tmp = bad.tmp.unwrap();
        assert!(!std::path::Path::new(&tmp).exists(), "{tmp} left behind");
        let good = run(Some((Checksum::Sha256, SHA256_HI.into())));
        assert!(good.moved && good.badsum.is_none(), "{good:?}");
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "hi\n");
        assert_eq!(good.size, Some(3));
        assert_eq!(good.response.msg(), "OK (3 bytes)");
        let info = good.facts.unwrap().get(0, &dest).cloned().unwrap();
        assert_eq!(info.kind, Kind::File);
        let again = run(None);
        assert!(!again.moved);
        assert_eq!(again.sha1_src, again.sha1_dest);
    }
}
