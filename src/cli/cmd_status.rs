//! `baton status`: what each host runs now, read from the audit records rollouts leave on
//! every host they touch.

use std::sync::{Arc, Mutex};

use miette::Result;
use serde_json::{Value, json};

use super::args::StatusArgs;
use super::settings::{self, build_fleet, select_hosts};
use crate::connection::quote::quote;
use crate::event::{Event, EventSink};
use crate::modules::{self, ModuleArgs};
use crate::report::exit_code;
use crate::run::adhoc::{self, AdhocJob};
use crate::run::forks::{forks, raise_fd_limit};

/// Keeps each host's outcome for the table.
#[derive(Default)]
struct Collect(Mutex<Vec<(String, Result<String, String>)>>);

impl EventSink for Collect {
    fn emit(&self, event: &Event) {
        let entry = match event {
            Event::HostResult { host, result, .. } => match &result.stdout {
                Some(out) if result.rc == Some(0) => (host.clone(), Ok(out.clone())),
                _ => (
                    host.clone(),
                    Err(result.msg.clone().unwrap_or_else(|| "cannot read the audit log".into())),
                ),
            },
            Event::HostUnreachable { host, reason, .. } => {
                (host.clone(), Err(format!("unreachable: {reason}")))
            }
            _ => return,
        };
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(entry);
    }
}

pub async fn run(args: StatusArgs) -> Result<u8> {
    let inventory = settings::load_inventory(&args.common)?;
    let hosts = select_hosts(&inventory, &args.pattern, &args.common)?;
    let extra = settings::extra_vars(&args.common)?;
    let (fleet, _) = build_fleet(&inventory, &extra, &hosts, None);
    let filter = match &args.lock {
        Some(lock) => format!(" | grep -F {}", quote(&format!("\"lock\":{}", json!(lock)))),
        None => String::new(),
    };
    let line = format!("cat /var/lib/baton/audit.jsonl 2>/dev/null{filter} | tail -n 1; true");
    let module = modules::lookup("shell")?;
    let mut raw = serde_json::Map::new();
    raw.insert(modules::args::RAW_PARAMS.into(), Value::String(line));
    let raw = ModuleArgs(raw);
    let collect = Arc::new(Collect::default());
    let sink: Arc<dyn EventSink> = collect.clone();
    let conn_defaults = settings::conn_defaults(&args.conn);
    let become_defaults = settings::become_defaults(&args.conn)?;
    let targets = hosts
        .iter()
        .map(|h| super::cmd_run::target(&fleet, h, &raw, &conn_defaults, &become_defaults, sink.as_ref()))
        .collect();
    let job =
        AdhocJob { module, forks: forks(args.conn.forks, hosts.len(), raise_fd_limit()), check_mode: false };
    let stats = adhoc::run(job, targets, sink).await;
    let mut rows = std::mem::take(&mut *collect.0.lock().unwrap_or_else(|e| e.into_inner()));
    rows.sort_by_key(|(h, _)| hosts.iter().position(|x| x == h));
    if !args.json {
        outln!("{:<20} {:<14} {:<12} {:<22} {:<10} PLAYBOOK", "HOST", "VERSION", "RESULT", "WHEN", "BY");
    }
    for (host, row) in rows {
        let record: Value = match &row {
            Ok(text) if !text.trim().is_empty() => {
                serde_json::from_str(text.trim()).unwrap_or(json!({"error": "unreadable audit record"}))
            }
            Ok(_) => json!({"error": "no rollout recorded"}),
            Err(e) => json!({"error": e}),
        };
        if args.json {
            let mut obj = json!({"host": host});
            if let (Value::Object(o), Value::Object(r)) = (&mut obj, record) {
                o.extend(r);
            }
            outln!("{obj}");
            continue;
        }
        let f = |k: &str| record.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        if let Some(e) = record.get("error").and_then(Value::as_str) {
            outln!("{host:<20} {e}");
        } else {
            outln!(
                "{host:<20} {:<14} {:<12} {:<22} {:<10} {}",
                f("version"),
                f("result"),
                f("time"),
                f("user"),
                f("playbook")
            );
        }
    }
    Ok(exit_code(stats.iter().map(|(_, s)| s)))
}
