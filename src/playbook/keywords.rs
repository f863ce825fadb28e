//! The keywords Ansible accepts on plays, blocks and tasks; anything else on a task must be
//! the one module (or action) it runs.

/// Keywords every level shares (they go into [`super::model::Common`]).
pub const COMMON: &[&str] = &[
    "any_errors_fatal",
    "become",
    "become_exe",
    "become_flags",
    "become_method",
    "become_user",
    "check_mode",
    "collections",
    "connection",
    "debugger",
    "delegate_facts",
    "delegate_to",
    "diff",
    "environment",
    "ignore_errors",
    "ignore_unreachable",
    "module_defaults",
    "name",
    "no_log",
    "port",
    "remote_user",
    "run_once",
    "tags",
    "throttle",
    "timeout",
    "vars",
    "when",
];

/// Keywords only tasks (and handlers) have.
pub const TASK: &[&str] = &[
    "action",
    "args",
    "async",
    "changed_when",
    "delay",
    "failed_when",
    "listen",
    "local_action",
    "loop",
    "loop_control",
    "notify",
    "poll",
    "register",
    "retries",
    "until",
];

/// Keywords only blocks have.
pub const BLOCK: &[&str] = &["always", "block", "rescue"];

/// Keywords only plays have.
pub const PLAY: &[&str] = &[
    "fact_path",
    "force_handlers",
    "gather_facts",
    "gather_subset",
    "gather_timeout",
    "handlers",
    "health_checks",
    "hosts",
    "max_fail_percentage",
    "order",
    "post_tasks",
    "pre_tasks",
    "roles",
    "rollback",
    "rollout",
    "serial",
    "strategy",
    "tasks",
    "vars_files",
    "vars_prompt",
];

/// Loop lookups Baton supports as `with_<name>`.
pub const WITH_LOOKUPS: &[&str] = &[
    "dict",
    "env",
    "file",
    "fileglob",
    "first_found",
    "indexed_items",
    "items",
    "lines",
    "list",
    "nested",
    "password",
    "pipe",
    "sequence",
    "subelements",
    "template",
    "together",
    "vars",
];
