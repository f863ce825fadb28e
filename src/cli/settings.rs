//! Turns the flags into what the engine runs with: the loaded inventory, the extra vars, each
//! host's variables in one fleet, the selected hosts, and connection/become defaults.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use miette::{IntoDiagnostic, Result, WrapErr};

use super::args::{BecomeMethodArg, CommonArgs, ConnArgs, ConnectionKind, HostKeyPolicyArg};
use super::become_pass;
use crate::connection::BecomeMethod;
use crate::connection::ssh::HostKeyPolicy;
use crate::inventory::Inventory;
use crate::run::host_conn::{BecomeDefaults, ConnDefaults};
use crate::template::Templater;
use crate::vars::{Fleet, HostVars, Layer, VarMap, magic, parse_extra_all};

/// Reads every `-i` source; with none, only the implicit `localhost` exists (as in Ansible).
pub fn load_inventory(common: &CommonArgs) -> Result<Inventory> {
    if common.inventory.is_empty() {
        warn("no inventory was given (-i), only the implicit localhost is available");
    }
    let inventory = Inventory::load(&common.inventory)?;
    for w in inventory.warnings() {
        warn(w);
    }
    Ok(inventory)
}

/// Prints a warning on stderr, where it never mixes with JSON output.
pub fn warn(text: &str) {
    let paint = crate::report::style::color_enabled();
    let label = crate::report::style::paint(paint, crate::report::style::Color::Yellow, "[WARNING]");
    eprintln!("{label}: {text}");
}

/// `-e` values, parsed once (files relative to the current directory).
pub fn extra_vars(common: &CommonArgs) -> Result<VarMap> {
    let cwd = std::env::current_dir().into_diagnostic().wrap_err("cannot read the current directory")?;
    Ok(parse_extra_all(&common.extra_vars, &cwd)?)
}

/// The hosts `pattern` and `--limit` select, in inventory order; warnings printed.
pub fn select_hosts(inventory: &Inventory, pattern: &str, common: &CommonArgs) -> Result<Vec<String>> {
    let selection = inventory.select_with_limit(pattern, common.limit.as_deref())?;
    for w in &selection.warnings {
        warn(w);
    }
    Ok(selection.hosts)
}

/// Every inventory host's variables (inventory layers, `-e`, magic vars), in one fleet so that
/// `hostvars` and `groups` work. `extra_hosts` adds hosts outside the inventory's own list
/// (the implicit localhost when a pattern names it).
pub fn build_fleet(
    inventory: &Inventory,
    extra: &VarMap,
    extra_hosts: &[String],
    playbook_dir: Option<&Path>,
) -> (Arc<Fleet>, Arc<Templater>) {
    let templater = Arc::new(Templater::new());
    let fleet = Fleet::new();
    fleet.set_groups(&inventory.groups_map());
    let mut names: Vec<String> = inventory.hosts().into_iter().map(str::to_string).collect();
    for h in extra_hosts {
        if !names.contains(h) {
            names.push(h.clone());
        }
    }
    let playbook_dir = playbook_dir.map(|p| p.display().to_string());
    for name in names {
        let inventory_dir = inventory.inventory_dir(&name);
        let mut magic_vars = magic::host_magic(&name, &inventory.host_groups(&name));
        magic_vars.extend(magic::dirs_magic(playbook_dir.as_deref(), inventory_dir.as_deref()));
        if let Some(file) = inventory.inventory_file(&name) {
            magic_vars.insert("inventory_file".into(), serde_json::Value::from(file));
        }
        let vars = HostVars::new(templater.clone(), name.clone())
            .with_layer(Layer::Inventory, inventory.host_vars(&name))
            .with_layer(Layer::Extra, extra.clone())
            .with_vars(Layer::Magic, magic_vars);
        fleet.insert(&vars);
    }
    (fleet, templater)
}

/// Connection defaults from the flags.
pub fn conn_defaults(conn: &ConnArgs) -> ConnDefaults {
    ConnDefaults {
        connection: conn.connection.map(|c| match c {
            ConnectionKind::Ssh => "ssh".to_string(),
            ConnectionKind::Local => "local".to_string(),
        }),
        user: conn.user.clone(),
        port: None,
        private_key: conn.private_key.clone(),
        timeout: Duration::from_secs(conn.timeout.max(1)),
        known_hosts: conn.known_hosts.clone(),
        host_key_policy: conn.host_key_checking.map(|p| match p {
            HostKeyPolicyArg::Strict => HostKeyPolicy::Strict,
            HostKeyPolicyArg::AcceptNew => HostKeyPolicy::AcceptNew,
            HostKeyPolicyArg::Off => HostKeyPolicy::Off,
        }),
        command_timeout: None,
    }
}

/// Become defaults from the flags; `-K` asks for the password here, once.
pub fn become_defaults(conn: &ConnArgs) -> Result<BecomeDefaults> {
    let password = if conn.ask_become_pass {
        Some(become_pass::ask().into_diagnostic().wrap_err("cannot read the become password")?)
    } else {
        None
    };
    Ok(BecomeDefaults {
        enabled: conn.r#become,
        user: conn.become_user.clone(),
        method: conn.become_method.map(|m| match m {
            BecomeMethodArg::Sudo => BecomeMethod::Sudo,
            BecomeMethodArg::Su => BecomeMethod::Su,
        }),
        password,
    })
}

/// `--list-hosts` output, as Ansible prints it.
pub fn print_host_list(hosts: &[String]) {
    outln!("  hosts ({}):", hosts.len());
    for h in hosts {
        outln!("    {h}");
    }
}
