//! `sysctl`: a kernel parameter in a sysctl file (and, when asked, in the running kernel), as
//! Ansible's sysctl module.
//!
//! ```yaml
//! - sysctl: name=net.ipv4.ip_forward value=1 sysctl_set=yes
//! - sysctl: { name: vm.swappiness, value: "10", sysctl_file: /etc/sysctl.d/90-app.conf }
//! ```
//!
//! One command reads the file and the running value; the new file is computed here (the
//! parameter's lines become `name=value`, or it is appended), written atomically, and
//! `sysctl -p FILE` reloads it when it changed (`reload`, the default), as Ansible does.

use serde_json::Map;

use super::plan::{Diff, Plan, Step};
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::quote;
use crate::event::TaskResult;

pub static MODULE: ModuleDef = ModuleDef {
    name: "sysctl",
    free_form: false,
    params: &["ignoreerrors", "name", "reload", "state", "sysctl_file", "sysctl_set", "value"],
    run: crate::module_entry!(run),
    run_loop: None,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub name: String,
    /// `None` with `state: absent`.
    pub value: Option<String>,
    pub present: bool,
    pub reload: bool,
    pub file: String,
    pub set: bool,
    pub ignore_errors: bool,
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let name = args
            .str(m, "name")?
            .ok_or_else(|| ModuleError::MissingParam { module: m.into(), param: "name".into() })?;
        let present = match args.str(m, "state")?.as_deref() {
            None | Some("present") => true,
            Some("absent") => false,
            Some(other) => {
                return Err(ModuleError::BadArgs {
                    module: m.into(),
                    message: format!("`state` must be present or absent, got `{other}`"),
                });
            }
        };
        // Ansible writes booleans as 1/0.
        let value = match args.0.get("value") {
            Some(serde_json::Value::Bool(b)) => Some(if *b { "1" } else { "0" }.to_string()),
            _ => args.str(m, "value")?.map(|v| v.trim().to_string()),
        };
        if present && value.is_none() {
            return Err(ModuleError::MissingParam { module: m.into(), param: "value".into() });
        }
        Ok(Params {
            name: name.trim().to_string(),
            value,
            present,
            reload: args.bool(m, "reload")?.unwrap_or(true),
            file: args.str(m, "sysctl_file")?.unwrap_or_else(|| "/etc/sysctl.conf".into()),
            set: args.bool(m, "sysctl_set")?.unwrap_or(false),
            ignore_errors: args.bool(m, "ignoreerrors")?.unwrap_or(false),
        })
    }
}

/// The sysctl file and the running value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub text: String,
    pub exists: bool,
    /// `sysctl -n NAME`; `None` when the kernel has no such key.
    pub running: Option<String>,
}

pub fn state_script(p: &Params) -> String {
    format!(
        "if [ -f {f} ]; then echo @exists; fi; echo @file; cat {f} 2>/dev/null; echo; echo @running; sysctl -n -- {n} 2>/dev/null || echo @nokey",
        f = quote(&p.file),
        n = quote(&p.name)
    )
}

pub fn parse_state(out: &str) -> State {
    let exists = out.starts_with("@exists\n");
    let rest = out.strip_prefix("@exists\n").unwrap_or(out);
    let rest = rest.strip_prefix("@file\n").unwrap_or(rest);
    let (file, running) = rest.rsplit_once("\n@running\n").unwrap_or((rest, ""));
    // `cat` output plus the `echo` that ends it.
    let text = file.strip_suffix('\n').unwrap_or(file).to_string();
    let running = running.trim();
    State { text, exists, running: (running != "@nokey" && !running.is_empty()).then(|| running.to_string()) }
}

/// The key of a `key = value` line, or `None` for blank lines and comments.
fn key_of(line: &str) -> Option<&str> {
    let t = line.trim();
    if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
        return None;
    }
    Some(t.split_once('=').map_or(t, |(k, _)| k).trim())
}

fn same_value(a: &str, b: &str) -> bool {
    a.split_whitespace().eq(b.split_whitespace())
}

