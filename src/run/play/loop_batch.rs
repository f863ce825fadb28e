//! A whole loop in one go, for modules that offer it ([`crate::modules::LoopFn`]): every item's
//! `when` and arguments are worked out first, then the module gets all of them at once and
//! can read and change the host for every item in a couple of round trips instead of two per
//! item. Each item is still reported, registered and judged (`changed_when`/`failed_when`) on
//! its own, exactly as the one-at-a-time path does.

use std::time::Duration;

use serde_json::Value;

use super::Engine;
use super::host_task::{Exec, item_vars, skipped};
use crate::event::{Status, TaskResult};
use crate::modules::{self, ModuleArgs, ModuleCtx};
use crate::playbook::load::short_name;
use crate::playbook::model::Spanned;
use crate::vars::{HostVars, VarMap};

impl Engine {
    /// Every item's result and facts through the module's whole-loop entry point, or `None`
    /// when the items must run one at a time: the module has no such entry point, the task
    /// retries (`until`) or pauses between items, delegates, or its items do not share one
    /// connection, become user, environment and mode.
    pub(super) async fn run_batched(
        &self,
        x: &Exec<'_>,
        vars: &HostVars,
        conditions: &[&Spanned<Value>],
        items: &[Value],
    ) -> Result<Option<Vec<(TaskResult, VarMap)>>, String> {
        let task = x.task;
        let Ok(def) = modules::lookup(&task.action.name.value) else {
            return Ok(None);
        };
        let Some(run_loop) = def.run_loop else {
            return Ok(None);
        };
        let delegated = task.local || x.scope.keyword(&task.common, |c| &c.delegate_to).is_some();
        if items.len() < 2 || !task.until.is_empty() || task.loop_control.pause.is_some() || delegated {
            return Ok(None);
        }
        let action = short_name(&task.action.name.value).to_string();
        let no_facts = VarMap::new();
        // Per item: its variables, and either the reason it is skipped or its arguments.
        let mut prepared = Vec::with_capacity(items.len());
        let mut shared = None;
        for index in 0..items.len() {
            let iv = item_vars(vars, &no_facts, task, items, index);
            if let Some(cond) = self.first_false(&iv, conditions)? {
                prepared.push((iv, Err(cond)));
                continue;
            }
            let args = ModuleArgs(self.module_args(x, &iv, &action)?);
            args.validate(def).map_err(|e| format!("{e} ({})", task.action.name.loc))?;
            let super::host_task::Connected::Ok { conn, r#become, env, timeout, check, diff, controller } =
                self.connect_for(x, &iv).await?
            else {
                return Ok(None);
            };
            let same = |s: &Shared| {
                std::sync::Arc::ptr_eq(&s.conn, &conn)
                    && s.r#become == r#become
                    && s.env == env
                    && s.timeout == timeout
                    && s.check == check
                    && s.diff == diff
            };
            match &shared {
                None => shared = Some(Shared { conn, r#become, env, timeout, check, diff, controller }),
                Some(s) if same(s) => {}
                Some(_) => return Ok(None),
            }
            prepared.push((iv, Ok(args)));
        }
        let Some(s) = shared else {
            return Ok(None);
        };
        let ctx = ModuleCtx {
            host: x.host,
            conn: s.conn.as_ref(),
            r#become: s.r#become.clone(),
            check_mode: s.check,
            diff: s.diff,
            env: s.env.clone(),
            timeout: s.timeout,
            controller: &s.controller,
        };
        let args: Vec<ModuleArgs> = prepared.iter().filter_map(|(_, a)| a.as_ref().ok().cloned()).collect();
        let wanted = args.len();
        let run = run_loop(&ctx, args);
        // The deadline is the task's, for the whole loop.
        let outcome = match s.timeout {
            Some(limit) => match tokio::time::timeout(limit + Duration::from_secs(2), run).await {
                Ok(o) => o,
                Err(_) => {
                    let msg = format!("the task timed out after {}s", limit.as_secs());
                    Ok((0..wanted).map(|_| Ok(TaskResult::failed(msg.clone()))).collect())
                }
            },
            None => run.await,
        };
        let mut answers: Vec<Result<TaskResult, modules::ModuleError>> = match outcome {
            Ok(list) if list.len() == wanted => list,
            Ok(list) => {
                return Err(format!(
                    "module `{}` answered {} results for {wanted} items",
                    def.name,
                    list.len()
                ));
            }
            // The same error for every item (the connection was lost, ...).
            Err(e) => {
                let text = e.to_string();
                let unreachable = matches!(&e, modules::ModuleError::Conn(c) if c.is_unreachable());
                (0..wanted)
                    .map(|_| {
                        if unreachable {
                            let mut r = TaskResult::new(Status::Unreachable);
                            r.msg = Some(text.clone());
                            Ok(r)
                        } else {
                            Ok(TaskResult::failed(text.clone()))
                        }
                    })
                    .collect()
            }
        }
        .into_iter()
        .rev()
        .collect();
        let mut out = Vec::with_capacity(items.len());
        for (iv, prepared) in prepared {
            match prepared {
                Err(cond) => out.push((skipped(&cond), VarMap::new())),
                Ok(_) => {
                    let answer = answers.pop().unwrap_or_else(|| Ok(TaskResult::failed("no result")));
                    let (mut result, facts) = self.settle(x, &iv, answer);
                    if result.status != Status::Unreachable {
                        self.judge(x, &iv, &mut result)?;
                    }
                    out.push((result, facts));
                }
            }
        }
        Ok(Some(out))
    }
}

/// What every item of a batched loop must have in common.
struct Shared {
    conn: std::sync::Arc<dyn crate::connection::Connection>,
    r#become: Option<crate::connection::Become>,
    env: Vec<(String, String)>,
    timeout: Option<Duration>,
    check: bool,
    diff: bool,
    controller: super::controller::TaskController,
}
