//! Writing one whole file (copy, template) in ONE round trip for the usual case, where the
//! general path takes two (read the state, then write).
//!
//! The command carries the new bytes on its stdin and compares checksums on the host: when
//! the file already has them nothing is written; otherwise it is installed atomically
//! ([`stdin_put_script`]). Either way the command ends by reading the file back, and the
//! controller then plans the rest — mode, owner, group — with the same pure planner as
//! the general path ([`copy::plan_write`]) against that fresh state, so attributes are still
//! decided in Rust; only "are the bytes the same" is asked on the host. A mode or owner to fix
//! costs one more command, as it would on the general path.
//!
//! Anything unusual (a directory at the destination, a missing parent, a backup, validation,
//! `force: no`, a symbolic mode, check or diff mode, a large file) takes the general path,
//! which words its errors and reports exactly as before.

use serde_json::{Map, Value};

use super::copy::{self, Payload, Write, WriteState};
use super::fileinfo::{self, Probe};
use super::mode::Mode;
use super::plan::Plan;
use super::{ModuleCtx, ModuleError};
use crate::connection::quote::quote;
use crate::connection::{Command, PutOptions, stdin_put_script};
use crate::event::{Status, TaskResult};

/// Larger files go the general way, where unchanged bytes are never sent.
const MAX_BYTES: usize = 256 * 1024;

/// The exit status that means "take the general path" (nothing was touched).
const FALL_BACK: i32 = 10;

/// What the one-trip write did.
#[derive(Debug)]
pub enum OneTrip {
    /// Not for this write, or the host found something unusual: use the general path.
    General,
    Done(TaskResult),
}

/// The mode the new file gets when the write can say it without the host's state: an octal
/// mode, or the source's (`preserve`). `Some(None)`: no mode asked for (an existing file keeps
/// its own, a new one gets the umask's default). `None`: not for one trip.
fn fixed_mode(w: &Write) -> Option<Option<u32>> {
    match &w.attrs.mode {
        None => Some(None),
        Some(Mode::Octal(m)) => Some(Some(*m)),
        Some(Mode::Preserve) => w.source_mode.map(Some),
        Some(Mode::Symbolic(_)) => None,
    }
}

/// The shell line: leave now (FALL_BACK) for anything unusual, write unless the bytes are
/// already there, say which, then read the file back.
pub fn script(dest: &str, sum: &str, opts: &PutOptions) -> String {
    let q = quote(dest);
    let dir = copy::dirname(dest);
    let parent = quote(&dir);
    let install = stdin_put_script(dest, opts);
    // No checksum: the bytes are known to be the payload's either way.
    let probe = fileinfo::script(&[Probe::new(dest)]);
    format!(
        "if [ -d {q} ] || ! [ -d {parent} ]; then exit {FALL_BACK}; fi\n\
         if [ -f {q} ] && ! [ -L {q} ] && [ -r {q} ] && [ \"$(sha1sum < {q})\" = '{sum}  -' ]; then \
         echo same; else (\n{install}\n) || exit 1; echo wrote; fi\n{probe}"
    )
}

