//! `cron`: one named job (or environment variable) in a user's crontab or in an
//! `/etc/cron.d` file, as Ansible's cron module writes them.
//!
//! ```yaml
//! - cron: name="rotate logs" minute=0 hour=3 job="/usr/local/bin/rotate"
//! - cron: { name: PATH, env: true, job: "/usr/local/bin:/usr/bin:/bin" }
//! - cron: { name: backup, special_time: daily, job: /opt/backup, cron_file: backup, user: root }
//! ```
//!
//! The job is found by Ansible's marker comment (`#Ansible: NAME` on the line before it), so a
//! crontab written by ansible-playbook is managed by Baton and back. One command reads the
//! crontab (`crontab -l`) or the file; the new text is computed here; `crontab -u USER FILE`
//! (or an atomic write of the cron.d file) installs it only when it differs.
//!
//! Not supported (refused as unknown parameters): `backup`.

use serde_json::{Map, Value, json};

use super::plan::{Diff, Plan, Step};
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::connection::quote::quote;
use crate::event::TaskResult;

pub static MODULE: ModuleDef = ModuleDef {
    name: "cron",
    free_form: false,
    params: &[
        "cron_file",
        "day",
        "disabled",
        "env",
        "hour",
        "insertafter",
        "insertbefore",
        "job",
        "minute",
        "month",
        "name",
        "special_time",
        "state",
        "user",
        "value",
        "weekday",
    ],
    run: crate::module_entry!(run),
    run_loop: None,
};

const SPECIALS: &[&str] = &["annually", "daily", "hourly", "monthly", "reboot", "weekly", "yearly"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub name: String,
    pub job: Option<String>,
    pub present: bool,
    pub env: bool,
    pub user: Option<String>,
    /// The full path of the cron.d file.
    pub cron_file: Option<String>,
    pub minute: String,
    pub hour: String,
    pub day: String,
    pub month: String,
    pub weekday: String,
    pub special_time: Option<String>,
    pub disabled: bool,
    pub insertafter: Option<String>,
    pub insertbefore: Option<String>,
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let bad = |message: String| ModuleError::BadArgs { module: m.into(), message };
        let name = args
            .str(m, "name")?
            .ok_or_else(|| ModuleError::MissingParam { module: m.into(), param: "name".into() })?;
        let present = match args.str(m, "state")?.as_deref() {
            None | Some("present") => true,
            Some("absent") => false,
            Some(other) => return Err(bad(format!("`state` must be present or absent, got `{other}`"))),
        };
        let job = args.str(m, "job")?.or(args.str(m, "value")?);
        if present && job.is_none() {
            return Err(ModuleError::MissingParam { module: m.into(), param: "job".into() });
        }
        let special_time = args.str(m, "special_time")?;
        if let Some(s) = &special_time
            && !SPECIALS.contains(&s.as_str())
        {
            return Err(bad(format!("`special_time` must be one of {}; got `{s}`", SPECIALS.join(", "))));
        }
        let field =
            |k: &str| -> Result<String, ModuleError> { Ok(args.str(m, k)?.unwrap_or_else(|| "*".into())) };
        let (minute, hour, day, month, weekday) =
            (field("minute")?, field("hour")?, field("day")?, field("month")?, field("weekday")?);
        if special_time.is_some() && [&minute, &hour, &day, &month, &weekday].iter().any(|f| *f != "*") {
            return Err(bad(
                "`special_time` cannot be combined with minute, hour, day, month or weekday".into()
            ));
        }
        let cron_file = args
            .str(m, "cron_file")?
            .map(|f| if f.starts_with('/') { f } else { format!("/etc/cron.d/{f}") });
        let env = args.bool(m, "env")?.unwrap_or(false);
        if cron_file.is_some() && !env && args.str(m, "user")?.is_none() && present {
            // Ansible requires the user column for cron.d files.
            return Err(ModuleError::MissingParam { module: m.into(), param: "user".into() });
        }
        let insertafter = args.str(m, "insertafter")?;
        let insertbefore = args.str(m, "insertbefore")?;
        if insertafter.is_some() && insertbefore.is_some() {
            return Err(bad("`insertafter` and `insertbefore` are mutually exclusive".into()));
        }
        Ok(Params {
            name,
            job,
            present,
            env,
            user: args.str(m, "user")?,
            cron_file,
            minute,
            hour,
            day,
            month,
            weekday,
            special_time,
            disabled: args.bool(m, "disabled")?.unwrap_or(false),
            insertafter,
            insertbefore,
        })
    }

    /// The job line as Ansible's `get_cron_job` writes it.
    pub fn job_line(&self, user: &str) -> String {
        let prefix = if self.disabled { "#" } else { "" };
        let job = self.job.as_deref().unwrap_or_default();
        let user_col = if self.cron_file.is_some() { format!(" {user}") } else { String::new() };
        match &self.special_time {
            Some(s) => format!("{prefix}@{s}{user_col} {job}"),
            None => format!(
                "{prefix}{} {} {} {} {}{user_col} {job}",
                self.minute, self.hour, self.day, self.month, self.weekday
            ),
        }
    }
}

