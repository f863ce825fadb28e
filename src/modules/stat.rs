//! `stat`: reports what a path is (Ansible's `stat` result), changing nothing.
//!
//! ```yaml
//! - stat: path=/etc/app.conf checksum_algorithm=sha256
//!   register: conf
//! - debug: msg="{{ conf.stat.checksum }}"
//!   when: conf.stat.exists and conf.stat.isreg
//! ```
//!
//! One [`fileinfo`] round trip. With `get_mime` (the default, as in Ansible) the same command
//! asks the host's `file` for `mimetype` and `charset`, both `unknown` where `file` is not
//! installed. `get_attributes` is accepted and ignored (no `lsattr` is assumed on the host),
//! so `attributes` is not reported.

use serde_json::{Map, Value, json};

use super::fileinfo::{self, Checksum, FileInfo, Kind, Probe};
use super::mode::format_mode;
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::quote;
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "stat",
    free_form: false,
    params: &["checksum_algorithm", "follow", "get_attributes", "get_checksum", "get_mime", "path"],
    run: crate::module_entry!(run),
    run_loop: None,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub path: String,
    pub follow: bool,
    pub checksum: Option<Checksum>,
    pub get_mime: bool,
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let path = args
            .str(m, "path")?
            .ok_or_else(|| ModuleError::MissingParam { module: m.into(), param: "path".into() })?;
        let algo = args.str(m, "checksum_algorithm")?.unwrap_or_else(|| "sha1".into());
        let algo = Checksum::parse(&algo).ok_or_else(|| ModuleError::BadArgs {
            module: m.into(),
            message: format!(
                "`checksum_algorithm` must be one of md5, sha1, sha224, sha256, sha384, sha512; got `{algo}`"
            ),
        })?;
        let get_checksum = args.bool(m, "get_checksum")?.unwrap_or(true);
        Ok(Params {
            path,
            follow: args.bool(m, "follow")?.unwrap_or(false),
            checksum: get_checksum.then_some(algo),
            get_mime: args.bool(m, "get_mime")?.unwrap_or(true),
        })
    }
}

/// The `stat` dictionary Ansible returns for an existing path.
pub fn stat_dict(path: &str, i: &FileInfo) -> Map<String, Value> {
    let m = i.mode;
    let bit = |b: u32| Value::Bool(m & b != 0);
    let mut d = Map::new();
    d.insert("exists".into(), true.into());
    d.insert("path".into(), path.into());
    d.insert("mode".into(), format_mode(m).into());
    for (key, kind) in [
        ("isdir", Kind::Dir),
        ("ischr", Kind::Char),
        ("isblk", Kind::Block),
        ("isreg", Kind::File),
        ("isfifo", Kind::Fifo),
        ("islnk", Kind::Link),
        ("issock", Kind::Socket),
    ] {
        d.insert(key.into(), (i.kind == kind).into());
    }
    d.insert("uid".into(), i.uid.into());
    d.insert("gid".into(), i.gid.into());
    d.insert("size".into(), i.size.into());
    d.insert("inode".into(), i.inode.into());
    d.insert("dev".into(), i.dev.into());
    d.insert("nlink".into(), i.nlink.into());
    d.insert("atime".into(), json!(i.atime as f64));
    d.insert("mtime".into(), json!(i.mtime as f64));
    d.insert("ctime".into(), json!(i.ctime as f64));
    for (key, b) in [
        ("wusr", 0o200),
        ("rusr", 0o400),
        ("xusr", 0o100),
        ("wgrp", 0o020),
        ("rgrp", 0o040),
        ("xgrp", 0o010),
        ("woth", 0o002),
        ("roth", 0o004),
        ("xoth", 0o001),
        ("isuid", 0o4000),
        ("isgid", 0o2000),
    ] {
        d.insert(key.into(), bit(b));
    }
    d.insert("pw_name".into(), i.owner.clone().into());
    d.insert("gr_name".into(), i.group.clone().into());
    d.insert("readable".into(), i.readable.into());
    d.insert("writeable".into(), i.writeable.into());
    d.insert("executable".into(), i.executable.into());
    if let Some(c) = &i.checksum {
        d.insert("checksum".into(), c.clone().into());
    }
    if i.kind == Kind::Link {
        d.insert("lnk_target".into(), i.link_target.clone().unwrap_or_default().into());
        d.insert("lnk_source".into(), i.real_path.clone().unwrap_or_default().into());
    }
    d
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    // The path as given: `stat` reports on `dir/` as the directory, not a trimmed name.
    let probe = Probe::new(&p.path).follow(p.follow).checksum(p.checksum);
    let probed = probe.path.clone();
    let then = if p.get_mime { mime_script(&probed) } else { String::new() };
    let (facts, mime) = match fileinfo::read_then(ctx, &[probe], &then, &p.path).await? {
        Ok((facts, out)) => (facts, p.get_mime.then(|| parse_mime(&out))),
        Err(msg) => return Ok(TaskResult::failed(msg)),
    };
    let stat = match facts.get(0, &probed) {
        Some(info) => {
            let mut d = stat_dict(&p.path, info);
            if let Some((mimetype, charset)) = mime {
                d.insert("mimetype".into(), mimetype.into());
                d.insert("charset".into(), charset.into());
            }
            d
        }
        None => {
            let mut d = Map::new();
            d.insert("exists".into(), false.into());
            d
        }
    };
    let mut r = TaskResult::new(Status::Ok);
    r.data.insert("stat".into(), Value::Object(stat));
    Ok(r)
}

