//! Magic variables Ansible defines for every host: who the host is, which groups exist, which
//! hosts the play runs on, where the playbook lives.

use serde_json::json;

use super::layers::VarMap;

/// The host's identity: `inventory_hostname`, `inventory_hostname_short`, `group_names`
/// (sorted, without `all`, as Ansible). `groups` is shared by the whole fleet instead
/// ([`crate::vars::Fleet::set_groups`]), so it is not copied into every host.
pub fn host_magic(host: &str, group_names: &[String]) -> VarMap {
    let mut m = VarMap::new();
    m.insert("inventory_hostname".into(), json!(host));
    m.insert("inventory_hostname_short".into(), json!(host.split('.').next().unwrap_or(host)));
    let mut names: Vec<&String> = group_names.iter().filter(|g| *g != "all").collect();
    names.sort();
    m.insert("group_names".into(), json!(names));
    m
}

/// The hosts of the current play (and batch, when `serial` splits it).
pub fn play_magic(play_hosts: &[String], batch: &[String]) -> VarMap {
    let mut m = VarMap::new();
    m.insert("ansible_play_hosts".into(), json!(play_hosts));
    m.insert("ansible_play_hosts_all".into(), json!(play_hosts));
    m.insert("play_hosts".into(), json!(batch));
    m.insert("ansible_play_batch".into(), json!(batch));
    m
}

/// `playbook_dir` and `inventory_dir`, when known.
pub fn dirs_magic(playbook_dir: Option<&str>, inventory_dir: Option<&str>) -> VarMap {
    let mut m = VarMap::new();
    if let Some(d) = playbook_dir {
        m.insert("playbook_dir".into(), json!(d));
    }
    if let Some(d) = inventory_dir {
        m.insert("inventory_dir".into(), json!(d));
    }
    m
}

/// Connection defaults for the lowest layer: `ansible_host` is the inventory name unless the
/// inventory says otherwise; port, user and connection only when the engine knows them.
pub fn connection_defaults(
    host: &str,
    port: Option<u16>,
    user: Option<&str>,
    connection: Option<&str>,
) -> VarMap {
    let mut m = VarMap::new();
    m.insert("ansible_host".into(), json!(host));
    if let Some(p) = port {
        m.insert("ansible_port".into(), json!(p));
    }
    if let Some(u) = user {
        m.insert("ansible_user".into(), json!(u));
    }
    if let Some(c) = connection {
        m.insert("ansible_connection".into(), json!(c));
    }
    m
}
