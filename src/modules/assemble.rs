//! `assemble`: builds one file from a directory of fragments, in name order, as Ansible's
//! assemble does (`conf.d`-style configs for programs that read a single file).
//!
//! ```yaml
//! - assemble: src=/etc/app/conf.d dest=/etc/app/app.conf delimiter='### fragment' backup=yes
//! - assemble:
//!     src: fragments/          # on the controller
//!     remote_src: no
//!     dest: /etc/ssh/authorized_keys
//!     regexp: '\.pub$'
//! ```
//!
//! With `remote_src` (the default, as in Ansible) the fragments and the destination's sha1 come
//! back in one round trip; the file is assembled on the controller and written like `copy`
//! ([`copy::plan_write`]): nothing happens when the checksums match.

use regex::Regex;

use super::copy::{self, Payload, Write, WriteState};
use super::fileinfo::{self, Attrs, Checksum, Kind, Probe};
use super::plan::Plan;
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::quote;
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "assemble",
    free_form: false,
    params: &[
        "backup",
        "delimiter",
        "dest",
        "group",
        "ignore_hidden",
        "mode",
        "owner",
        "regexp",
        "remote_src",
        "src",
        "validate",
    ],
    run: crate::module_entry!(run),
    run_loop: None,
};

#[derive(Debug, Clone)]
pub struct Params {
    pub src: String,
    pub dest: String,
    pub delimiter: Option<Vec<u8>>,
    pub regexp: Option<Regex>,
    pub ignore_hidden: bool,
    pub remote_src: bool,
    pub attrs: Attrs,
    pub backup: bool,
    pub validate: Option<String>,
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let need = |key: &str| -> Result<String, ModuleError> {
            args.str(m, key)?.ok_or_else(|| ModuleError::MissingParam { module: m.into(), param: key.into() })
        };
        let bad = |message: String| ModuleError::BadArgs { module: m.into(), message };
        let regexp = match args.str(m, "regexp")? {
            Some(r) => Some(Regex::new(&r).map_err(|e| bad(format!("invalid `regexp` `{r}`: {e}")))?),
            None => None,
        };
        let validate = args.str(m, "validate")?;
        if let Some(v) = &validate
            && !v.contains("%s")
        {
            return Err(bad(format!("`validate` must contain `%s`: {v}")));
        }
        Ok(Params {
            src: need("src")?,
            dest: need("dest")?,
            delimiter: args.str(m, "delimiter")?.map(|d| unescape(&d)),
            regexp,
            ignore_hidden: args.bool(m, "ignore_hidden")?.unwrap_or(false),
            remote_src: args.bool(m, "remote_src")?.unwrap_or(true),
            attrs: Attrs::from_args(args, m)?,
            backup: args.bool(m, "backup")?.unwrap_or(false),
            validate,
        })
    }
}

/// Python's `codecs.escape_decode`, which Ansible runs on the delimiter: `\n`, `\t`, `\\`,
/// `\xNN`, octal `\NNN`; anything else stays as written.
pub fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 == b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = b[i + 1];
        i += 2;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'0'..=b'7' => {
                let end = (i - 1..b.len().min(i + 2))
                    .take_while(|&j| (b'0'..=b'7').contains(&b[j]))
                    .last()
                    .unwrap_or(i - 1);
                let digits = &s[i - 1..=end];
                out.push(u8::from_str_radix(digits, 8).unwrap_or(0));
                i = end + 1;
            }
            b'x' if i + 2 <= b.len()
                && s.get(i..i + 2).is_some_and(|h| u8::from_str_radix(h, 16).is_ok()) =>
            {
                out.push(u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0));
                i += 2;
            }
            b'\\' | b'\'' | b'"' => out.push(c),
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    out
}

/// Joins fragments as Ansible does: sorted by name, filtered by `regexp` and `ignore_hidden`,
/// a newline added after a fragment that lacks one, the delimiter (with a newline after it)
/// only between fragments.
pub fn assemble(mut fragments: Vec<(String, Vec<u8>)>, p: &Params) -> Vec<u8> {
    fragments.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::new();
    let mut add_newline = false;
    let mut delimit = false;
    for (name, content) in fragments {
        if p.regexp.as_ref().is_some_and(|r| !r.is_match(&name)) || (p.ignore_hidden && name.starts_with('.'))
        {
            continue;
        }
        if add_newline {
            out.push(b'\n');
        }
        if delimit && let Some(d) = p.delimiter.as_ref().filter(|d| !d.is_empty()) {
            out.extend_from_slice(d);
            if d.last() != Some(&b'\n') {
                out.push(b'\n');
            }
        }
        add_newline = !content.ends_with(b"\n");
        out.extend_from_slice(&content);
        delimit = true;
    }
    out
}

/// Exit code for "src is not a directory".
const NOT_DIR: i32 = 71;