/// The crontab (or cron.d file) as lines; `exists` says whether there was one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub lines: Vec<String>,
    pub exists: bool,
    /// The user the crontab belongs to when `user` is not given (the login or become user).
    pub whoami: String,
}

pub fn state_script(p: &Params) -> String {
    let read = match (&p.cron_file, &p.user) {
        (Some(f), _) => format!("if [ -f {f} ]; then echo @exists; cat {f}; fi", f = quote(f)),
        (None, Some(u)) => format!(
            "if out=$(crontab -l -u {} 2>/dev/null); then echo @exists; printf '%s\\n' \"$out\"; fi",
            quote(u)
        ),
        (None, None) => {
            "if out=$(crontab -l 2>/dev/null); then echo @exists; printf '%s\\n' \"$out\"; fi".to_string()
        }
    };
    format!("echo \"@whoami $(id -un)\"; {read}")
}

pub fn parse_state(out: &str) -> State {
    let mut st = State::default();
    let mut lines = out.lines();
    if let Some(first) = lines.next() {
        st.whoami = first.strip_prefix("@whoami ").unwrap_or_default().trim().to_string();
    }
    let rest: Vec<&str> = lines.collect();
    if rest.first() == Some(&"@exists") {
        st.exists = true;
        // Headers some crontab implementations add, which Ansible drops too.
        st.lines = rest[1..]
            .iter()
            .filter(|l| {
                !l.starts_with("# DO NOT EDIT THIS FILE")
                    && !l.starts_with("# (/tmp/")
                    && !l.starts_with("# (Cron version")
            })
            .map(|l| l.to_string())
            .collect();
    }
    st
}

fn marker(name: &str) -> String {
    format!("#Ansible: {name}")
}

/// The new lines, as Ansible's add/update/remove of a job or variable does it.
pub fn edit(p: &Params, lines: &[String], user: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = lines.to_vec();
    if p.env {
        // Ansible quotes the value: `NAME="value"`.
        let decl = format!("{}=\"{}\"", p.name, p.job.as_deref().unwrap_or_default());
        let pos = out.iter().position(|l| l.split_once('=').is_some_and(|(k, _)| k.trim() == p.name));
        match (p.present, pos) {
            (true, Some(i)) => out[i] = decl,
            (true, None) => {
                let at = match (&p.insertafter, &p.insertbefore) {
                    (Some(a), _) => out
                        .iter()
                        .position(|l| l.split_once('=').is_some_and(|(k, _)| k.trim() == a))
                        .map(|i| i + 1),
                    (_, Some(b)) => {
                        out.iter().position(|l| l.split_once('=').is_some_and(|(k, _)| k.trim() == b))
                    }
                    _ => Some(0),
                };
                let Some(at) = at else {
                    return Err(format!(
                        "Variable named '{}' not found.",
                        p.insertafter.as_ref().or(p.insertbefore.as_ref()).cloned().unwrap_or_default()
                    ));
                };
                out.insert(at, decl);
            }
            (false, Some(i)) => {
                out.remove(i);
            }
            (false, None) => {}
        }
        return Ok(out);
    }
    let mark = marker(&p.name);
    let pos = out.iter().position(|l| *l == mark);
    match (p.present, pos) {
        (true, Some(i)) => {
            let line = p.job_line(user);
            if i + 1 < out.len() {
                out[i + 1] = line;
            } else {
                out.push(line);
            }
        }
        (true, None) => {
            out.push(mark);
            out.push(p.job_line(user));
        }
        (false, Some(i)) => {
            let end = (i + 2).min(out.len());
            out.drain(i..end);
        }
        (false, None) => {}
    }
    Ok(out)
}

