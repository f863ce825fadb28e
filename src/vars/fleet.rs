//! Every host's current variables, so templates can read `hostvars['web2'].x`.

use std::sync::{Arc, RwLock, Weak};

use indexmap::IndexMap;
use minijinja::Value;
use minijinja::value::{Enumerator, Object, ObjectRepr};

use super::host::HostVars;

/// The registry of hosts' latest variable snapshots. The engine inserts a host's new snapshot
/// whenever it adds facts, so other hosts see them through `hostvars`.
#[derive(Debug, Default)]
pub struct Fleet {
    hosts: RwLock<IndexMap<String, HostVars>>,
    /// The `groups` magic variable, built once and shared by every host.
    groups: RwLock<Option<Value>>,
    /// `ansible_play_hosts`, `play_hosts`, ... for the current play and batch.
    play: RwLock<Option<(Value, Value)>>,
}

impl Fleet {
    pub fn new() -> Arc<Fleet> {
        Arc::new(Fleet::default())
    }

    /// Stores (or replaces) a host's snapshot and returns it linked to this fleet, so its
    /// templates can reach `hostvars`. Use the returned value from then on.
    pub fn insert(self: &Arc<Fleet>, vars: &HostVars) -> HostVars {
        let linked = vars.in_fleet(Arc::downgrade(self));
        self.hosts
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(linked.host().to_string(), linked.clone());
        linked
    }

    /// Sets `groups` (group name to its hosts, `all` included) for every host of the fleet.
    pub fn set_groups(&self, groups: &IndexMap<String, Vec<String>>) {
        *self.groups.write().unwrap_or_else(|e| e.into_inner()) = Some(Value::from_serialize(groups));
    }

    /// The shared `groups` value, if set.
    pub fn groups(&self) -> Option<Value> {
        self.groups.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Sets the current play's hosts and batch (`ansible_play_hosts`, `ansible_play_batch`,
    /// `play_hosts`, `ansible_play_hosts_all`), shared by every host instead of copied.
    pub fn set_play_hosts(&self, play_hosts: &[String], batch: &[String]) {
        *self.play.write().unwrap_or_else(|e| e.into_inner()) =
            Some((Value::from_serialize(play_hosts), Value::from_serialize(batch)));
    }

    /// A shared play magic variable by name.
    pub(crate) fn play_var(&self, name: &str) -> Option<Value> {
        let play = self.play.read().unwrap_or_else(|e| e.into_inner());
        let (hosts, batch) = play.as_ref()?;
        match name {
            "ansible_play_hosts" | "ansible_play_hosts_all" => Some(hosts.clone()),
            "ansible_play_batch" | "play_hosts" => Some(batch.clone()),
            _ => None,
        }
    }

    /// A host's latest snapshot.
    pub fn get(&self, host: &str) -> Option<HostVars> {
        self.hosts.read().unwrap_or_else(|e| e.into_inner()).get(host).cloned()
    }

    /// Host names in insertion (inventory) order.
    pub fn hosts(&self) -> Vec<String> {
        self.hosts.read().unwrap_or_else(|e| e.into_inner()).keys().cloned().collect()
    }
}

/// `hostvars` as templates see it: a mapping from host name to that host's lazy variables.
#[derive(Debug)]
pub(crate) struct FleetView(pub(crate) Weak<Fleet>);

impl Object for FleetView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let fleet = self.0.upgrade()?;
        fleet.get(key.as_str()?).map(|h| h.context())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match self.0.upgrade() {
            Some(fleet) => Enumerator::Values(fleet.hosts().into_iter().map(Value::from).collect()),
            None => Enumerator::Empty,
        }
    }
}