/// The file's new text (Ansible's rewrite: matching lines become `name=value` or go away;
/// a missing parameter is appended).
pub fn new_text(p: &Params, text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut found = false;
    for line in text.lines() {
        if key_of(line) == Some(p.name.as_str()) {
            found = true;
            if let (true, Some(v)) = (p.present, &p.value) {
                out.push(format!("{}={v}", p.name));
            }
        } else {
            out.push(line.to_string());
        }
    }
    if p.present && !found {
        out.push(format!("{}={}", p.name, p.value.as_deref().unwrap_or_default()));
    }
    let mut s = out.join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

/// Whether the file's value differs from the wanted one (Ansible compares values, not text).
fn file_differs(p: &Params, text: &str) -> bool {
    let current = text
        .lines()
        .rev()
        .filter(|l| key_of(l) == Some(p.name.as_str()))
        .find_map(|l| l.split_once('=').map(|(_, v)| v.trim().to_string()));
    match (&p.value, p.present, current) {
        (_, false, current) => current.is_some(),
        (Some(want), true, Some(have)) => !same_value(want, &have),
        (_, true, None) => true,
        (None, true, Some(_)) => false,
    }
}

/// The pure decision.
pub fn plan(p: &Params, st: &State) -> Result<Plan, String> {
    let mut plan = Plan::default();
    if p.present && st.running.is_none() && !p.ignore_errors {
        return Err(format!("Invalid sysctl key: {} (the kernel has no such parameter)", p.name));
    }
    let file_changes = file_differs(p, &st.text);
    if file_changes {
        let after = new_text(p, &st.text);
        plan.diffs.push(Diff {
            before_header: Some(p.file.clone()),
            after_header: Some(p.file.clone()),
            before: st.text.clone() + if st.text.is_empty() { "" } else { "\n" },
            after: after.clone(),
        });
        plan.steps.push(Step::Put {
            dest: p.file.clone(),
            content: after.into_bytes(),
            mode: Some(0o644),
            owner: None,
            group: None,
        });
    }
    let value = p.value.as_deref().unwrap_or_default();
    let running_differs = st.running.as_deref().is_some_and(|r| !same_value(r, value));
    if p.present && p.set && running_differs {
        plan.exec("sysctl -w", format!("sysctl -w {}", quote(&format!("{}={value}", p.name))));
    }
    if file_changes && p.reload {
        let ignore = if p.ignore_errors { " -e" } else { "" };
        plan.exec("sysctl reload", format!("sysctl{ignore} -p {}", quote(&p.file)));
    }
    Ok(plan)
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    let out = ctx.exec(state_script(&p)).await?;
    let st = parse_state(&out.stdout_str());
    match plan(&p, &st) {
        Ok(plan) => plan.apply(ctx, Map::new()).await,
        Err(msg) => Ok(TaskResult::failed(msg)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn params(v: Value) -> Params {
        let Value::Object(m) = v else { panic!() };
        Params::parse(&ModuleArgs(m)).unwrap()
    }

    fn state(text: &str, running: &str) -> State {
        State { text: text.into(), exists: true, running: Some(running.into()) }
    }

    fn puts(plan: &Plan) -> Vec<String> {
        plan.steps
            .iter()
            .map(|s| match s {
                Step::Put { content, .. } => String::from_utf8_lossy(content).into_owned(),
                Step::Exec { cmd, .. } => cmd.clone(),
            })
            .collect()
    }

    #[test]
    fn value_is_required_unless_absent() {
        let Value::Object(m) = json!({"name": "a.b"}) else { panic!() };
        assert!(Params::parse(&ModuleArgs(m)).unwrap_err().to_string().contains("`value`"));
        assert_eq!(params(json!({"name": "a.b", "state": "absent"})).value, None);
        assert_eq!(params(json!({"name": "a.b", "value": true})).value.as_deref(), Some("1"));
    }

    #[test]
    fn an_existing_line_is_rewritten_and_reloaded() {
        let p = params(json!({"name": "vm.swappiness", "value": "10"}));
        let plan = plan(&p, &state("# tuning\nvm.swappiness = 60\nfs.file-max=100", "60")).unwrap();
        assert_eq!(
            puts(&plan),
            ["# tuning\nvm.swappiness=10\nfs.file-max=100\n", "sysctl -p /etc/sysctl.conf"]
        );
    }

    #[test]
    fn a_missing_line_is_appended_and_the_same_value_is_ok() {
        let p = params(json!({"name": "net.ipv4.ip_forward", "value": 1, "sysctl_set": true}));
        let plan = plan(&p, &state("", "0")).unwrap();
        assert_eq!(
            puts(&plan),
            ["net.ipv4.ip_forward=1\n", "sysctl -w net.ipv4.ip_forward=1", "sysctl -p /etc/sysctl.conf"]
        );
        assert!(super::plan(&p, &state("net.ipv4.ip_forward = 1", "1")).unwrap().is_empty());
    }

    #[test]
    fn values_compare_by_words() {
        let p = params(json!({"name": "net.ipv4.ip_local_port_range", "value": "1024  65000"}));
        assert!(
            plan(&p, &state("net.ipv4.ip_local_port_range = 1024 65000", "1024\t65000")).unwrap().is_empty()
        );
    }

    #[test]
    fn only_the_running_value_differs_without_sysctl_set_is_ok() {
        let p = params(json!({"name": "a.b", "value": "1"}));
        assert!(plan(&p, &state("a.b=1", "0")).unwrap().is_empty());
        let p = params(json!({"name": "a.b", "value": "1", "sysctl_set": true}));
        assert_eq!(puts(&plan(&p, &state("a.b=1", "0")).unwrap()), ["sysctl -w a.b=1"]);
    }

    #[test]
    fn absent_removes_every_line_of_the_key() {
        let p = params(json!({"name": "a.b", "state": "absent", "reload": false}));
        assert_eq!(puts(&plan(&p, &state("a.b=1\nc=2\na.b = 3", "1")).unwrap()), ["c=2\n"]);
        assert!(plan(&p, &state("c=2", "1")).unwrap().is_empty());
    }

    #[test]
    fn an_unknown_key_fails_unless_errors_are_ignored() {
        let p = params(json!({"name": "no.such", "value": "1"}));
        let st = State { running: None, ..State::default() };
        assert!(plan(&p, &st).unwrap_err().contains("Invalid sysctl key"));
        let p = params(json!({"name": "no.such", "value": "1", "ignoreerrors": true}));
        assert_eq!(puts(&plan(&p, &st).unwrap()), ["no.such=1\n", "sysctl -e -p /etc/sysctl.conf"]);
    }

    #[test]
    fn state_output_is_parsed() {
        let st = parse_state("@exists\n@file\na=1\nb=2\n\n@running\n0\n");
        assert_eq!(st, State { text: "a=1\nb=2".into(), exists: true, running: Some("0".into()) });
        let st = parse_state("@file\n\n@running\n@nokey\n");
        assert_eq!(st, State { text: String::new(), exists: false, running: None });
    }
}