fn render(lines: &[String]) -> String {
    let text = lines.join("\n");
    if text.is_empty() { text } else { format!("{}\n", text.trim_end_matches(['\r', '\n'])) }
}

pub fn plan(p: &Params, st: &State) -> Result<Plan, String> {
    let user = p.user.clone().unwrap_or_else(|| st.whoami.clone());
    let new = edit(p, &st.lines, &user)?;
    let mut plan = Plan::default();
    if new == st.lines {
        return Ok(plan);
    }
    let (before, after) = (render(&st.lines), render(&new));
    plan.diffs.push(Diff { before: before.clone(), after: after.clone(), ..Diff::default() });
    match &p.cron_file {
        // A cron.d file left without lines is removed, as Ansible does.
        Some(f) if after.is_empty() => plan.exec("remove the cron file", format!("rm -f -- {}", quote(f))),
        Some(f) => plan.steps.push(Step::Put {
            dest: f.clone(),
            content: after.into_bytes(),
            mode: Some(0o644),
            owner: None,
            group: None,
        }),
        None => {
            let u = p.user.as_ref().map(|u| format!("-u {} ", quote(u))).unwrap_or_default();
            plan.exec(
                "crontab",
                format!(
                    "t=$(mktemp) && printf '%s' {} > \"$t\" && crontab {u}\"$t\"; rc=$?; rm -f \"$t\"; exit $rc",
                    quote(&after)
                ),
            );
        }
    }
    Ok(plan)
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    let out = ctx.exec(state_script(&p)).await?;
    let st = parse_state(&out.stdout_str());
    let mut data = Map::new();
    let plan = match plan(&p, &st) {
        Ok(plan) => plan,
        Err(msg) => return Ok(TaskResult::failed(msg)),
    };
    // Ansible returns the names of the jobs and variables the crontab now has.
    let user = p.user.clone().unwrap_or_else(|| st.whoami.clone());
    let lines = edit(&p, &st.lines, &user).unwrap_or_default();
    let jobs: Vec<Value> =
        lines.iter().filter_map(|l| l.strip_prefix("#Ansible: ")).map(|n| json!(n)).collect();
    let envs: Vec<Value> = lines
        .iter()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim()))
        .filter(|k| !k.contains(' '))
        .map(|k| json!(k))
        .collect();
    data.insert("jobs".into(), Value::Array(jobs));
    data.insert("envs".into(), Value::Array(envs));
    if let Some(f) = &p.cron_file {
        data.insert("cron_file".into(), json!(f));
    }
    plan.apply(ctx, data).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(v: Value) -> Params {
        let Value::Object(m) = v else { panic!() };
        Params::parse(&ModuleArgs(m)).unwrap()
    }

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(str::to_string).collect()
    }

    #[test]
    fn a_new_job_gets_the_marker_and_the_schedule() {
        let p = params(json!({"name": "rotate", "minute": "0", "hour": "3", "job": "/bin/rotate"}));
        let out = edit(&p, &lines("MAILTO=x\n"), "root").unwrap();
        assert_eq!(out, lines("MAILTO=x\n#Ansible: rotate\n0 3 * * * /bin/rotate"));
    }

    #[test]
    fn an_existing_job_is_replaced_in_place_and_the_same_job_is_ok() {
        let p = params(json!({"name": "rotate", "minute": "5", "job": "/bin/rotate"}));
        let old = lines("#Ansible: rotate\n0 3 * * * /bin/rotate\n#Ansible: other\n* * * * * x");
        let out = edit(&p, &old, "root").unwrap();
        assert_eq!(out[1], "5 * * * * /bin/rotate");
        assert_eq!(out.len(), 4);
        let st = State { lines: out, exists: true, whoami: "root".into() };
        assert!(plan(&p, &st).unwrap().is_empty());
    }

    #[test]
    fn absent_removes_marker_and_job() {
        let p = params(json!({"name": "rotate", "state": "absent"}));
        let old = lines("a=1\n#Ansible: rotate\n0 3 * * * /bin/rotate\n#Ansible: other\n* * * * * x");
        assert_eq!(edit(&p, &old, "root").unwrap(), lines("a=1\n#Ansible: other\n* * * * * x"));
        assert!(edit(&p, &lines("a=1"), "root").unwrap() == lines("a=1"));
    }

    #[test]
    fn special_time_disabled_and_cron_file_lines() {
        let p = params(json!({"name": "b", "special_time": "daily", "job": "/opt/b", "disabled": true}));
        assert_eq!(p.job_line("root"), "#@daily /opt/b");
        let p = params(
            json!({"name": "b", "job": "/opt/b", "cron_file": "backup", "user": "app", "weekday": "1-5"}),
        );
        assert_eq!(p.cron_file.as_deref(), Some("/etc/cron.d/backup"));
        assert_eq!(p.job_line("app"), "* * * * 1-5 app /opt/b");
    }

    #[test]
    fn env_variables_go_first_or_where_asked() {
        let p = params(json!({"name": "PATH", "env": true, "job": "/bin"}));
        assert_eq!(edit(&p, &lines("#Ansible: j\n* * * * * x"), "root").unwrap()[0], "PATH=\"/bin\"");
        let p = params(json!({"name": "B", "env": true, "job": "2", "insertafter": "A"}));
        assert_eq!(edit(&p, &lines("A=1\nC=3"), "root").unwrap(), lines("A=1\nB=\"2\"\nC=3"));
        let p = params(json!({"name": "A", "env": true, "job": "9"}));
        assert_eq!(edit(&p, &lines("A=1"), "root").unwrap(), lines("A=\"9\""));
        let p = params(json!({"name": "A", "env": true, "state": "absent"}));
        assert!(edit(&p, &lines("A=1"), "root").unwrap().is_empty());
    }

    #[test]
    fn bad_parameters_are_refused() {
        let bad = |v: Value| {
            let Value::Object(m) = v else { panic!() };
            Params::parse(&ModuleArgs(m)).unwrap_err().to_string()
        };
        assert!(bad(json!({"name": "x"})).contains("`job`"));
        assert!(bad(json!({"name": "x", "job": "y", "special_time": "often"})).contains("special_time"));
        assert!(
            bad(json!({"name": "x", "job": "y", "special_time": "daily", "hour": "1"}))
                .contains("cannot be combined")
        );
        assert!(bad(json!({"name": "x", "job": "y", "cron_file": "f"})).contains("`user`"));
    }

    #[test]
    fn the_crontab_is_installed_for_the_user_and_an_empty_cron_file_removed() {
        let p = params(json!({"name": "j", "job": "x", "user": "app"}));
        let plan = plan(&p, &State { whoami: "root".into(), ..State::default() }).unwrap();
        assert!(
            matches!(&plan.steps[..], [Step::Exec { cmd, .. }] if cmd.contains("crontab -u app \"$t\"") && cmd.contains("#Ansible: j"))
        );
        let p = params(json!({"name": "j", "state": "absent", "cron_file": "f"}));
        let st = State { lines: lines("#Ansible: j\n* * * * * root x"), exists: true, whoami: "root".into() };
        assert!(
            matches!(&super::plan(&p, &st).unwrap().steps[..], [Step::Exec { cmd, .. }] if cmd == "rm -f -- /etc/cron.d/f")
        );
    }

    #[test]
    fn state_output_drops_crontab_headers() {
        let st = parse_state(
            "@whoami root\n@exists\n# DO NOT EDIT THIS FILE - edit the master\n#Ansible: a\n* * * * * x\n",
        );
        assert_eq!(st.lines, lines("#Ansible: a\n* * * * * x"));
        assert_eq!(st.whoami, "root");
        assert!(!parse_state("@whoami app\n").exists);
    }
}