/// The shell line that prints every regular file of `src` framed as `F\0name\0size\0bytes`,
/// then `E\0`, then the destination's [`fileinfo`] record.
pub fn fragments_line(src: &str, probes: &[Probe]) -> String {
    let q = quote(src);
    format!(
        "[ -d {q} ] || exit {NOT_DIR}; ( cd -- {q} || exit 1; for f in * .[!.]* ..?*; do [ -f \"$f\" ] || continue; \
         printf 'F\\0%s\\0' \"$f\"; printf '%s\\0' \"$(wc -c < \"$f\")\"; cat -- \"$f\" || exit 1; done ) || exit 1; \
         printf 'E\\0'; {}",
        fileinfo::script(probes)
    )
}

/// A fragment's file name and bytes.
pub type Fragment = (String, Vec<u8>);

/// Splits the framed output into fragments and the fileinfo part.
pub fn parse_fragments(out: &[u8]) -> Result<(Vec<Fragment>, &[u8]), String> {
    let mut rest = out;
    let mut fragments = Vec::new();
    let bad = || "unexpected output while reading the fragments".to_string();
    let field = |r: &mut &[u8]| -> Result<String, String> {
        let end = r.iter().position(|&b| b == 0).ok_or_else(bad)?;
        let s = String::from_utf8_lossy(&r[..end]).into_owned();
        *r = &r[end + 1..];
        Ok(s)
    };
    loop {
        match field(&mut rest)?.as_str() {
            "E" => return Ok((fragments, rest)),
            "F" => {
                let name = field(&mut rest)?;
                let size: usize = field(&mut rest)?.trim().parse().map_err(|_| bad())?;
                if rest.len() < size {
                    return Err(bad());
                }
                fragments.push((name, rest[..size].to_vec()));
                rest = &rest[size..];
            }
            _ => return Err(bad()),
        }
    }
}

/// Reads the fragments from a directory on the controller.
fn local_fragments(src: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    let dir = std::fs::read_dir(src).map_err(|_| format!("Source ({src}) is not a directory"))?;
    let mut out = Vec::new();
    for entry in dir {
        let entry = entry.map_err(|e| format!("cannot read `{src}`: {e}"))?;
        if entry.path().is_file() {
            let bytes = std::fs::read(entry.path())
                .map_err(|e| format!("cannot read `{}`: {e}", entry.path().display()))?;
            out.push((entry.file_name().to_string_lossy().into_owned(), bytes));
        }
    }
    Ok(out)
}

