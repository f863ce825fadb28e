//! The part lineinfile, blockinfile and replace share: read the file once, let the module
//! compute the new text in Rust (a pure function), and write it back exactly as copy does
//! (checksum, temp file + rename, backup, validate, mode/owner/group, diff of the content).

use serde_json::{Map, Value};

use super::copy::{self, Payload, Write, WriteState};
use super::fileinfo::{self, Attrs, Kind, Probe};
use super::plan::{Diff, Plan};
use super::{ModuleArgs, ModuleCtx, ModuleError};
use crate::event::{Status, TaskResult};

/// Where and how the edited file is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub path: String,
    pub attrs: Attrs,
    pub backup: bool,
    pub validate: Option<String>,
    /// Create the file (and its directory) when it does not exist.
    pub create: bool,
}

impl Target {
    /// `path` (or its aliases), attributes, `backup`, `validate`, `create`.
    pub fn from_args(args: &ModuleArgs, module: &str, aliases: &[&str]) -> Result<Target, ModuleError> {
        let mut path = None;
        for key in aliases {
            if let Some(p) = args.str(module, key)? {
                path = Some(p);
                break;
            }
        }
        let path =
            path.ok_or_else(|| ModuleError::MissingParam { module: module.into(), param: "path".into() })?;
        Ok(Target {
            path,
            attrs: Attrs::from_args(args, module)?,
            backup: args.bool(module, "backup")?.unwrap_or(false),
            validate: args.str(module, "validate")?,
            create: args.bool(module, "create")?.unwrap_or(false),
        })
    }
}

/// What an edit decided: the new text (`None`: keep the file as it is) and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub after: Option<Vec<u8>>,
    pub msg: String,
    /// Extra result keys (`found` for lineinfile's absent, ...).
    pub data: Vec<(String, Value)>,
}

/// How a missing file is treated.
pub enum Missing {
    /// Fail with this message (Ansible's rc 257 "Destination ... does not exist !").
    Fail(String),
    /// Report ok with this message (`state: absent` on a missing file).
    Ok(String),
    /// Edit as if it were empty (`create: yes`).
    Empty,
}

/// Reads `t.path`, applies `edit` (given the text and whether the file existed), writes the
/// result. `missing` says what to do when the file does not exist.
pub async fn run(
    ctx: &ModuleCtx<'_>,
    t: &Target,
    missing: Missing,
    edit: impl FnOnce(&[u8], bool) -> Result<Edit, String>,
) -> Result<TaskResult, ModuleError> {
    let parent = copy::dirname(&t.path);
    // No checksum on the host: the text comes back anyway.
    let probes = [Probe::new(&t.path).follow(true).clock(t.backup)];
    // The state and the current text in one round trip.
    let (facts, content) = match fileinfo::read_with_content(ctx, &probes, &t.path).await? {
        Ok(f) => f,
        Err(msg) => return Ok(TaskResult::failed(msg)),
    };
    let mut current = facts.get(0, &probes[0].path).cloned();
    if let (Some(c), Some(text)) = (current.as_mut(), content.as_ref()) {
        c.checksum = Some(fileinfo::sha1_hex(text));
    }
    if current.as_ref().is_some_and(|c| c.kind == Kind::Dir) {
        return Ok(TaskResult::failed(format!("Path {} is a directory !", t.path)));
    }
    let before: Vec<u8> = match &current {
        Some(_) => match content {
            Some(b) => b,
            None => return Ok(TaskResult::failed(format!("cannot read {}: not a regular file", t.path))),
        },
        None => match missing {
            Missing::Fail(msg) => {
                let mut r = TaskResult::failed(msg);
                r.rc = Some(257);
                return Ok(r);
            }
            Missing::Ok(msg) => {
                let mut r = TaskResult::new(Status::Ok);
                r.msg = Some(msg);
                return Ok(r);
            }
            Missing::Empty => Vec::new(),
        },
    };
    let edit = match edit(&before, current.is_some()) {
        Ok(e) => e,
        Err(msg) => return Ok(TaskResult::failed(msg)),
    };
    let content_changed =
        edit.after.as_ref().is_some_and(|a| *a != before) || current.is_none() && edit.after.is_some();
    let after = edit.after.clone().unwrap_or_else(|| before.clone());
    let mut plan = Plan::default();
    if current.is_none() && content_changed {
        // Decided on the host, where a test costs no process and a probe would cost one on
        // every run for what only a new file needs.
        let q = crate::connection::quote::quote(&parent);
        plan.exec("create the parent directory if missing", format!("[ -d {q} ] || mkdir -p -- {q}"));
    }
    let write = Write {
        dest: t.path.clone(),
        payload: Payload::Bytes(after.clone()),
        attrs: t.attrs.clone(),
        source_mode: None,
        backup: t.backup,
        force: true,
        validate: t.validate.clone(),
    };
    let state = WriteState {
        host: facts.host.clone(),
        dest: current.clone(),
        parent_exists: true,
        before: Some(before.clone()),
    };
    let outcome = if content_changed || current.is_some() {
        match copy::plan_write(&write, &state, &mut plan) {
            Ok(o) => Some(o),
            Err(msg) => return Ok(TaskResult::failed(msg)),
        }
    } else {
        None
    };
    // Ansible shows the content diff under "PATH (content)"; attribute diffs stay as they are.
    if content_changed {
        plan.diffs = vec![Diff {
            before_header: Some(format!("{} (content)", t.path)),
            after_header: Some(format!("{} (content)", t.path)),
            before: String::from_utf8_lossy(&before).into_owned(),
            after: String::from_utf8_lossy(&after).into_owned(),
        }];
    }
    let mut data = Map::new();
    let attrs_only = !content_changed && !plan.is_empty();
    let msg = if attrs_only && edit.msg.is_empty() {
        "ownership, perms or SE linux context changed".to_string()
    } else {
        edit.msg
    };
    data.insert("msg".into(), Value::String(msg));
    data.insert(
        "backup".into(),
        Value::String(outcome.as_ref().and_then(|o| o.backup_file.clone()).unwrap_or_default()),
    );
    for (k, v) in edit.data {
        data.insert(k, v);
    }
    // `msg` is the result's own field, so reports and `register` see it where they look.
    let mut result = plan.apply(ctx, data).await?;
    if let Some(Value::String(msg)) = result.data.remove("msg") {
        result.msg = Some(msg);
    }
    Ok(result)
}

