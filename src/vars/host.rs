//! One host's variables: an immutable snapshot of its layers. Adding a layer makes a new
//! snapshot (cheap: layers are shared `Arc`s) with a fresh cache, so resolved values never go
//! stale and snapshots can be shared freely between tasks and threads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use indexmap::IndexMap;

use super::fleet::Fleet;
use super::layers::{Layer, VarMap};
use crate::template::{TemplateError, Templater, convert};

/// A host's variables, layered and lazily templated. Cloning is cheap.
#[derive(Clone)]
pub struct HostVars(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) host: String,
    pub(crate) templater: Arc<Templater>,
    pub(crate) fleet: Weak<Fleet>,
    pub(crate) layers: [Arc<VarMap>; Layer::ALL.len()],
    /// Resolved (templated) values by name; only successes are kept.
    pub(crate) cache: Mutex<HashMap<String, minijinja::Value>>,
}

impl std::fmt::Debug for HostVars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostVars").field("host", &self.0.host).finish_non_exhaustive()
    }
}

impl HostVars {
    /// A host with only its connection default (`ansible_host` = its name) and its
    /// `inventory_hostname`/`inventory_hostname_short`.
    pub fn new(templater: Arc<Templater>, host: impl Into<String>) -> HostVars {
        let host = host.into();
        let mut layers: [Arc<VarMap>; Layer::ALL.len()] = Default::default();
        layers[Layer::Defaults.index()] =
            Arc::new(super::magic::connection_defaults(&host, None, None, None));
        layers[Layer::Magic.index()] = Arc::new(super::magic::host_magic(&host, &[]));
        HostVars(Arc::new(Inner {
            host,
            templater,
            fleet: Weak::new(),
            layers,
            cache: Mutex::new(HashMap::new()),
        }))
    }

    fn rebuild(&self, layers: [Arc<VarMap>; Layer::ALL.len()], fleet: Weak<Fleet>) -> HostVars {
        HostVars(Arc::new(Inner {
            host: self.0.host.clone(),
            templater: self.0.templater.clone(),
            fleet,
            layers,
            cache: Mutex::new(HashMap::new()),
        }))
    }

    /// A snapshot with `layer` replaced by `vars` (play vars per play, task vars per task).
    #[must_use]
    pub fn with_layer(&self, layer: Layer, vars: VarMap) -> HostVars {
        let mut layers = self.0.layers.clone();
        layers[layer.index()] = Arc::new(vars);
        self.rebuild(layers, self.0.fleet.clone())
    }

    /// A snapshot with `vars` merged into `layer`, later names winning (`register`,
    /// `set_fact`, magic vars added as the run learns them).
    #[must_use]
    pub fn with_vars(
        &self,
        layer: Layer,
        vars: impl IntoIterator<Item = (String, serde_json::Value)>,
    ) -> HostVars {
        let mut layers = self.0.layers.clone();
        let mut merged = (*layers[layer.index()]).clone();
        merged.extend(vars);
        layers[layer.index()] = Arc::new(merged);
        self.rebuild(layers, self.0.fleet.clone())
    }

    /// A snapshot with one more variable in `layer`.
    #[must_use]
    pub fn with_var(&self, layer: Layer, name: impl Into<String>, value: serde_json::Value) -> HostVars {
        self.with_vars(layer, [(name.into(), value)])
    }

    pub(crate) fn in_fleet(&self, fleet: Weak<Fleet>) -> HostVars {
        self.rebuild(self.0.layers.clone(), fleet)
    }

    pub fn host(&self) -> &str {
        &self.0.host
    }

    pub fn templater(&self) -> &Arc<Templater> {
        &self.0.templater
    }

    /// One layer's variables as given (not templated).
    pub fn layer(&self, layer: Layer) -> &VarMap {
        &self.0.layers[layer.index()]
    }

    /// The winning raw (untemplated) value of a variable and the layer it comes from.
    pub fn raw(&self, name: &str) -> Option<(&serde_json::Value, Layer)> {
        Layer::ALL.iter().rev().find_map(|&l| self.0.layers[l.index()].get(name).map(|v| (v, l)))
    }

    /// Every variable name, in first-definition order from the lowest layer up.
    pub fn names(&self) -> Vec<String> {
        let mut seen = indexmap::IndexSet::new();
        for l in Layer::ALL {
            for k in self.0.layers[l.index()].keys() {
                seen.insert(k.clone());
            }
        }
        seen.into_iter().collect()
    }

    /// The lazy template context for this host: look-ups template the variable on first use.
    pub fn context(&self) -> minijinja::Value {
        minijinja::Value::from_object(self.clone())
    }

    /// Templates `value` (task arguments, `msg:`, ...) with this host's variables.
    pub fn render(&self, value: &serde_json::Value) -> Result<serde_json::Value, TemplateError> {
        self.0.templater.render_value(value, &self.context())
    }

    /// Evaluates a `when:`-style condition with this host's variables.
    pub fn condition(&self, cond: &serde_json::Value) -> Result<bool, TemplateError> {
        self.0.templater.eval_when(cond, &self.context())
    }

    /// The fleet this host belongs to, for `hostvars`.
    pub fn fleet(&self) -> Option<Arc<Fleet>> {
        self.0.fleet.upgrade()
    }
}

/// One variable, fully templated; `None` when no layer defines it.
pub fn get(vars: &HostVars, name: &str) -> Result<Option<serde_json::Value>, TemplateError> {
    match vars.lookup(name)? {
        Some(v) => Ok(Some(convert::to_json(&v).map_err(|e| e.via(name))?)),
        None => Ok(None),
    }
}

/// Every variable of the host, templated, in definition order (for `baton inventory --host`
/// and debugging). The first failing variable stops it.
pub fn resolve_all(vars: &HostVars) -> Result<IndexMap<String, serde_json::Value>, TemplateError> {
    let mut out = IndexMap::new();
    for name in vars.names() {
        if let Some(v) = get(vars, &name)? {
            out.insert(name, v);
        }
    }
    Ok(out)
}
