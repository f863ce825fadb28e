//! `command`: runs a program with arguments, without a shell (no pipes, redirections or
//! globs), as Ansible's command module does.
//!
//! ```yaml
//! - command: /usr/bin/make install chdir=/src/app creates=/usr/local/bin/app
//! - command:
//!     argv: [/usr/bin/env, echo, "hello world"]
//! ```
//!
//! `$VAR` and `${VAR}` in arguments are expanded on the host (Ansible's
//! `expand_argument_vars`, on by default); nothing else is interpreted.

use std::time::Instant;

use serde_json::Value;

use super::run_command::{CommandSpec, Guard, run_spec};
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError, args::RAW_PARAMS};
use crate::connection::quote::quote;
use crate::event::TaskResult;

pub static MODULE: ModuleDef = ModuleDef {
    name: "command",
    free_form: true,
    params: &[
        "argv",
        "chdir",
        "cmd",
        "creates",
        "expand_argument_vars",
        "removes",
        "stdin",
        "stdin_add_newline",
        "strip_empty_ends",
    ],
    run: crate::module_entry!(run),
    run_loop: None,
};

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let spec = spec(&args)?;
    let started = Instant::now();
    run_spec(ctx, &spec, started).await
}

/// Turns the arguments into the shell line to run, with the guards and options around it.
pub fn spec(args: &ModuleArgs) -> Result<CommandSpec, ModuleError> {
    let m = MODULE.name;
    let expand = args.bool(m, "expand_argument_vars")?.unwrap_or(true);
    let argv: Vec<String> =
        match (args.str(m, RAW_PARAMS)?.or(args.str(m, "cmd")?), args.str_list(m, "argv")?) {
            (Some(_), Some(_)) => {
                return Err(bad("give the command as free form or `cmd`, or as `argv`, not both"));
            }
            (Some(text), None) => shlex::split(&text)
                .ok_or_else(|| bad(&format!("cannot split `{text}` into arguments (unbalanced quotes?)")))?,
            (None, Some(argv)) => argv,
            (None, None) => return Err(bad("no command given")),
        };
    if argv.is_empty() {
        return Err(bad("no command given"));
    }
    let line = argv
        .iter()
        .map(|a| if expand { quote_expanding_vars(a) } else { quote(a).into_owned() })
        .collect::<Vec<_>>()
        .join(" ");
    Ok(CommandSpec {
        line,
        shown: Value::Array(argv.into_iter().map(Value::String).collect()),
        chdir: args.str(m, "chdir")?,
        guard: Guard::from_args(args, m)?,
        stdin: stdin(args, m)?,
        strip_empty_ends: args.bool(m, "strip_empty_ends")?.unwrap_or(true),
        always_changed: true,
    })
}

/// `stdin`, with the trailing newline Ansible adds unless told not to.
pub fn stdin(args: &ModuleArgs, m: &str) -> Result<Option<Vec<u8>>, ModuleError> {
    let Some(mut text) = args.str(m, "stdin")? else {
        return Ok(None);
    };
    if args.bool(m, "stdin_add_newline")?.unwrap_or(true) {
        text.push('\n');
    }
    Ok(Some(text.into_bytes()))
}

fn bad(message: &str) -> ModuleError {
    ModuleError::BadArgs { module: MODULE.name.to_string(), message: message.to_string() }
}

/// Quotes one argument so the shell expands `$NAME`/`${NAME}` in it (like Python's
/// `os.path.expandvars`) and nothing else: no globs, command substitution or splitting.
pub fn quote_expanding_vars(arg: &str) -> String {
    if !arg.contains('$') {
        return quote(arg).into_owned();
    }
    let mut out = String::from("\"");
    let chars: Vec<char> = arg.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '$' => {
                let next = chars.get(i + 1).copied();
                let is_var = matches!(next, Some(n) if n.is_ascii_alphabetic() || n == '_')
                    || (next == Some('{')
                        && chars[i + 2..].iter().position(|&x| x == '}').is_some_and(|end| {
                            end > 0
                                && chars[i + 2..i + 2 + end]
                                    .iter()
                                    .all(|x| x.is_ascii_alphanumeric() || *x == '_')
                        }));
                out.push_str(if is_var { "$" } else { "\\$" });
            }
            '"' | '\\' | '`' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_of(text: &str) -> CommandSpec {
        spec(&ModuleArgs::parse_kv(&MODULE, text).unwrap()).unwrap()
    }

    #[test]
    fn arguments_are_quoted_not_interpreted() {
        assert_eq!(spec_of("echo 'a b' ; rm -rf /").line, "echo 'a b' ';' rm -rf /");
        assert_eq!(spec_of("ls *.txt").line, "ls '*.txt'");
    }

    #[test]
    fn variables_expand_but_substitutions_do_not() {
        assert_eq!(quote_expanding_vars("$HOME/x"), "\"$HOME/x\"");
        assert_eq!(quote_expanding_vars("${HOME}"), "\"${HOME}\"");
        assert_eq!(quote_expanding_vars("$(id)"), "\"\\$(id)\"");
        assert_eq!(quote_expanding_vars("`id`$"), r#""\`id\`\$""#);
    }

    #[test]
    fn argv_and_free_form_are_exclusive() {
        let mut args = ModuleArgs::parse_kv(&MODULE, "echo hi").unwrap();
        args.0.insert("argv".into(), serde_json::json!(["echo"]));
        assert!(spec(&args).is_err());
    }

    #[test]
    fn stdin_gets_a_newline_unless_told_not_to() {
        let s = spec_of("cat stdin=abc");
        assert_eq!(s.stdin.as_deref(), Some(&b"abc\n"[..]));
        let s = spec_of("cat stdin=abc stdin_add_newline=no");
        assert_eq!(s.stdin.as_deref(), Some(&b"abc"[..]));
    }

    #[test]
    fn unbalanced_quotes_are_an_error() {
        assert!(spec(&ModuleArgs::parse_kv(&MODULE, "echo 'a").unwrap()).is_err());
    }
}
