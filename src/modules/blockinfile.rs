//! `blockinfile`: a block of lines between two marker lines, inserted, replaced or removed,
//! with Ansible's rules (where a new block goes, what happens with one marker missing, the
//! newline before and after the block).
//!
//! ```yaml
//! - blockinfile:
//!     path: /etc/security/limits.conf
//!     block: |
//!       * soft nofile 65536
//!       * hard nofile 65536
//! - blockinfile: { path: /etc/hosts, marker: "# {mark} lab hosts", state: absent }
//! ```

use super::text_edit::{self, Edit, Missing, Target, lines};
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::event::TaskResult;

pub static MODULE: ModuleDef = ModuleDef {
    name: "blockinfile",
    free_form: false,
    params: &[
        "append_newline",
        "attributes",
        "backup",
        "block",
        "content",
        "create",
        "dest",
        "destfile",
        "group",
        "insertafter",
        "insertbefore",
        "marker",
        "marker_begin",
        "marker_end",
        "mode",
        "name",
        "owner",
        "path",
        "prepend_newline",
        "selevel",
        "serole",
        "setype",
        "seuser",
        "state",
        "unsafe_writes",
        "validate",
    ],
    run: crate::module_entry!(run),
    run_loop: None,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub block: String,
    pub present: bool,
    pub marker: String,
    pub marker_begin: String,
    pub marker_end: String,
    pub insertafter: Option<String>,
    pub insertbefore: Option<String>,
    pub append_newline: bool,
    pub prepend_newline: bool,
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let bad = |message: String| ModuleError::BadArgs { module: m.into(), message };
        let present = match args.str(m, "state")?.as_deref().unwrap_or("present") {
            "present" => true,
            "absent" => false,
            other => return Err(bad(format!("`state` must be present or absent, not `{other}`"))),
        };
        let block = match args.str(m, "block")? {
            Some(b) => b,
            None => args.str(m, "content")?.unwrap_or_default(),
        };
        let p = Params {
            block,
            present,
            marker: args.str(m, "marker")?.unwrap_or_else(|| "# {mark} ANSIBLE MANAGED BLOCK".into()),
            marker_begin: args.str(m, "marker_begin")?.unwrap_or_else(|| "BEGIN".into()),
            marker_end: args.str(m, "marker_end")?.unwrap_or_else(|| "END".into()),
            insertafter: args.str(m, "insertafter")?,
            insertbefore: args.str(m, "insertbefore")?,
            append_newline: args.bool(m, "append_newline")?.unwrap_or(false),
            prepend_newline: args.bool(m, "prepend_newline")?.unwrap_or(false),
        };
        if p.insertafter.is_some() && p.insertbefore.is_some() {
            return Err(bad("`insertafter` and `insertbefore` are mutually exclusive".into()));
        }
        Ok(p)
    }
}

