//! `replace`: every match of a regular expression (multi-line, as Ansible compiles it)
//! replaced, optionally only between an `after` and a `before` match; `\1` and `\g<name>`
//! refer to groups.
//!
//! ```yaml
//! - replace: { path: /etc/hosts, regexp: '(\s+)old\.host(\s+.*)?$', replace: '\1new.host\2' }
//! - replace: { path: /etc/app.conf, after: '\[db\]', before: '\[', regexp: '^port=.*', replace: 'port=5433' }
//! ```

use super::text_edit::{self, Edit, Missing, Target};
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::event::TaskResult;

pub static MODULE: ModuleDef = ModuleDef {
    name: "replace",
    free_form: false,
    params: &[
        "after",
        "attributes",
        "backup",
        "before",
        "dest",
        "destfile",
        "encoding",
        "group",
        "mode",
        "name",
        "others",
        "owner",
        "path",
        "regexp",
        "replace",
        "selevel",
        "serole",
        "setype",
        "seuser",
        "unsafe_writes",
        "validate",
    ],
    run: crate::module_entry!(run),
    run_loop: None,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub regexp: String,
    pub replace: String,
    pub after: Option<String>,
    pub before: Option<String>,
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        Ok(Params {
            regexp: args
                .str(m, "regexp")?
                .ok_or_else(|| ModuleError::MissingParam { module: m.into(), param: "regexp".into() })?,
            replace: args.str(m, "replace")?.unwrap_or_default(),
            after: args.str(m, "after")?,
            before: args.str(m, "before")?,
        })
    }
}

/// The new text, or `None` when nothing matched.
pub fn edit(p: &Params, text: &[u8]) -> Result<Edit, String> {
    let dotall = |r: &str| {
        regex::bytes::RegexBuilder::new(r)
            .multi_line(true)
            .dot_matches_new_line(true)
            .build()
            .map_err(|e| format!("invalid regular expression `{r}`: {e}"))
    };
    let start = match &p.after {
        Some(a) => match dotall(a)?.find(text) {
            Some(m) => m.end(),
            None => return Ok(Edit { after: None, msg: String::new(), data: Vec::new() }),
        },
        None => 0,
    };
    let end = match &p.before {
        Some(b) => match dotall(b)?.find(&text[start..]) {
            Some(m) => start + m.start(),
            None => return Ok(Edit { after: None, msg: String::new(), data: Vec::new() }),
        },
        None => text.len(),
    };
    let re = text_edit::regex(&p.regexp, true)?;
    let section = &text[start..end];
    let mut count = 0;
    let replaced = re.replace_all(section, |caps: &regex::bytes::Captures<'_>| {
        count += 1;
        text_edit::expand(caps, &p.replace)
    });
    if count == 0 || replaced.as_ref() == section {
        return Ok(Edit { after: None, msg: String::new(), data: Vec::new() });
    }
    let mut out = text[..start].to_vec();
    out.extend_from_slice(&replaced);
    out.extend_from_slice(&text[end..]);
    Ok(Edit { after: Some(out), msg: format!("{count} replacements made"), data: Vec::new() })
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    let t = Target::from_args(&args, MODULE.name, &["path", "dest", "destfile", "name"])?;
    let missing = Missing::Fail(format!("Path {} does not exist !", t.path));
    text_edit::run(ctx, &t, missing, |text, _| edit(&p, text)).await
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn case(args: Value, before: &str, after: Option<&str>, msg: &str) {
        let p = Params::parse(&ModuleArgs(args.as_object().unwrap().clone())).unwrap();
        let e = edit(&p, before.as_bytes()).unwrap();
        assert_eq!(
            e.after.as_deref().map(|a| String::from_utf8_lossy(a).into_owned()).as_deref(),
            after,
            "{args}"
        );
        assert_eq!(e.msg, msg, "{args}");
    }

    #[test]
    fn replaces_every_match_with_groups() {
        case(
            json!({"path": "f", "regexp": "^(\\w+)=1$", "replace": "\\1=2"}),
            "a=1\nb=1\nc=3\n",
            Some("a=2\nb=2\nc=3\n"),
            "2 replacements made",
        );
        case(json!({"path": "f", "regexp": "x", "replace": "x"}), "x\n", None, "");
        case(json!({"path": "f", "regexp": "nothing"}), "a\n", None, "");
        case(json!({"path": "f", "regexp": "^#.*\\n"}), "#c\na\n", Some("a\n"), "1 replacements made");
    }

    #[test]
    fn only_between_after_and_before() {
        let f = "[a]\nport=1\n[db]\nport=1\n[c]\nport=1\n";
        case(
            json!({"path": "f", "after": "\\[db\\]", "before": "\\[c\\]", "regexp": "^port=.*$", "replace": "port=2"}),
            f,
            Some("[a]\nport=1\n[db]\nport=2\n[c]\nport=1\n"),
            "1 replacements made",
        );
        case(json!({"path": "f", "after": "\\[zz\\]", "regexp": "port"}), f, None, "");
    }

    #[test]
    fn named_groups_sections_and_literal_text() {
        // (params, before, after, msg)
        case(
            json!({"path": "f", "regexp": "^(?P<k>\\w+) = (?P<v>\\d+)$", "replace": "\\g<k>=\\g<v>"}),
            "a = 1\nb = 2\n",
            Some("a=1\nb=2\n"),
            "2 replacements made",
        );
        case(
            json!({"path": "f", "regexp": "(\\d+)", "replace": "\\g<1>0"}),
            "v1\n",
            Some("v10\n"),
            "1 replacements made",
        );
        case(
            json!({"path": "f", "after": "^\\[b\\]$", "regexp": "x", "replace": "y"}),
            "x\n[b]\nx\nx\n",
            Some("x\n[b]\ny\ny\n"),
            "2 replacements made",
        );
        case(
            json!({"path": "f", "before": "^\\[b\\]$", "regexp": "x", "replace": "y"}),
            "x\n[b]\nx\n",
            Some("y\n[b]\nx\n"),
            "1 replacements made",
        );
        // A `$` in the replacement is plain text, not a group reference.
        case(
            json!({"path": "f", "regexp": "cost", "replace": "$5"}),
            "cost\n",
            Some("$5\n"),
            "1 replacements made",
        );
        case(
            json!({"path": "f", "regexp": "^tmp.*\\n", "replace": ""}),
            "a\ntmp1\ntmp2\n",
            Some("a\n"),
            "2 replacements made",
        );
    }
}
