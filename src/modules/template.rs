//! `template`: renders a Jinja template on the controller with the host's variables and
//! writes the result on the host exactly as `copy` writes `content` (checksums first, temp
//! file + rename, mode/owner/group, backup, validate, diff).
//!
//! ```yaml
//! - template: src=nginx.conf.j2 dest=/etc/nginx/nginx.conf mode=0644 validate='nginx -t -c %s'
//! ```
//!
//! The source is looked up in the role's `templates/`, then `templates/` beside the playbook
//! (see [`super::SearchKind::Templates`]). Whitespace is Ansible's: `trim_blocks` on,
//! `lstrip_blocks` off, the trailing newline kept, unless the task's parameters or the file's
//! `#jinja2:` first line say otherwise. `follow: yes` writes through a symbolic link at `dest`.

use serde_json::Value;

use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError, SearchKind};
use crate::event::TaskResult;
use crate::template::FileOptions;

pub static MODULE: ModuleDef = ModuleDef {
    name: "template",
    free_form: false,
    params: &[
        "backup",
        "block_end_string",
        "block_start_string",
        "dest",
        "follow",
        "force",
        "group",
        "lstrip_blocks",
        "mode",
        "newline_sequence",
        "output_encoding",
        "owner",
        "src",
        "trim_blocks",
        "unsafe_writes",
        "validate",
        "variable_end_string",
        "variable_start_string",
    ],
    run: crate::module_entry!(run),
    run_loop: None,
};

/// Parameters passed on to `copy` as they are.
const PASSED_ON: &[&str] = &["backup", "dest", "follow", "force", "group", "mode", "owner", "validate"];

/// `output_encoding`: Baton writes what it renders as utf-8, so only utf-8's names are taken.
fn is_utf8(encoding: &str) -> bool {
    matches!(encoding.to_ascii_lowercase().replace('_', "-").as_str(), "utf-8" | "utf8")
}

/// `newline_sequence`: `\n` (default), `\r\n` or `\r`.
pub fn newlines(text: &str, sequence: Option<&str>) -> Result<String, String> {
    match sequence.unwrap_or("\\n") {
        "\\n" | "\n" => Ok(text.to_string()),
        "\\r\\n" | "\r\n" => Ok(text.replace("\r\n", "\n").replace('\n', "\r\n")),
        "\\r" | "\r" => Ok(text.replace("\r\n", "\n").replace('\n', "\r")),
        other => Err(format!("`newline_sequence` must be \\n, \\r\\n or \\r, not `{other}`")),
    }
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let m = MODULE.name;
    let src = args
        .str(m, "src")?
        .ok_or_else(|| ModuleError::MissingParam { module: m.into(), param: "src".into() })?;
    if args.str(m, "dest")?.is_none() {
        return Err(ModuleError::MissingParam { module: m.into(), param: "dest".into() });
    }
    for key in ["variable_start_string", "variable_end_string", "block_start_string", "block_end_string"] {
        if args.0.contains_key(key) {
            return Err(ModuleError::BadArgs {
                module: m.into(),
                message: format!("`{key}` (custom delimiters) is not supported"),
            });
        }
    }
    let mut opts = FileOptions {
        trim_blocks: args.bool(m, "trim_blocks")?.unwrap_or(true),
        lstrip_blocks: args.bool(m, "lstrip_blocks")?.unwrap_or(false),
        newline_sequence: args.str(m, "newline_sequence")?,
        ..FileOptions::default()
    };
    if let Some(encoding) = args.str(m, "output_encoding")?
        && !is_utf8(&encoding)
    {
        return Err(ModuleError::BadArgs {
            module: m.into(),
            message: format!(
                "`output_encoding: {encoding}` is not supported (templates are written as utf-8)"
            ),
        });
    }
    let path = match ctx.controller.find(SearchKind::Templates, &src) {
        Ok(p) => p,
        Err(msg) => return Ok(TaskResult::failed(msg)),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            return Ok(TaskResult::failed(format!("cannot read the template `{}`: {e}", path.display())));
        }
    };
    let body = match opts.apply_header(&text) {
        Ok(body) => body,
        Err(msg) => return Ok(TaskResult::failed(format!("{msg} ({}:1)", path.display()))),
    };
    let rendered = match ctx.controller.render(&path, body, &opts) {
        Ok(r) => r,
        Err(msg) => return Ok(TaskResult::failed(msg)),
    };
    let rendered = match newlines(&rendered, opts.newline_sequence.as_deref()) {
        Ok(r) => r,
        Err(message) => return Err(ModuleError::BadArgs { module: m.into(), message }),
    };
    let mut copy_args = serde_json::Map::new();
    for key in PASSED_ON {
        if let Some(v) = args.0.get(*key) {
            copy_args.insert((*key).to_string(), v.clone());
        }
    }
    // `mode: preserve` means the template file's own mode; copy only knows it for a `src`.
    if copy_args.get("mode").and_then(Value::as_str) == Some("preserve") {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::metadata(&path) {
            Ok(meta) => {
                let mode = format!("{:04o}", meta.permissions().mode() & 0o7777);
                copy_args.insert("mode".into(), Value::String(mode));
            }
            Err(e) => {
                return Ok(TaskResult::failed(format!("cannot read the mode of `{}`: {e}", path.display())));
            }
        }
    }
    copy_args.insert("content".into(), Value::String(rendered));
    let mut result = (super::copy::MODULE.run)(ctx, ModuleArgs(copy_args)).await?;
    result.data.insert("src".into(), Value::String(path.display().to_string()));
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newline_sequences() {
        assert_eq!(newlines("a\nb\n", None).unwrap(), "a\nb\n");
        assert_eq!(newlines("a\nb\n", Some("\\r\\n")).unwrap(), "a\r\nb\r\n");
        assert_eq!(newlines("a\r\nb", Some("\\r")).unwrap(), "a\rb");
        assert!(newlines("a", Some("x")).is_err());
    }

    #[test]
    fn only_utf8_is_an_output_encoding() {
        for e in ["utf-8", "UTF-8", "utf8", "utf_8"] {
            assert!(is_utf8(e), "{e}");
        }
        assert!(!is_utf8("latin-1"));
    }

    #[test]
    fn every_passed_on_parameter_is_a_template_parameter() {
        for p in PASSED_ON {
            assert!(MODULE.params.contains(p), "{p}");
        }
    }
}
