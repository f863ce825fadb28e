//! `baton run`: one module, ad-hoc, on every host the pattern selects.

use std::io::IsTerminal;
use std::sync::Arc;

use futures_util::FutureExt;
use miette::Result;
use serde_json::Value;

use super::args::RunArgs;
use super::settings::{self, build_fleet, select_hosts};
use crate::connection::connect;
use crate::event::{Event, EventSink, Fanout};
use crate::modules::{self, ModuleArgs};
use crate::report::adhoc_text::AdhocText;
use crate::report::json_lines::JsonLines;
use crate::report::{exit_code, style};
use crate::run::adhoc::{self, AdhocJob, Target};
use crate::run::forks::{forks, raise_fd_limit};
use crate::run::host_conn;
use crate::vars::Fleet;

pub async fn run(args: RunArgs) -> Result<u8> {
    let module = modules::lookup(&args.module)?;
    let raw_args = parse_args(module, &args.args)?;
    // Parameters are checked before anything connects, for every host alike.
    raw_args.validate(module)?;

    let inventory = settings::load_inventory(&args.common)?;
    let hosts = select_hosts(&inventory, &args.pattern, &args.common)?;
    if args.common.list_hosts {
        settings::print_host_list(&hosts);
        return Ok(0);
    }
    let extra = settings::extra_vars(&args.common)?;
    let (fleet, _templater) = build_fleet(&inventory, &extra, &hosts, None);
    fleet.set_play_hosts(&hosts, &hosts);
    let conn_defaults = settings::conn_defaults(&args.conn);
    let become_defaults = settings::become_defaults(&args.conn)?;

    let sink: Arc<dyn EventSink> = if args.json {
        Arc::new(JsonLines::new())
    } else {
        let progress = std::io::stderr().is_terminal();
        Arc::new(Fanout(vec![Box::new(AdhocText::new(args.one_line, style::color_enabled(), progress))]))
    };
    let targets = hosts
        .iter()
        .map(|host| target(&fleet, host, &raw_args, &conn_defaults, &become_defaults, sink.as_ref()))
        .collect::<Vec<_>>();
    let fd_limit = raise_fd_limit();
    let job = AdhocJob { module, forks: forks(args.conn.forks, hosts.len(), fd_limit), check_mode: false };
    let stats = adhoc::run(job, targets, sink).await;
    Ok(exit_code(stats.iter().map(|(_, s)| s)))
}

/// `-a` as Ansible reads it: a JSON object, or `k=v` pairs (free text for command/shell/raw).
fn parse_args(module: &modules::ModuleDef, text: &str) -> Result<ModuleArgs> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{')
        && let Ok(Value::Object(map)) = serde_json::from_str::<Value>(trimmed)
    {
        return Ok(ModuleArgs(map));
    }
    Ok(ModuleArgs::parse_kv(module, text)?)
}

/// Everything one host needs: its templated arguments, connection and become.
pub(super) fn target(
    fleet: &Arc<Fleet>,
    host: &str,
    raw: &ModuleArgs,
    conn_defaults: &host_conn::ConnDefaults,
    become_defaults: &host_conn::BecomeDefaults,
    sink: &dyn EventSink,
) -> Target {
    let failed = |error: String| Target {
        name: host.to_string(),
        args: ModuleArgs::default(),
        r#become: None,
        connect: Box::new(|| {
            async {
                Err(crate::connection::ConnError::Invalid {
                    what: "host".into(),
                    reason: "not runnable".into(),
                })
            }
            .boxed()
        }),
        connect_timeout: conn_defaults.timeout,
        error: Some(error),
    };
    let Some(vars) = fleet.get(host) else {
        return failed(format!("host `{host}` has no variables"));
    };
    let args = match vars.render(&Value::Object(raw.0.clone())) {
        Ok(Value::Object(map)) => ModuleArgs(map),
        Ok(_) => return failed("the module arguments did not template to a mapping".into()),
        Err(e) => return failed(format!("cannot template the module arguments: {e}")),
    };
    let conn = match host_conn::resolve(host, &vars, conn_defaults) {
        Ok(c) => c,
        Err(e) => return failed(format!("cannot decide how to connect: {e}")),
    };
    let r#become = match host_conn::resolve_become(&vars, become_defaults) {
        Ok(b) => b,
        Err(e) => return failed(format!("cannot decide privilege escalation: {e}")),
    };
    for w in &conn.warnings {
        sink.emit(&Event::Warning { host: Some(host.to_string()), message: w.clone() });
    }
    let spec = conn.spec;
    Target {
        name: host.to_string(),
        args,
        r#become,
        connect: Box::new(move || connect(spec).boxed()),
        connect_timeout: conn.connect_timeout + std::time::Duration::from_secs(1),
        error: None,
    }
}