/// Splits text into lines that keep their endings, as Python's `readlines()`.
pub fn lines(text: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in text.iter().enumerate() {
        if *b == b'\n' {
            out.push(text[start..=i].to_vec());
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push(text[start..].to_vec());
    }
    out
}

/// A line without its `\r\n`/`\n`.
pub fn strip_eol(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    &line[..end]
}

/// Compiles a Python-style regular expression for bytes, with a message that names it.
pub fn regex(pattern: &str, multiline: bool) -> Result<regex::bytes::Regex, String> {
    regex::bytes::RegexBuilder::new(pattern)
        .multi_line(multiline)
        .build()
        .map_err(|e| format!("invalid regular expression `{pattern}`: {e}"))
}

/// Python's `match.expand(template)`: `\1`, `\g<1>`, `\g<name>` and the escapes `\n`, `\t`,
/// `\\`, turned into the text they stand for.
pub fn expand(caps: &regex::bytes::Captures<'_>, template: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let b = template.as_bytes();
    let mut i = 0;
    let group = |out: &mut Vec<u8>, name: &str| {
        let m = match name.parse::<usize>() {
            Ok(n) => caps.get(n),
            Err(_) => caps.name(name),
        };
        if let Some(m) = m {
            out.extend_from_slice(m.as_bytes());
        }
    };
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let c = b[i + 1];
            if c.is_ascii_digit() {
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_digit() && j < i + 3 {
                    j += 1;
                }
                group(&mut out, &template[i + 1..j]);
                i = j;
                continue;
            }
            if c == b'g'
                && b.get(i + 2) == Some(&b'<')
                && let Some(end) = template[i + 3..].find('>')
            {
                group(&mut out, &template[i + 3..i + 3 + end]);
                i = i + 3 + end + 1;
                continue;
            }
            let lit = match c {
                b'n' => Some(b'\n'),
                b't' => Some(b'\t'),
                b'r' => Some(b'\r'),
                b'\\' => Some(b'\\'),
                _ => None,
            };
            if let Some(l) = lit {
                out.push(l);
                i += 2;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_endings() {
        assert_eq!(lines(b"a\nb\r\nc"), vec![b"a\n".to_vec(), b"b\r\n".to_vec(), b"c".to_vec()]);
        assert!(lines(b"").is_empty());
        assert_eq!(strip_eol(b"x\r\n"), b"x");
    }

    #[test]
    fn python_templates_expand() {
        let re = regex(r"^(?P<key>\w+)=(\d+)$", false).unwrap();
        let caps = re.captures(b"port=80").unwrap();
        assert_eq!(expand(&caps, r"\g<key> = \2\n"), b"port = 80\n");
        assert_eq!(expand(&caps, r"\1:\g<2>"), b"port:80");
        assert!(regex("(unclosed", false).unwrap_err().contains("`(unclosed`"));
    }
}