/// Asks `file` for the type and encoding of an existing path, if the host has `file`. Like
/// Ansible, on the path itself even with `follow` (a link is `inode/symlink`).
fn mime_script(path: &str) -> String {
    let q = quote(path);
    format!(
        "if {{ [ -e {q} ] || [ -L {q} ]; }} && command -v file >/dev/null 2>&1; then \
         file -b --mime-type --mime-encoding -- {q} 2>/dev/null || :; fi"
    )
}

/// `text/plain; charset=us-ascii` → (`text/plain`, `us-ascii`); anything else is unknown,
/// as Ansible reports it.
fn parse_mime(out: &[u8]) -> (String, String) {
    let text = String::from_utf8_lossy(out);
    let unknown = || ("unknown".to_string(), "unknown".to_string());
    let Some((mimetype, charset)) = text.trim().split_once(';') else {
        return unknown();
    };
    match charset.split_once('=') {
        Some((_, c)) if !mimetype.trim().is_empty() => (mimetype.trim().to_string(), c.trim().to_string()),
        _ => unknown(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_as_ansible_shows_it() {
        let info = FileInfo {
            checksum: Some("abc".into()),
            size: 5,
            ..FileInfo::sample("/etc/x", Kind::File, 0o4754)
        };
        let d = stat_dict("/etc/x", &info);
        assert_eq!(d["mode"], "4754");
        assert_eq!(
            (d["isreg"].clone(), d["isdir"].clone(), d["islnk"].clone()),
            (json!(true), json!(false), json!(false))
        );
        assert_eq!(
            (d["rusr"].clone(), d["wgrp"].clone(), d["roth"].clone(), d["isuid"].clone()),
            (json!(true), json!(false), json!(true), json!(true))
        );
        assert_eq!(
            (d["pw_name"].clone(), d["checksum"].clone(), d["size"].clone()),
            (json!("deploy"), json!("abc"), json!(5))
        );
        assert!(d.get("lnk_target").is_none());
    }

    #[test]
    fn a_link_reports_its_target() {
        let info = FileInfo {
            link_target: Some("../y".into()),
            real_path: Some("/y".into()),
            ..FileInfo::sample("/a/x", Kind::Link, 0o777)
        };
        let d = stat_dict("/a/x", &info);
        assert_eq!(
            (d["lnk_target"].clone(), d["lnk_source"].clone(), d["islnk"].clone()),
            (json!("../y"), json!("/y"), json!(true))
        );
    }

    #[test]
    fn file_s_answer_gives_mimetype_and_charset() {
        let own = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(parse_mime(b"text/plain; charset=us-ascii\n"), own("text/plain", "us-ascii"));
        assert_eq!(parse_mime(b"inode/symlink; charset=binary\n"), own("inode/symlink", "binary"));
        assert_eq!(parse_mime(b""), own("unknown", "unknown"), "no `file` on the host");
        assert!(mime_script("/a b").contains("file -b --mime-type --mime-encoding -- '/a b'"));
    }

    /// The script as a host's `sh` runs it: this machine's `file`, if it has one.
    #[test]
    fn the_mime_script_runs_under_sh() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.txt");
        std::fs::write(&f, "hello\n").unwrap();
        let path = f.display().to_string();
        let out = std::process::Command::new("sh").arg("-c").arg(mime_script(&path)).output().unwrap();
        assert!(out.status.success());
        let has_file = std::process::Command::new("sh").args(["-c", "command -v file"]).output().unwrap();
        let want =
            if has_file.status.success() { ("text/plain", "us-ascii") } else { ("unknown", "unknown") };
        let got = parse_mime(&out.stdout);
        assert_eq!((got.0.as_str(), got.1.as_str()), want);
        let missing = std::process::Command::new("sh")
            .arg("-c")
            .arg(mime_script(&format!("{path}.nope")))
            .output()
            .unwrap();
        assert_eq!((missing.status.success(), missing.stdout.len()), (true, 0));
    }

    #[test]
    fn checksum_options() {
        let parse = |v: Value| Params::parse(&ModuleArgs(v.as_object().unwrap().clone()));
        assert_eq!(parse(json!({"path": "/x"})).unwrap().checksum, Some(Checksum::Sha1));
        assert_eq!(
            parse(json!({"path": "/x", "checksum_algorithm": "sha256"})).unwrap().checksum,
            Some(Checksum::Sha256)
        );
        assert_eq!(parse(json!({"path": "/x", "get_checksum": false})).unwrap().checksum, None);
        assert!(parse(json!({"path": "/x", "checksum_algorithm": "crc"})).is_err());
        assert!(parse(json!({})).is_err());
    }
}
