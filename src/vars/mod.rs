//! Per-host variables: layers with Ansible's precedence, resolved lazily through templates.
//!
//! The engine builds one [`HostVars`] per host (inventory vars, magic vars, extra vars), puts
//! them in a [`Fleet`] so `hostvars['web2']` works, and adds layers cheaply as the run goes on
//! (play vars, task vars, `register`/`set_fact`, the loop item). A variable that holds a
//! template (`releases: "{{ app_root }}/releases"`) is rendered on first use, cached, and a
//! loop between variables is reported by name.

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
