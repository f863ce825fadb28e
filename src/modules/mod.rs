//! What a task does on a host.
//!
//! A module is one file: its parameters (typed, unknown keys refused with a suggestion), how it
//! reads the current state, a pure function from (params, state) to what must change, and its
//! unit tests. The registry below is the one alphabetized list of every module, and the YAML
//! name, the file name and the module name are the same word.

pub mod apt;
pub mod args;
pub mod assemble;
pub mod authorized_key;
pub mod blockinfile;
pub mod calendar;
pub mod command;
pub mod context;
pub mod copy;
pub mod cron;
pub mod custom;
pub mod dnf;
pub mod error;
pub mod fetch;
pub mod file;
pub mod fileinfo;
pub mod find;
pub mod get_url;
pub mod git;
pub mod group;
pub mod hostname;
pub mod http_client;
pub mod lineinfile;
pub mod mode;
pub mod one_trip_write;
pub mod package;
pub mod ping;
pub mod plan;
pub mod raw;
pub mod release;
pub mod replace;
pub mod run_command;
pub mod script;
pub mod service;
pub mod setup;
pub mod shell;
pub mod slurp;
pub mod stat;
pub mod sysctl;
pub mod systemd_service;
pub mod tempfile;
pub mod template;
pub mod text_edit;
pub mod unarchive;
pub mod uri;
pub mod user;
pub mod wait_for;

use std::future::Future;
use std::pin::Pin;

pub use args::ModuleArgs;
pub use context::{Controller, ModuleCtx, SearchKind};
pub use error::ModuleError;

use crate::event::TaskResult;

/// A module's entry point: validated arguments in, a result out.
pub type RunFn = for<'a> fn(
    &'a ModuleCtx<'a>,
    ModuleArgs,
) -> Pin<Box<dyn Future<Output = Result<TaskResult, ModuleError>> + Send + 'a>>;

/// A module's entry point for a whole loop on one host: every item's arguments in, every
/// item's result out, in order. A module offers it when it can do the items' work in fewer
/// round trips than one task per item (see `file`); it decides per call whether it can.
pub type LoopFn = for<'a> fn(
    &'a ModuleCtx<'a>,
    Vec<ModuleArgs>,
) -> Pin<
    Box<dyn Future<Output = Result<Vec<Result<TaskResult, ModuleError>>, ModuleError>> + Send + 'a>,
>;

/// One registered module.
pub struct ModuleDef {
    /// The YAML name (also the file name).
    pub name: &'static str,
    /// Takes a free-form string (`shell: echo hi`), as Ansible's command/shell/raw do.
    pub free_form: bool,
    /// Every parameter the module accepts, for validation and "did you mean".
    pub params: &'static [&'static str],
    pub run: RunFn,
    /// The whole-loop entry point, for modules that have one.
    pub run_loop: Option<LoopFn>,
}

/// Every module Baton has, alphabetized.
pub static REGISTRY: &[&ModuleDef] = &[
    &apt::MODULE,
    &assemble::MODULE,
    &authorized_key::MODULE,
    &blockinfile::MODULE,
    &command::MODULE,
    &copy::MODULE,
    &cron::MODULE,
    &dnf::MODULE,
    &fetch::MODULE,
    &file::MODULE,
    &find::MODULE,
    &get_url::MODULE,
    &git::MODULE,
    &group::MODULE,
    &hostname::MODULE,
    &lineinfile::MODULE,
    &package::MODULE,
    &ping::MODULE,
    &raw::MODULE,
    &release::MODULE,
    &replace::MODULE,
    &script::MODULE,
    &service::MODULE,
    &setup::MODULE,
    &shell::MODULE,
    &slurp::MODULE,
    &stat::MODULE,
    &sysctl::MODULE,
    &systemd_service::MODULE,
    &tempfile::MODULE,
    &template::MODULE,
    &unarchive::MODULE,
    &uri::MODULE,
    &user::MODULE,
    &wait_for::MODULE,
];

/// Other names Ansible accepts for a registered module (`systemd` is `systemd_service`).
pub static ALIASES: &[(&str, &str)] = &[("systemd", "systemd_service")];

/// Finds a module by its short or fully qualified name (`copy`, `ansible.builtin.copy`,
/// `ansible.legacy.copy`).
pub fn lookup(name: &str) -> Result<&'static ModuleDef, ModuleError> {
    let short = name
        .strip_prefix("ansible.builtin.")
        .or_else(|| name.strip_prefix("ansible.legacy."))
        .unwrap_or(name);
    let short = ALIASES.iter().find(|(alias, _)| *alias == short).map_or(short, |(_, target)| target);
    REGISTRY.iter().copied().find(|m| m.name == short).ok_or_else(|| ModuleError::UnknownModule {
        name: name.to_string(),
        suggestion: closest(short, REGISTRY.iter().map(|m| m.name).chain(ALIASES.iter().map(|(a, _)| *a))),
    })
}

/// The closest candidate by edit distance, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

impl std::fmt::Debug for ModuleDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ModuleDef({})", self.name)
    }
}

/// Boxes a module's async function into a [`RunFn`].
#[macro_export]
macro_rules! module_entry {
    ($f:path) => {{
        fn entry<'a>(
            ctx: &'a $crate::modules::ModuleCtx<'a>,
            args: $crate::modules::ModuleArgs,
        ) -> ::std::pin::Pin<
            Box<
                dyn ::std::future::Future<
                        Output = Result<$crate::event::TaskResult, $crate::modules::ModuleError>,
                    > + Send
                    + 'a,
            >,
        > {
            Box::pin($f(ctx, args))
        }
        entry
    }};
}

/// Boxes a module's async whole-loop function into a [`LoopFn`].
#[macro_export]
macro_rules! loop_entry {
    ($f:path) => {{
        fn entry<'a>(
            ctx: &'a $crate::modules::ModuleCtx<'a>,
            items: Vec<$crate::modules::ModuleArgs>,
        ) -> ::std::pin::Pin<
            Box<
                dyn ::std::future::Future<
                        Output = Result<
                            Vec<Result<$crate::event::TaskResult, $crate::modules::ModuleError>>,
                            $crate::modules::ModuleError,
                        >,
                    > + Send
                    + 'a,
            >,
        > {
            Box::pin($f(ctx, items))
        }
        entry
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_alphabetized_and_names_are_unique() {
        let names: Vec<_> = REGISTRY.iter().map(|m| m.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
    }

    #[test]
    fn fqcn_names_resolve() {
        assert_eq!(lookup("ansible.builtin.shell").unwrap().name, "shell");
        assert_eq!(lookup("ansible.legacy.command").unwrap().name, "command");
    }

    #[test]
    fn unknown_module_suggests_the_closest() {
        let err = lookup("shel").unwrap_err();
        assert!(err.to_string().contains("did you mean `shell`"), "{err}");
    }
}
