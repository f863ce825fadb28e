//! `fetch`: copies a file from the host to the controller, as Ansible's fetch does.
//!
//! ```yaml
//! - fetch: src=/var/log/app.log dest=logs/   # → logs/<inventory_hostname>/var/log/app.log
//! - fetch: src=/etc/app.conf dest=backup/{{ inventory_hostname }}.conf flat=yes
//! ```
//!
//! The host's sha1 comes first (one [`fileinfo`] round trip); the file is downloaded only when
//! the local copy differs, checked against that sha1 (`validate_checksum`), and written
//! locally through a temp file + rename. A relative `dest` is relative to the controller's
//! current directory.

use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use super::fileinfo::{self, Checksum, FileInfo, Kind, Probe};
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "fetch",
    free_form: false,
    params: &["dest", "fail_on_missing", "flat", "src", "validate_checksum"],
    run: crate::module_entry!(run),
    run_loop: None,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub src: String,
    pub dest: String,
    pub flat: bool,
    pub fail_on_missing: bool,
    pub validate_checksum: bool,
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let need = |key: &str| -> Result<String, ModuleError> {
            args.str(m, key)?.ok_or_else(|| ModuleError::MissingParam { module: m.into(), param: key.into() })
        };
        Ok(Params {
            src: need("src")?,
            dest: need("dest")?,
            flat: args.bool(m, "flat")?.unwrap_or(false),
            fail_on_missing: args.bool(m, "fail_on_missing")?.unwrap_or(true),
            validate_checksum: args.bool(m, "validate_checksum")?.unwrap_or(true),
        })
    }

    /// Where the file lands on the controller: `dest/<host>/<src path>`, or with `flat` just
    /// `dest` (`dest/<basename>` when `dest` ends with `/`).
    pub fn local_path(&self, host: &str) -> PathBuf {
        if self.flat {
            if self.dest.ends_with('/') {
                let base = Path::new(&self.src).file_name().map(|b| b.to_os_string()).unwrap_or_default();
                return Path::new(&self.dest).join(base);
            }
            return PathBuf::from(&self.dest);
        }
        // Only the normal parts of the source path: no way to climb out of `dest/<host>`.
        let mut p = Path::new(&self.dest).join(host);
        for c in Path::new(&self.src).components() {
            if let Component::Normal(part) = c {
                p.push(part);
            }
        }
        p
    }
}

/// What to do, from the host's file and the local copy's sha1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Missing,
    IsDir,
    UpToDate,
    Fetch,
}

pub fn decide(remote: Option<&FileInfo>, local_checksum: Option<&str>) -> Decision {
    match remote {
        None => Decision::Missing,
        Some(r) if r.kind == Kind::Dir => Decision::IsDir,
        Some(r) if r.checksum.is_some() && r.checksum.as_deref() == local_checksum => Decision::UpToDate,
        Some(_) => Decision::Fetch,
    }
}

/// Writes bytes beside `path` then renames them over it, creating the parents.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.baton.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    let local = p.local_path(ctx.host);
    let probe = Probe::new(&p.src).follow(true).checksum(Some(Checksum::Sha1));
    let probed = probe.path.clone();
    let facts = match fileinfo::read(ctx, &[probe]).await? {
        Ok(f) => f,
        Err(msg) => return Ok(TaskResult::failed(msg)),
    };
    let remote = facts.get(0, &probed);
    let local_bytes = std::fs::read(&local).ok();
    let local_sum = local_bytes.as_deref().map(fileinfo::sha1_hex);
    let mut r = TaskResult::new(Status::Ok);
    r.data.insert("file".into(), p.src.clone().into());
    r.data.insert("dest".into(), local.to_string_lossy().into_owned().into());
    match decide(remote, local_sum.as_deref()) {
        Decision::Missing => {
            let msg = "the remote file does not exist, not transferring, ignored";
            if p.fail_on_missing {
                let mut f = TaskResult::failed(msg);
                f.data = r.data;
                return Ok(f);
            }
            r.msg = Some(msg.into());
            return Ok(r);
        }
        Decision::IsDir => {
            let mut f = TaskResult::failed("remote file is a directory, fetch cannot work on directories");
            f.data = r.data;
            return Ok(f);
        }
        Decision::UpToDate => {
            r.data.insert("checksum".into(), local_sum.unwrap_or_default().into());
            r.data.insert(
                "md5sum".into(),
                local_bytes.as_deref().map(fileinfo::md5_hex).unwrap_or_default().into(),
            );
            return Ok(r);
        }
        Decision::Fetch => {}
    }
    let remote_sum = remote.and_then(|i| i.checksum.clone());
    r.data.insert("remote_checksum".into(), remote_sum.clone().map_or(Value::Null, Value::String));
    r.data.insert("remote_md5sum".into(), Value::Null);
    r.status = Status::Changed;
    if ctx.check_mode {
        return Ok(r);
    }
    let bytes = ctx.conn.get(&probed, ctx.r#become.as_ref()).await?;
    let got = fileinfo::sha1_hex(&bytes);
    if p.validate_checksum && remote_sum.as_deref().is_some_and(|want| want != got) {
        let mut f = TaskResult::failed("checksum mismatch");
        f.data = r.data;
        return Ok(f);
    }
    if let Err(e) = write_atomically(&local, &bytes) {
        let mut f = TaskResult::failed(format!("cannot write `{}`: {e}", local.display()));
        f.data = r.data;
        return Ok(f);
    }
    r.data.insert("checksum".into(), got.into());
    r.data.insert("md5sum".into(), fileinfo::md5_hex(&bytes).into());
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> Params {
        Params::parse(&ModuleArgs(v.as_object().unwrap().clone())).unwrap()
    }

    #[test]
    fn local_layout() {
        let cases = [
            (json!({"src": "/var/log/app.log", "dest": "logs"}), "logs/web1/var/log/app.log"),
            (json!({"src": "/var/../etc/x", "dest": "logs/"}), "logs/web1/var/etc/x"),
            (json!({"src": "/etc/app.conf", "dest": "b/web1.conf", "flat": true}), "b/web1.conf"),
            (json!({"src": "/etc/app.conf", "dest": "b/", "flat": true}), "b/app.conf"),
        ];
        for (args, want) in cases {
            assert_eq!(params(args).local_path("web1"), PathBuf::from(want));
        }
    }

    #[test]
    fn decisions() {
        let file = FileInfo { checksum: Some("abc".into()), ..FileInfo::sample("/x", Kind::File, 0o644) };
        assert_eq!(decide(None, None), Decision::Missing);
        assert_eq!(decide(Some(&FileInfo::sample("/x", Kind::Dir, 0o755)), None), Decision::IsDir);
        assert_eq!(decide(Some(&file), Some("abc")), Decision::UpToDate);
        assert_eq!(decide(Some(&file), Some("abd")), Decision::Fetch);
        assert_eq!(decide(Some(&file), None), Decision::Fetch);
    }

    #[test]
    fn both_paths_are_required() {
        assert!(Params::parse(&ModuleArgs(json!({"src": "/x"}).as_object().unwrap().clone())).is_err());
    }
}