/// The file's new text (Ansible's blockinfile, step for step). `existed` tells a new file
/// ("File created") from an empty one.
pub fn edit(p: &Params, text: &[u8], existed: bool) -> Result<Edit, String> {
    let mut lines = lines(text);
    let nl = b"\n".to_vec();
    let (mut insertafter, insertbefore) = (p.insertafter.clone(), p.insertbefore.clone());
    if insertafter.is_none() && insertbefore.is_none() {
        insertafter = Some("EOF".into());
    }
    let insert_re = match (&insertafter, &insertbefore) {
        (Some(a), _) if a != "EOF" => Some(text_edit::regex(a, false)?),
        (None, Some(b)) if b != "BOF" => Some(text_edit::regex(b, false)?),
        _ => None,
    };
    let marker0 = format!("{}\n", p.marker.replace("{mark}", &p.marker_begin)).into_bytes();
    let marker1 = format!("{}\n", p.marker.replace("{mark}", &p.marker_end)).into_bytes();
    let block_lines: Vec<Vec<u8>> = if p.present && !p.block.is_empty() {
        let mut block = p.block.clone();
        if !block.ends_with('\n') {
            block.push('\n');
        }
        std::iter::once(marker0.clone())
            .chain(text_edit::lines(block.as_bytes()))
            .chain(std::iter::once(marker1.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let (mut n0, mut n1) = (None, None);
    for (i, line) in lines.iter().enumerate() {
        if *line == marker0 {
            n0 = Some(i);
        }
        if *line == marker1 {
            n1 = Some(i);
        }
    }
    let mut at = match (n0, n1) {
        (Some(a), Some(b)) if a < b => {
            lines.drain(a..=b);
            a
        }
        (Some(a), Some(b)) => {
            lines.drain(b..=a);
            b
        }
        _ => match &insert_re {
            Some(re) => {
                let hit = lines.iter().rposition(|l| re.is_match(l.strip_suffix(b"\n").unwrap_or(l)));
                match hit {
                    None => lines.len(),
                    Some(i) if insertafter.is_some() => i + 1,
                    Some(i) => i,
                }
            }
            None if insertbefore.is_some() => 0,
            None => lines.len(),
        },
    };
    if at > 0 && !lines[at - 1].ends_with(b"\n") {
        lines[at - 1].push(b'\n');
    }
    if p.prepend_newline && p.present && at != 0 && lines[at - 1] != nl {
        lines.insert(at, nl.clone());
        at += 1;
    }
    let count = block_lines.len();
    lines.splice(at..at, block_lines);
    if p.append_newline && p.present {
        let after = at + count;
        if after < lines.len() && lines[after] != nl {
            lines.insert(after, nl.clone());
        }
    }
    let result = lines.concat();
    let (after, msg) = if result == text && existed {
        (None, "")
    } else if !existed {
        (Some(result), "File created")
    } else if count == 0 {
        (Some(result), "Block removed")
    } else {
        (Some(result), "Block inserted")
    };
    Ok(Edit { after, msg: msg.to_string(), data: Vec::new() })
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    let t = Target::from_args(&args, MODULE.name, &["path", "dest", "destfile", "name"])?;
    let missing = if !p.present {
        Missing::Ok(format!("File {} not present", t.path))
    } else if t.create {
        Missing::Empty
    } else {
        Missing::Fail(format!("Path {} does not exist !", t.path))
    };
    let result = text_edit::run(ctx, &t, missing, |text, existed| edit(&p, text, existed)).await?;
    Ok(result)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn case(args: Value, before: &str, after: Option<&str>, msg: &str) {
        let p = Params::parse(&ModuleArgs(args.as_object().unwrap().clone())).unwrap();
        let e = edit(&p, before.as_bytes(), true).unwrap();
        assert_eq!(
            e.after.as_deref().map(|a| String::from_utf8_lossy(a).into_owned()).as_deref(),
            after,
            "{args}"
        );
        assert_eq!(e.msg, msg, "{args}");
    }

    const B: &str = "# BEGIN ANSIBLE MANAGED BLOCK\n";
    const E: &str = "# END ANSIBLE MANAGED BLOCK\n";

    #[test]
    fn insert_at_the_end_then_idempotent_then_replace() {
        let first = format!("a\n{B}x\ny\n{E}");
        case(json!({"path": "f", "block": "x\ny"}), "a\n", Some(&first), "Block inserted");
        case(json!({"path": "f", "block": "x\ny"}), &first, None, "");
        case(json!({"path": "f", "block": "z"}), &first, Some(&format!("a\n{B}z\n{E}")), "Block inserted");
        case(json!({"path": "f", "block": "x"}), "a", Some(&format!("a\n{B}x\n{E}")), "Block inserted");
    }

    #[test]
    fn where_new_blocks_go() {
        case(
            json!({"path": "f", "block": "x", "insertbefore": "BOF"}),
            "a\n",
            Some(&format!("{B}x\n{E}a\n")),
            "Block inserted",
        );
        case(
            json!({"path": "f", "block": "x", "insertafter": "^a"}),
            "a\nb\n",
            Some(&format!("a\n{B}x\n{E}b\n")),
            "Block inserted",
        );
        case(
            json!({"path": "f", "block": "x", "insertbefore": "^b"}),
            "a\nb\n",
            Some(&format!("a\n{B}x\n{E}b\n")),
            "Block inserted",
        );
        case(
            json!({"path": "f", "block": "x", "insertafter": "^zz"}),
            "a\n",
            Some(&format!("a\n{B}x\n{E}")),
            "Block inserted",
        );
    }

    #[test]
    fn removal_custom_markers_and_newlines() {
        let with = format!("a\n{B}x\n{E}b\n");
        case(json!({"path": "f", "state": "absent"}), &with, Some("a\nb\n"), "Block removed");
        case(json!({"path": "f", "block": ""}), &with, Some("a\nb\n"), "Block removed");
        case(json!({"path": "f", "state": "absent"}), "a\n", None, "");
        case(
            json!({"path": "f", "block": "x", "marker": "<!-- {mark} -->", "marker_begin": "S", "marker_end": "E"}),
            "",
            Some("<!-- S -->\nx\n<!-- E -->\n"),
            "Block inserted",
        );
        case(
            json!({"path": "f", "block": "x", "prepend_newline": true, "append_newline": true, "insertafter": "^a"}),
            "a\nb\n",
            Some(&format!("a\n\n{B}x\n{E}\nb\n")),
            "Block inserted",
        );
    }
}
