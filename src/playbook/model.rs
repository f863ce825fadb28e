//! A playbook as Baton holds it after loading: typed plays, blocks and tasks, every value
//! that may hold a template kept as a JSON value with the source position it came from.

use serde_json::{Map, Value};

use crate::source::SourceLoc;

/// A value from the playbook and where it was written.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    pub value: T,
    pub loc: SourceLoc,
}

/// `when`, `changed_when`, `failed_when`, `until`: one expression or a list (all must hold).
pub type Conditions = Vec<Spanned<Value>>;

/// Keywords that plays, blocks and tasks share and that inherit downwards.
#[derive(Debug, Clone, Default)]
pub struct Common {
    pub name: Option<Spanned<String>>,
    pub when: Conditions,
    pub tags: Vec<String>,
    pub vars: Map<String, Value>,
    pub environment: Option<Spanned<Value>>,
    pub r#become: Option<Spanned<Value>>,
    pub become_user: Option<Spanned<Value>>,
    pub become_method: Option<Spanned<Value>>,
    pub remote_user: Option<Spanned<Value>>,
    pub connection: Option<Spanned<Value>>,
    pub port: Option<Spanned<Value>>,
    pub ignore_errors: Option<Spanned<Value>>,
    pub ignore_unreachable: Option<Spanned<Value>>,
    pub any_errors_fatal: Option<Spanned<Value>>,
    pub check_mode: Option<Spanned<Value>>,
    pub diff: Option<Spanned<Value>>,
    pub no_log: Option<Spanned<Value>>,
    pub run_once: Option<Spanned<Value>>,
    pub delegate_to: Option<Spanned<Value>>,
    pub delegate_facts: Option<Spanned<Value>>,
    pub throttle: Option<Spanned<Value>>,
    pub timeout: Option<Spanned<Value>>,
    pub module_defaults: Map<String, Value>,
}

/// How a task iterates.
#[derive(Debug, Clone)]
pub enum Loop {
    /// `loop:` with a list or an expression.
    Items(Spanned<Value>),
    /// `with_<lookup>:` (items, list, dict, fileglob, sequence, together, nested, subelements).
    Lookup { name: String, terms: Spanned<Value> },
}

/// `loop_control:`.
#[derive(Debug, Clone, Default)]
pub struct LoopControl {
    pub loop_var: Option<String>,
    pub index_var: Option<String>,
    pub label: Option<Value>,
    pub pause: Option<f64>,
    pub extended: bool,
}

/// A module call or another action (include_tasks, import_role, meta, ...).
#[derive(Debug, Clone)]
pub struct Action {
    /// The name as written (`copy`, `ansible.builtin.copy`).
    pub name: Spanned<String>,
    /// Arguments: a `k=v` string is already split into this map (free-form text under
    /// `_raw_params`); `args:` entries are merged in.
    pub args: Map<String, Value>,
}

/// One task.
#[derive(Debug, Clone)]
pub struct Task {
    pub common: Common,
    pub action: Action,
    /// `local_action:` (delegate to localhost).
    pub local: bool,
    pub r#loop: Option<Loop>,
    pub loop_control: LoopControl,
    pub register: Option<String>,
    pub until: Conditions,
    pub retries: Option<Spanned<Value>>,
    pub delay: Option<Spanned<Value>>,
    pub changed_when: Conditions,
    pub failed_when: Conditions,
    pub notify: Vec<String>,
    /// Handlers only: topics this handler also answers to.
    pub listen: Vec<String>,
    pub loc: SourceLoc,
}

/// A `block:` with its `rescue:` and `always:` sections.
#[derive(Debug, Clone)]
pub struct Block {
    pub common: Common,
    pub block: Vec<Item>,
    pub rescue: Vec<Item>,
    pub always: Vec<Item>,
    pub loc: SourceLoc,
}

/// An entry of a task list.
#[derive(Debug, Clone)]
pub enum Item {
    Task(Box<Task>),
    Block(Box<Block>),
}

/// A role reference in `roles:`.
#[derive(Debug, Clone)]
pub struct RoleRef {
    pub name: Spanned<String>,
    pub common: Common,
}

/// One play.
#[derive(Debug, Clone)]
pub struct Play {
    pub common: Common,
    pub hosts: Spanned<Value>,
    pub vars_files: Vec<Spanned<Value>>,
    /// `vars_prompt:` entries (`name`, `prompt`, `default`, `private`), asked once per play.
    pub vars_prompt: Vec<Spanned<Value>>,
    pub roles: Vec<RoleRef>,
    pub pre_tasks: Vec<Item>,
    pub tasks: Vec<Item>,
    pub post_tasks: Vec<Item>,
    pub handlers: Vec<Item>,
    pub gather_facts: Option<Spanned<Value>>,
    pub gather_subset: Option<Spanned<Value>>,
    pub serial: Option<Spanned<Value>>,
    pub strategy: Option<Spanned<String>>,
    pub order: Option<Spanned<String>>,
    pub max_fail_percentage: Option<Spanned<Value>>,
    pub force_handlers: Option<Spanned<Value>>,
    /// Baton's rollout policy, health checks and rollback tasks (see [`super::rollout`]).
    pub rollout: Option<super::rollout::Rollout>,
    pub health_checks: Vec<super::rollout::HealthCheck>,
    pub rollback: Vec<Item>,
    pub loc: SourceLoc,
}

/// A playbook file: plays, and `import_playbook` entries already expanded in order.
#[derive(Debug, Clone, Default)]
pub struct Playbook {
    pub plays: Vec<Play>,
}
