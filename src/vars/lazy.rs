//! The template context object: a variable is templated on first look-up and cached; a
//! variable that (indirectly) needs itself is reported as a cycle naming every step.

use std::cell::RefCell;
use std::sync::Arc;

use minijinja::Value;
use minijinja::value::{Enumerator, Object, ObjectRepr};

use super::fleet::FleetView;
use super::host::HostVars;
use crate::template::TemplateError;

thread_local! {
    /// Variables being resolved on this thread right now, as (snapshot address, name).
    /// Rendering is synchronous, so a nested look-up always happens on the same thread.
    static RESOLVING: RefCell<Vec<(usize, String)>> = const { RefCell::new(Vec::new()) };
}

/// Pops the resolution stack even when resolution fails.
struct Resolving;

impl Drop for Resolving {
    fn drop(&mut self) {
        RESOLVING.with(|r| {
            r.borrow_mut().pop();
        });
    }
}

impl HostVars {
    /// Resolves one variable: from the cache, or by templating its raw value now.
    pub(crate) fn lookup(&self, name: &str) -> Result<Option<Value>, TemplateError> {
        if let Some(v) = self.0.cache.lock().unwrap_or_else(|e| e.into_inner()).get(name) {
            return Ok(Some(v.clone()));
        }
        let Some((raw, layer)) = self.raw(name) else {
            return Ok(self.special(name));
        };
        if !layer.is_templated() || !needs_templating(raw) {
            let v = crate::template::convert::to_mj(raw);
            self.remember(name, &v);
            return Ok(Some(v));
        }
        let me = (Arc::as_ptr(&self.0) as usize, name.to_string());
        let cycle = RESOLVING.with(|r| {
            let r = r.borrow();
            r.iter().position(|k| *k == me).map(|start| {
                let mut chain: Vec<String> = r[start..].iter().map(|(_, n)| n.clone()).collect();
                chain.push(name.to_string());
                chain
            })
        });
        if let Some(chain) = cycle {
            return Err(TemplateError::cycle(chain));
        }
        RESOLVING.with(|r| r.borrow_mut().push(me));
        let guard = Resolving;
        let result = self.0.templater.render_value_mj(raw, &self.context());
        drop(guard);
        match result {
            Ok(v) => {
                self.remember(name, &v);
                Ok(Some(v))
            }
            Err(e) if matches!(e.kind, crate::template::TemplateErrorKind::Cycle(_)) => Err(e),
            Err(e) => Err(e.via(name)),
        }
    }

    fn remember(&self, name: &str, v: &Value) {
        self.0.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(name.to_string(), v.clone());
    }

    /// Names that exist without a layer: `hostvars` (every host, lazily), `vars` (this
    /// host's own variables as a mapping), `groups` and the play's host lists (shared by the
    /// fleet).
    fn special(&self, name: &str) -> Option<Value> {
        match name {
            "hostvars" => Some(Value::from_object(FleetView(self.0.fleet.clone()))),
            "vars" => Some(self.context()),
            "groups" => self.0.fleet.upgrade().and_then(|f| f.groups()),
            "ansible_play_hosts" | "ansible_play_hosts_all" | "ansible_play_batch" | "play_hosts" => {
                self.0.fleet.upgrade().and_then(|f| f.play_var(name))
            }
            _ => None,
        }
    }
}

/// Whether any string inside a raw value holds template syntax.
fn needs_templating(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => crate::template::is_template(s),
        serde_json::Value::Array(items) => items.iter().any(needs_templating),
        serde_json::Value::Object(m) => {
            m.iter().any(|(k, v)| crate::template::is_template(k) || needs_templating(v))
        }
        _ => false,
    }
}

impl Object for HostVars {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let name = key.as_str()?;
        match self.lookup(name) {
            Ok(v) => v,
            // An invalid value carries the error out through minijinja to the outer render.
            Err(e) => Some(Value::from(e.into_minijinja())),
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.names().into_iter().map(Value::from).collect())
    }
}
