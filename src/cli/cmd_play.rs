//! `baton play`: load the playbooks (every error with file:line:col), then run them.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use miette::{IntoDiagnostic, Result};

use super::args::PlayArgs;
use super::settings::{self, build_fleet};
use crate::event::EventSink;
use crate::playbook::model::{Item, Playbook};
use crate::playbook::{self, load_playbook};
use crate::report::json_lines::JsonLines;
use crate::report::play_text::PlayText;
use crate::report::{exit_code, style};
use crate::run::forks::{forks, raise_fd_limit};
use crate::run::play::tags::TagFilter;
use crate::run::play::{Engine, PlayOptions};

pub async fn run(args: PlayArgs, rollback: bool) -> Result<u8> {
    let mut books: Vec<(PathBuf, Playbook)> = Vec::new();
    for path in &args.playbooks {
        let path = std::path::absolute(path).into_diagnostic()?;
        let mut book = load_playbook(&path)?;
        if rollback {
            book = rollback_book(book);
            if book.plays.is_empty() {
                miette::bail!("`{}` has no play with `rollback:` tasks", path.display());
            }
        }
        books.push((path.clone(), book));
    }
    if args.syntax_check {
        for (path, _) in &books {
            outln!("\nplaybook: {}", path.display());
        }
        return Ok(0);
    }
    if args.list_tags || args.list_tasks {
        for (path, book) in &books {
            print_listing(path, book, &args);
        }
        return Ok(0);
    }
    let inventory = settings::load_inventory(&args.common)?;
    if args.common.list_hosts {
        for (path, book) in &books {
            outln!("\nplaybook: {}", path.display());
            for (i, play) in book.plays.iter().enumerate() {
                let pattern = match &play.hosts.value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let hosts = inventory
                    .select_with_limit(&pattern, args.common.limit.as_deref())
                    .map(|s| s.hosts)
                    .unwrap_or_default();
                let name = play.common.name.as_ref().map_or(pattern.clone(), |n| n.value.clone());
                outln!("\n  play #{} ({pattern}): {name}\tTAGS: [{}]", i + 1, play.common.tags.join(","));
                outln!("    pattern: ['{pattern}']");
                settings::print_host_list(&hosts);
            }
        }
        return Ok(0);
    }
    let extra = settings::extra_vars(&args.common)?;
    let sink: Arc<dyn EventSink> = if args.json {
        Arc::new(JsonLines::new())
    } else {
        let progress = std::io::stderr().is_terminal();
        Arc::new(PlayText::new(style::color_enabled(), args.common.verbose, args.diff, progress))
    };
    let opts = PlayOptions {
        check: args.check,
        diff: args.diff,
        tags: TagFilter::new(&args.tags, &args.skip_tags),
        forks: forks(args.conn.forks, inventory.hosts().len().max(1), raise_fd_limit()),
        start_at_task: args.start_at_task.clone(),
        force_handlers: args.force_handlers,
        step: args.step,
        break_lock: args.break_lock,
        limit: args.common.limit.clone(),
        verbosity: args.common.verbose,
        conn: settings::conn_defaults(&args.conn),
        r#become: settings::become_defaults(&args.conn)?,
    };
    let mut worst = 0u8;
    for (path, book) in books {
        let dir = playbook::load::playbook_dir(&path);
        let localhost: Vec<String> =
            crate::inventory::LOCALHOST_NAMES.iter().map(|s| s.to_string()).collect();
        let (fleet, templater) = build_fleet(&inventory, &extra, &localhost, Some(&dir));
        let mut engine = Engine::new(inventory.clone(), fleet, templater, sink.clone(), opts.clone(), dir);
        engine.roles_path = args
            .roles_path
            .iter()
            .flat_map(|p| p.split(':'))
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect();
        engine.playbook_file = Some(path.display().to_string());
        // Ctrl-C: commands in flight finish, nothing new starts, the recap says where
        // every host stands. A second Ctrl-C ends the process at once.
        let flag = engine.interrupt_flag();
        let watcher = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                eprintln!(
                    "\n[INTERRUPTED]: finishing the commands in flight; press Ctrl-C again to quit now"
                );
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(130);
                }
            }
        });
        let stats = engine.run(&book).await;
        watcher.abort();
        if engine.interrupt_flag().load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(130);
        }
        let mut code = exit_code(stats.iter().map(|(_, s)| s));
        if engine.rollout_stopped() && code == 0 {
            // Stopped without a failed host (a lock held, the canary refused): still not done.
            code = 1;
        }
        worst = worst.max(code);
        if code == 2 {
            break;
        }
    }
    Ok(worst)
}

/// The playbook as `baton rollback` runs it: each play with `rollback:` tasks runs them in
/// place of its roles and tasks (pre/post tasks, batches and health gates stay); a rollback
/// that fails stops rather than rolling back again.
fn rollback_book(book: Playbook) -> Playbook {
    let plays = book
        .plays
        .into_iter()
        .filter(|p| !p.rollback.is_empty())
        .map(|mut p| {
            p.tasks = std::mem::take(&mut p.rollback);
            p.roles.clear();
            if let Some(r) = &mut p.rollout {
                r.on_failure = crate::playbook::rollout::OnFailure::Stop;
            }
            p
        })
        .collect();
    Playbook { plays }
}

/// `--list-tasks` / `--list-tags`, as ansible-playbook prints them.
fn print_listing(path: &std::path::Path, book: &Playbook, args: &PlayArgs) {
    let filter = TagFilter::new(&args.tags, &args.skip_tags);
    outln!("\nplaybook: {}", path.display());
    for (i, play) in book.plays.iter().enumerate() {
        let pattern = match &play.hosts.value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let name = play.common.name.as_ref().map_or(pattern.clone(), |n| n.value.clone());
        outln!("\n  play #{} ({pattern}): {name}\tTAGS: [{}]", i + 1, play.common.tags.join(","));
        let mut all_tags = BTreeSet::new();
        if args.list_tasks {
            outln!("    tasks:");
        }
        for section in [&play.pre_tasks, &play.tasks, &play.post_tasks] {
            walk(section, &play.common.tags, &filter, args.list_tasks, &mut all_tags);
        }
        if args.list_tags {
            let tags: Vec<String> = all_tags.into_iter().collect();
            outln!("      TASK TAGS: [{}]", tags.join(", "));
        }
    }
}

fn walk(items: &[Item], inherited: &[String], filter: &TagFilter, print: bool, all: &mut BTreeSet<String>) {
    for item in items {
        match item {
            Item::Task(t) => {
                let mut tags = inherited.to_vec();
                tags.extend(t.common.tags.iter().cloned());
                all.extend(tags.iter().cloned());
                if print && filter.runs(&tags) {
                    let name =
                        t.common.name.as_ref().map_or(t.action.name.value.clone(), |n| n.value.clone());
                    outln!("      {name}\tTAGS: [{}]", tags.join(", "));
                }
            }
            Item::Block(b) => {
                let mut tags = inherited.to_vec();
                tags.extend(b.common.tags.iter().cloned());
                for section in [&b.block, &b.rescue, &b.always] {
                    walk(section, &tags, filter, print, all);
                }
            }
        }
    }
}
