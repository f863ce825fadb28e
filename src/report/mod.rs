//! Consumers of the engine's event stream: terminal output (ad-hoc and, later, playbook
//! style), JSON lines, progress bars. Only this layer prints.

pub mod adhoc_text;
pub mod json_lines;
pub mod play_text;
pub mod progress;
pub mod style;

use crate::event::{HostStats, Status, TaskResult};

/// Ansible's exit codes: 2 when any host failed, else 4 when any was unreachable, else 0.
pub fn exit_code<'a>(stats: impl IntoIterator<Item = &'a HostStats>) -> u8 {
    let (mut failed, mut unreachable) = (false, false);
    for s in stats {
        failed |= s.failed > 0;
        unreachable |= s.unreachable > 0;
    }
    if failed {
        2
    } else if unreachable {
        4
    } else {
        0
    }
}

/// A result as Ansible's output shows it: the registered shape without the bookkeeping keys
/// (`failed: false`, the `*_lines` copies).
pub fn result_view(result: &TaskResult) -> serde_json::Value {
    let mut m = match result.to_registered() {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    if result.status != Status::Failed {
        m.remove("failed");
    }
    for key in ["stdout_lines", "stderr_lines"] {
        m.remove(key);
    }
    serde_json::Value::Object(m)
}

/// JSON with four-space indentation, as Ansible and ansible-inventory print it.
pub fn pretty_json(value: &serde_json::Value) -> String {
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    if serde::Serialize::serialize(value, &mut ser).is_err() {
        return value.to_string();
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_wins_over_unreachable() {
        let f = HostStats { failed: 1, ..HostStats::default() };
        let u = HostStats { unreachable: 1, ..HostStats::default() };
        assert_eq!(exit_code([&f, &u]), 2);
        assert_eq!(exit_code([&u]), 4);
        assert_eq!(exit_code([&HostStats::default()]), 0);
    }
}
