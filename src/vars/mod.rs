//! Per-host variables: layers with Ansible's precedence, resolved lazily through templates.
//!
//! The engine builds one [`HostVars`] per host (inventory vars, magic vars, extra vars), puts
//! them in a [`Fleet`] so `hostvars['web2']` works, and adds layers cheaply as the run goes on
//! (play vars, task vars, `register`/`set_fact`, the loop item). A variable that holds a
//! template (`releases: "{{ app_root }}/releases"`) is rendered on first use, cached, and a
//! loop between variables is reported by name.
//!
//! ```
//! use std::sync::Arc;
//! use baton::template::Templater;
//! use baton::vars::{Fleet, HostVars, Layer, VarMap, magic};
//! use serde_json::json;
//!
//! let templater = Arc::new(Templater::new());
//! let fleet = Fleet::new();
//! let inventory: VarMap = [("app_root".to_string(), json!("/srv/app")),
//!                          ("releases".to_string(), json!("{{ app_root }}/releases"))].into_iter().collect();
//! let web1 = HostVars::new(templater.clone(), "web1")
//!     .with_layer(Layer::Inventory, inventory)
//!     .with_vars(Layer::Magic, magic::host_magic("web1", &["web".to_string()]));
//! let web1 = fleet.insert(&web1); // from now on `hostvars['web1']` works for every host
//!
//! // Per task: task vars in their layer, arguments rendered, `when:` evaluated.
//! let task = web1.with_layer(Layer::Task, [("dir".to_string(), json!("{{ releases }}/1"))].into_iter().collect());
//! assert_eq!(task.render(&json!({"path": "{{ dir }}"})).unwrap(), json!({"path": "/srv/app/releases/1"}));
//! assert!(task.condition(&json!("'web' in group_names")).unwrap());
//!
//! // `register:` / `set_fact:` go to the facts layer and are published to the fleet.
//! let web1 = fleet.insert(&web1.with_var(Layer::Facts, "out", json!({"rc": 0})));
//! assert!(web1.condition(&json!("out.rc == 0")).unwrap());
//! ```

// `TemplateError` carries its source text for miette; errors are rare and not on a hot path.
#![allow(clippy::result_large_err)]

pub mod extra;
pub mod fleet;
pub mod host;
pub mod layers;
mod lazy;
pub mod magic;

pub use extra::{ExtraVarsError, parse_extra, parse_extra_all};
pub use fleet::Fleet;
pub use host::{HostVars, get, resolve_all};
pub use layers::{Layer, VarMap};

#[cfg(test)]
mod tests;
