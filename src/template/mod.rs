//! Templates: Ansible's Jinja dialect on minijinja.
//!
//! One [`Templater`] per run owns the configured environment (filters, tests, Ansible's
//! settings); everything that templates (the engine, modules, `when:`) shares it through an
//! `Arc`. Values outside the engine are `serde_json::Value`; [`convert`] crosses the border.

// `TemplateError` carries its source text for miette; errors are rare and not on a hot path.
#![allow(clippy::result_large_err)]

pub mod convert;
pub mod error;
pub mod file_options;
pub mod filters;
pub mod format;
pub mod literals;
pub mod lookups;
pub mod templater;
pub mod tests;
pub mod version;
mod yaml_shim;

pub use error::{TemplateError, TemplateErrorKind};
pub use file_options::FileOptions;
pub use templater::{OMIT, Templater, is_template};

/// Parses a YAML (or JSON) file into a value; used by `-e @file`.
pub(crate) use yaml_shim::parse_source as yaml_text;