/// The plan for writing the assembled bytes.
pub fn plan(p: &Params, content: Vec<u8>, s: &WriteState) -> Result<(Plan, copy::WriteOutcome), String> {
    let mut plan = Plan::default();
    let w = Write {
        dest: p.dest.clone(),
        payload: Payload::Bytes(content),
        attrs: p.attrs.clone(),
        source_mode: None,
        backup: p.backup,
        force: true,
        validate: p.validate.clone(),
    };
    let out = copy::plan_write(&w, s, &mut plan)?;
    Ok((plan, out))
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    let probes = [
        Probe::new(&p.dest).checksum(Some(Checksum::Sha1)).clock(p.backup),
        Probe::new(copy::dirname(&p.dest)),
    ];
    let (fragments, facts) = if p.remote_src {
        let out = ctx.exec(fragments_line(&p.src, &probes)).await?;
        if out.rc == Some(NOT_DIR) {
            return Ok(TaskResult::failed(format!("Source ({}) is not a directory", p.src)));
        }
        if !out.success() {
            return Ok(TaskResult::failed(format!("cannot read the fragments: {}", out.stderr_str().trim())));
        }
        match parse_fragments(&out.stdout).and_then(|(f, rest)| Ok((f, fileinfo::parse(rest)?))) {
            Ok(x) => x,
            Err(msg) => return Ok(TaskResult::failed(msg)),
        }
    } else {
        let fragments = match local_fragments(&p.src) {
            Ok(f) => f,
            Err(msg) => return Ok(TaskResult::failed(msg)),
        };
        match fileinfo::read(ctx, &probes).await? {
            Ok(f) => (fragments, f),
            Err(msg) => return Ok(TaskResult::failed(msg)),
        }
    };
    let content = assemble(fragments, &p);
    let dest_path = probes[0].path.clone();
    let mut state = WriteState {
        host: facts.host.clone(),
        dest: facts.get(0, &dest_path).cloned(),
        parent_exists: facts.get(1, &probes[1].path).is_some_and(|i| i.kind == Kind::Dir),
        before: None,
    };
    let sum = fileinfo::sha1_hex(&content);
    if ctx.diff
        && let Some(cur) = &state.dest
        && cur.kind == Kind::File
        && cur.size <= copy::MAX_DIFF_BYTES
        && cur.checksum.as_deref() != Some(sum.as_str())
    {
        state.before = ctx.conn.get(&p.dest, ctx.r#become.as_ref()).await.ok();
    }
    let mut data = serde_json::Map::new();
    data.insert("dest".into(), p.dest.clone().into());
    data.insert("src".into(), p.src.clone().into());
    data.insert("checksum".into(), sum.into());
    data.insert("md5sum".into(), fileinfo::md5_hex(&content).into());
    data.insert("size".into(), content.len().into());
    data.insert("msg".into(), "OK".into());
    let (plan, outcome) = match plan(&p, content, &state) {
        Ok(x) => x,
        Err(msg) => return Ok(TaskResult::failed(msg)),
    };
    if let Some(b) = &outcome.backup_file {
        data.insert("backup_file".into(), b.clone().into());
    }
    if let Some(cur) = &state.dest {
        let mut keys = fileinfo::result_keys(cur);
        keys.remove("size");
        data.extend(keys);
    }
    if let Some(m) = outcome.mode {
        data.insert("mode".into(), super::mode::format_mode(m).into());
    }
    let changed = !plan.is_empty();
    // The new file's attributes, read back in the same round trip as the write.
    let again = [Probe::new(&p.dest)];
    let (mut result, after) = plan.apply_then(ctx, data, &fileinfo::script(&again)).await?;
    let after = match after {
        Some(out) => Some(fileinfo::parse(&out)),
        None if changed && !ctx.check_mode && result.status != Status::Failed => {
            Some(fileinfo::read(ctx, &again).await?)
        }
        None => None,
    };
    if let Some(Ok(f)) = after
        && let Some(info) = f.get(0, &dest_path)
    {
        let size = result.data.get("size").cloned();
        result.data.extend(fileinfo::result_keys(info));
        if let Some(size) = size {
            result.data.insert("size".into(), size);
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::fileinfo::FileInfo;
    use crate::modules::plan::Step;
    use serde_json::{Value, json};

    fn params(v: Value) -> Params {
        Params::parse(&ModuleArgs(v.as_object().unwrap().clone())).unwrap()
    }

    fn frags(items: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        items.iter().map(|(n, c)| (n.to_string(), c.as_bytes().to_vec())).collect()
    }

    #[test]
    fn assembly_cases_as_data() {
        let base = frags(&[("20-b", "b\n"), ("10-a", "a"), (".hidden", "h\n"), ("30-c.pub", "c\n")]);
        let cases = [
            (json!({"src": "d", "dest": "/x"}), "h\na\nb\nc\n"),
            (json!({"src": "d", "dest": "/x", "ignore_hidden": true}), "a\nb\nc\n"),
            (json!({"src": "d", "dest": "/x", "regexp": "\\.pub$"}), "c\n"),
            (
                json!({"src": "d", "dest": "/x", "ignore_hidden": true, "delimiter": "###"}),
                "a\n###\nb\n###\nc\n",
            ),
            (
                json!({"src": "d", "dest": "/x", "ignore_hidden": true, "delimiter": "--\\n"}),
                "a\n--\nb\n--\nc\n",
            ),
        ];
        for (i, (args, want)) in cases.into_iter().enumerate() {
            let got = String::from_utf8(assemble(base.clone(), &params(args))).unwrap();
            assert_eq!(got, want, "case {i}");
        }
    }

    #[test]
    fn escapes_as_python_decodes_them() {
        assert_eq!(unescape(r"a\nb\t\\\x41\101\q"), b"a\nb\t\\AA\\q".to_vec());
    }

    #[test]
    fn framed_output_parses() {
        let out = [&b"F\0a b\0"[..], b"3\0xyz", b"F\0n\0", b"1\0\n", b"E\0rest"].concat();
        let (f, rest) = parse_fragments(&out).unwrap();
        assert_eq!(f, frags(&[("a b", "xyz"), ("n", "\n")]));
        assert_eq!(rest, b"rest");
        assert!(parse_fragments(b"F\0a\09\0xy").is_err());
    }

    #[test]
    fn same_content_is_ok_and_different_content_is_written() {
        let p = params(json!({"src": "d", "dest": "/etc/app.conf", "mode": "0600"}));
        let existing = FileInfo {
            checksum: Some(fileinfo::sha1_hex(b"a\n")),
            ..FileInfo::sample("/etc/app.conf", Kind::File, 0o600)
        };
        let s = WriteState { dest: Some(existing), parent_exists: true, ..WriteState::default() };
        assert!(plan(&p, b"a\n".to_vec(), &s).unwrap().0.is_empty());
        let (plan, _) = plan(&p, b"b\n".to_vec(), &s).unwrap();
        assert!(matches!(&plan.steps[..], [Step::Put { mode: Some(0o600), .. }]), "{plan:?}");
    }
}