/// Tries the one-trip write of `w`; `data` is the module's result keys so far.
pub async fn write(
    ctx: &ModuleCtx<'_>,
    w: &Write,
    mut data: Map<String, Value>,
) -> Result<OneTrip, ModuleError> {
    let Payload::Bytes(bytes) = &w.payload else {
        return Ok(OneTrip::General);
    };
    let usual = !ctx.check_mode && !ctx.diff && !w.backup && w.force && w.validate.is_none();
    let Some(mode) = fixed_mode(w).filter(|_| usual && bytes.len() <= MAX_BYTES) else {
        return Ok(OneTrip::General);
    };
    let opts =
        PutOptions { mode, owner: w.attrs.owner.clone(), group: w.attrs.group.clone(), r#become: None };
    let sum = w.payload.checksum();
    let line = script(&w.dest, &sum, &opts);
    let out = ctx.exec_with(Command { cmd: line, stdin: Some(bytes.clone()), ..Command::default() }).await?;
    if out.rc == Some(FALL_BACK) {
        return Ok(OneTrip::General);
    }
    if !out.success() {
        let mut failed =
            TaskResult::failed(format!("writing {} failed: {}", w.dest, out.stderr_str().trim()));
        failed.rc = out.rc;
        return Ok(OneTrip::Done(failed));
    }
    let (wrote, rest) = match out.stdout.split_first_chunk::<5>() {
        Some((b"same\n", rest)) => (false, rest),
        _ => match out.stdout.split_first_chunk::<6>() {
            Some((b"wrote\n", rest)) => (true, rest),
            _ => return Ok(OneTrip::General),
        },
    };
    let facts = match fileinfo::parse(rest) {
        Ok(f) => f,
        Err(_) => return Ok(OneTrip::General),
    };
    let Some(mut info) = facts.get(0, &w.dest).cloned() else {
        return Ok(OneTrip::General);
    };
    info.checksum = Some(sum);
    // The bytes are right now; the planner decides what is left (mode, owner, group).
    let state =
        WriteState { host: facts.host.clone(), dest: Some(info.clone()), parent_exists: true, before: None };
    let mut plan = Plan::default();
    let outcome = match copy::plan_write(w, &state, &mut plan) {
        Ok(o) => o,
        Err(msg) => return Ok(OneTrip::Done(TaskResult::failed(msg))),
    };
    let mut keys = fileinfo::result_keys(&info);
    keys.remove("size");
    data.extend(keys);
    data.insert("size".into(), bytes.len().into());
    if let Some(m) = outcome.mode {
        data.insert("mode".into(), super::mode::format_mode(m).into());
    }
    let rest_changed = !plan.is_empty();
    let mut result = plan.apply(ctx, data).await?;
    if wrote && result.status == Status::Ok {
        result.status = Status::Changed;
    }
    if rest_changed && result.status == Status::Changed {
        // The owner's name and ids as the host now has them.
        if let Ok(Ok(f)) = fileinfo::read(ctx, &[Probe::new(&w.dest)]).await.map(|r| r.map_err(|_| ()))
            && let Some(now) = f.get(0, &w.dest)
        {
            let mut keys = fileinfo::result_keys(now);
            keys.remove("size");
            result.data.extend(keys);
        }
    }
    Ok(OneTrip::Done(result))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_compares_checksums_and_writes_only_on_a_difference() {
        let opts = PutOptions { mode: Some(0o640), ..PutOptions::default() };
        let s = script("/srv/app/app.env", "abc123", &opts);
        assert!(s.starts_with("if [ -d /srv/app/app.env ] || ! [ -d /srv/app ]; then exit 10; fi\n"), "{s}");
        assert!(
            s.contains("[ \"$(sha1sum < /srv/app/app.env)\" = 'abc123  -' ]; then echo same; else ("),
            "{s}"
        );
        assert!(s.contains("(umask 137 && cat > \"$t\")"), "{s}");
        assert!(s.contains(") || exit 1; echo wrote; fi\n"), "{s}");
    }

    #[test]
    fn only_modes_known_without_the_host_take_one_trip() {
        let mut w = Write {
            dest: "/x".into(),
            payload: Payload::Bytes(b"x".to_vec()),
            attrs: fileinfo::Attrs::default(),
            source_mode: Some(0o755),
            backup: false,
            force: true,
            validate: None,
        };
        assert_eq!(fixed_mode(&w), Some(None));
        w.attrs.mode = Some(Mode::Octal(0o600));
        assert_eq!(fixed_mode(&w), Some(Some(0o600)));
        w.attrs.mode = Some(Mode::Preserve);
        assert_eq!(fixed_mode(&w), Some(Some(0o755)));
        w.attrs.mode = Some(Mode::Symbolic(Vec::new()));
        assert_eq!(fixed_mode(&w), None);
    }
}
