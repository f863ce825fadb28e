//! From YAML nodes to the typed playbook: keywords checked, the module found, `k=v` strings
//! split, `import_playbook` followed. Nothing loosely typed leaves this file.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::error::PlaybookError;
use super::keywords::{BLOCK, COMMON, PLAY, TASK, WITH_LOOKUPS};
use super::model::{
    Action, Block, Common, Conditions, Item, Loop, LoopControl, Play, Playbook, RoleRef, Spanned, Task,
};
use crate::modules::{self, ModuleArgs, closest};
use crate::yaml::{self, Node, NodeValue};

/// Actions that are not modules but that the engine carries out itself.
pub const ENGINE_ACTIONS: &[&str] = &[
    "add_host",
    "assert",
    "debug",
    "fail",
    "group_by",
    "import_playbook",
    "import_role",
    "import_tasks",
    "include",
    "include_role",
    "include_tasks",
    "include_vars",
    "meta",
    "pause",
    "set_fact",
    "set_stats",
    "wait_for_connection",
];

/// Loads a playbook file, following `import_playbook` relative to the importing file.
pub fn load_playbook(path: &Path) -> Result<Playbook, PlaybookError> {
    let mut playbook = Playbook::default();
    load_into(path, &mut playbook, 0)?;
    Ok(playbook)
}

fn load_into(path: &Path, playbook: &mut Playbook, depth: usize) -> Result<(), PlaybookError> {
    let root = yaml::parse_file(path)?;
    let NodeValue::Seq(entries) = &root.value else {
        return Err(PlaybookError::at(
            &root.loc,
            "a playbook must be a list of plays",
            "expected a list here",
        ));
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    for entry in entries {
        let map = as_map(entry, "a play")?;
        if let Some(target) = find_key(map, &["import_playbook", "ansible.builtin.import_playbook"]) {
            let file = str_of(target)?;
            if depth > 32 {
                return Err(PlaybookError::at(
                    &target.loc,
                    "import_playbook nests too deep (a cycle?)",
                    "here",
                ));
            }
            load_into(&dir.join(&file.value), playbook, depth + 1)?;
            continue;
        }
        playbook.plays.push(play(entry)?);
    }
    Ok(())
}

/// One play.
pub fn play(node: &Node) -> Result<Play, PlaybookError> {
    let map = as_map(node, "a play")?;
    check_keys(map, &[COMMON, PLAY], "play")?;
    let hosts = find_key(map, &["hosts"])
        .ok_or_else(|| PlaybookError::at(&node.loc, "this play has no `hosts`", "a play needs `hosts:`"))?;
    Ok(Play {
        common: common(map)?,
        hosts: spanned(hosts),
        vars_files: list_of(map, "vars_files")?,
        vars_prompt: list_of(map, "vars_prompt")?,
        roles: match find_key(map, &["roles"]) {
            Some(n) => seq(n)?.iter().map(role_ref).collect::<Result<_, _>>()?,
            None => Vec::new(),
        },
        pre_tasks: items_of(map, "pre_tasks")?,
        tasks: items_of(map, "tasks")?,
        post_tasks: items_of(map, "post_tasks")?,
        handlers: items_of(map, "handlers")?,
        gather_facts: opt(map, "gather_facts"),
        gather_subset: opt(map, "gather_subset"),
        serial: opt(map, "serial"),
        strategy: opt_str(map, "strategy")?,
        order: opt_str(map, "order")?,
        max_fail_percentage: opt(map, "max_fail_percentage"),
        force_handlers: opt(map, "force_handlers"),
        rollout: match find_key(map, &["rollout"]) {
            Some(n) => Some(typed(n, "`rollout`")?),
            None => None,
        },
        health_checks: match find_key(map, &["health_checks"]) {
            Some(n) => seq(n)?
                .iter()
                .map(|c| {
                    let check: super::rollout::HealthCheck = typed(c, "a health check")?;
                    check.validate().map_err(|m| PlaybookError::at(&c.loc, m, "this check"))?;
                    Ok(check)
                })
                .collect::<Result<_, PlaybookError>>()?,
            None => Vec::new(),
        },
        rollback: items_of(map, "rollback")?,
        loc: node.loc.clone(),
    })
}

/// A node read into a typed value; serde's message (unknown field, wrong type) at the node.
fn typed<T: serde::de::DeserializeOwned>(node: &Node, what: &str) -> Result<T, PlaybookError> {
    serde_json::from_value(node.to_json())
        .map_err(|e| PlaybookError::at(&node.loc, format!("invalid {what}: {e}"), "here"))
}

pub fn role_ref(node: &Node) -> Result<RoleRef, PlaybookError> {
    match &node.value {
        NodeValue::Str(name) => Ok(RoleRef {
            name: Spanned { value: name.clone(), loc: node.loc.clone() },
            common: Common::default(),
        }),
        NodeValue::Map(map) => {
            let name = find_key(map, &["role", "name"])
                .ok_or_else(|| PlaybookError::at(&node.loc, "a role entry needs `role:`", "no role name"))?;
            let mut c = common(map)?;
            // Role parameters (anything that is not a keyword) become role vars, as in Ansible.
            for (k, v) in map {
                let key = key_str(k)?;
                if key != "role" && key != "name" && !COMMON.contains(&key) {
                    c.vars.insert(key.to_string(), v.to_json());
                }
            }
            Ok(RoleRef { name: str_of(name)?, common: c })
        }
        _ => Err(PlaybookError::at(&node.loc, "a role entry must be a name or a mapping", "here")),
    }
}

/// A task list (tasks, handlers, block sections, included task files).
pub fn items(node: &Node) -> Result<Vec<Item>, PlaybookError> {
    match &node.value {
        NodeValue::Null => Ok(Vec::new()),
        NodeValue::Seq(entries) => entries.iter().map(item).collect(),
        _ => Err(PlaybookError::at(&node.loc, "expected a list of tasks", "not a list")),
    }
}

fn item(node: &Node) -> Result<Item, PlaybookError> {
    let map = as_map(node, "a task")?;
    if find_key(map, &["block"]).is_some() {
        check_keys(map, &[COMMON, BLOCK], "block")?;
        return Ok(Item::Block(Box::new(Block {
            common: common(map)?,
            block: items_of(map, "block")?,
            rescue: items_of(map, "rescue")?,
            always: items_of(map, "always")?,
            loc: node.loc.clone(),
        })));
    }
    Ok(Item::Task(Box::new(task(node, map)?)))
}

fn task(node: &Node, map: &[(Node, Node)]) -> Result<Task, PlaybookError> {
    let mut action: Option<(Spanned<String>, &Node)> = None;
    let mut with: Option<Loop> = None;
    let mut local = false;
    for (k, v) in map {
        let key = key_str(k)?;
        if COMMON.contains(&key) || TASK.contains(&key) && key != "action" && key != "local_action" {
            continue;
        }
        if let Some(lookup) = key.strip_prefix("with_") {
            if !WITH_LOOKUPS.contains(&lookup) {
                return Err(PlaybookError::at(
                    &k.loc,
                    format!("unknown loop `{key}`"),
                    "not a loop Baton knows",
                )
                .with_help(
                    closest(lookup, WITH_LOOKUPS.iter().copied())
                        .map(|s| format!("did you mean `with_{s}`?")),
                ));
            }
            with = Some(Loop::Lookup { name: lookup.to_string(), terms: spanned(v) });
            continue;
        }
        let (name, args_node) = if key == "action" || key == "local_action" {
            local = key == "local_action";
            action_from_action_keyword(v)?
        } else {
            (Spanned { value: key.to_string(), loc: k.loc.clone() }, v)
        };
        if let Some((first, _)) = &action {
            return Err(PlaybookError::at(
                &name.loc,
                format!("conflicting action statements: `{}`, `{}`", first.value, name.value),
                "a second module in the same task",
            )
            .with_help(Some("a task runs one module; split it into two tasks".into())));
        }
        action = Some((name, args_node));
    }
    let Some((name, args_node)) = action else {
        return Err(PlaybookError::at(
            &node.loc,
            "no module or action found in this task",
            "this task does nothing",
        ));
    };
    let mut args = action_args(&name, args_node)?;
    if let Some(extra) = find_key(map, &["args"]) {
        for (k, v) in as_map(extra, "`args`")? {
            args.insert(key_str(k)?.to_string(), v.to_json());
        }
    }
    let r#loop = match (find_key(map, &["loop"]), with) {
        (Some(l), None) => Some(Loop::Items(spanned(l))),
        (None, w) => w,
        (Some(l), Some(_)) => {
            return Err(PlaybookError::at(
                &l.loc,
                "`loop` and `with_*` cannot be used together",
                "one of them",
            ));
        }
    };
    Ok(Task {
        common: common(map)?,
        action: Action { name, args },
        local,
        r#loop,
        loop_control: loop_control(map)?,
        register: opt_str(map, "register")?.map(|s| s.value),
        until: conditions(map, "until"),
        retries: opt(map, "retries"),
        delay: opt(map, "delay"),
        changed_when: conditions(map, "changed_when"),
        failed_when: conditions(map, "failed_when"),
        notify: string_list(map, "notify")?,
        listen: string_list(map, "listen")?,
        loc: node.loc.clone(),
    })
}

/// `action: copy src=a dest=b` or `local_action: { module: copy, src: a }`.
fn action_from_action_keyword(v: &Node) -> Result<(Spanned<String>, &Node), PlaybookError> {
    match &v.value {
        NodeValue::Str(s) => {
            let name = s.split_whitespace().next().unwrap_or_default().to_string();
            Ok((Spanned { value: name, loc: v.loc.clone() }, v))
        }
        NodeValue::Map(m) => {
            let module = find_key(m, &["module"])
                .ok_or_else(|| PlaybookError::at(&v.loc, "`action` needs a `module:` key", "here"))?;
            Ok((str_of(module)?, v))
        }
        _ => Err(PlaybookError::at(&v.loc, "`action` must be a string or a mapping", "here")),
    }
}

/// The module's arguments from its value: a mapping, a `k=v` string, or nothing.
fn action_args(name: &Spanned<String>, node: &Node) -> Result<Map<String, Value>, PlaybookError> {
    let short = short_name(&name.value);
    let engine_action = ENGINE_ACTIONS.contains(&short);
    let custom = !engine_action
        && modules::lookup(&name.value).is_err()
        && super::library::find(short, &name.loc.file.path).is_some();
    let def = if engine_action || custom {
        None
    } else {
        Some(
            modules::lookup(&name.value)
                .map_err(|e| PlaybookError::at(&name.loc, e.to_string(), "unknown module"))?,
        )
    };
    match &node.value {
        NodeValue::Null => Ok(Map::new()),
        NodeValue::Map(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = key_str(k)?;
                if key != "module" {
                    out.insert(key.to_string(), v.to_json());
                }
            }
            if let Some(def) = def {
                ModuleArgs(out.clone())
                    .validate(def)
                    .map_err(|e| PlaybookError::at(&node.loc, e.to_string(), "in these arguments"))?;
            }
            Ok(out)
        }
        NodeValue::Str(text) => {
            // `action: copy src=a` carries the module name first.
            let text = if node.loc.offset == name.loc.offset {
                text.trim_start_matches(short).trim_start()
            } else {
                text
            };
            match def {
                Some(def) => {
                    let args = ModuleArgs::parse_kv(def, text)
                        .and_then(|a| a.validate(def).map(|()| a))
                        .map_err(|e| PlaybookError::at(&node.loc, e.to_string(), "in these arguments"))?;
                    Ok(args.0)
                }
                None if custom || kv_action(short, text) => {
                    let mut m = Map::new();
                    for token in modules::args::split_args(text) {
                        match token.split_once('=') {
                            Some((k, v)) => m.insert(
                                k.to_string(),
                                Value::String(v.trim_matches(['"', '\'']).to_string()),
                            ),
                            None => {
                                m.insert(modules::args::RAW_PARAMS.into(), Value::String(token.to_string()))
                            }
                        };
                    }
                    Ok(m)
                }
                None => {
                    let mut m = Map::new();
                    m.insert(modules::args::RAW_PARAMS.into(), Value::String(text.to_string()));
                    Ok(m)
                }
            }
        }
        other => {
            let mut m = Map::new();
            m.insert(modules::args::RAW_PARAMS.into(), node.to_json());
            let _ = other;
            Ok(m)
        }
    }
}

/// Whether an engine action's string form is `k=v` arguments (`debug: msg="hi"`,
/// `set_fact: a=1`) rather than free-form text (`include_tasks: x.yml`, `meta: noop`).
fn kv_action(action: &str, text: &str) -> bool {
    if matches!(action, "meta" | "import_playbook") {
        return false;
    }
    let tokens = modules::args::split_args(text);
    !tokens.is_empty()
        && tokens.iter().all(|t| {
            t.split_once('=')
                .is_some_and(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_alphanumeric() || c == '_'))
        })
}

/// `ansible.builtin.copy` → `copy`.
pub fn short_name(name: &str) -> &str {
    name.strip_prefix("ansible.builtin.").or_else(|| name.strip_prefix("ansible.legacy.")).unwrap_or(name)
}

fn common(map: &[(Node, Node)]) -> Result<Common, PlaybookError> {
    let mut c = Common {
        name: opt_str(map, "name")?,
        when: conditions(map, "when"),
        tags: string_list(map, "tags")?,
        environment: opt(map, "environment"),
        r#become: opt(map, "become"),
        become_user: opt(map, "become_user"),
        become_method: opt(map, "become_method"),
        remote_user: opt(map, "remote_user"),
        connection: opt(map, "connection"),
        port: opt(map, "port"),
        ignore_errors: opt(map, "ignore_errors"),
        ignore_unreachable: opt(map, "ignore_unreachable"),
        any_errors_fatal: opt(map, "any_errors_fatal"),
        check_mode: opt(map, "check_mode"),
        diff: opt(map, "diff"),
        no_log: opt(map, "no_log"),
        run_once: opt(map, "run_once"),
        delegate_to: opt(map, "delegate_to"),
        delegate_facts: opt(map, "delegate_facts"),
        throttle: opt(map, "throttle"),
        timeout: opt(map, "timeout"),
        ..Common::default()
    };
    if let Some(vars) = find_key(map, &["vars"]) {
        c.vars = json_map(vars, "`vars`")?;
    }
    if let Some(defaults) = find_key(map, &["module_defaults"]) {
        c.module_defaults = json_map(defaults, "`module_defaults`")?;
    }
    Ok(c)
}

fn loop_control(map: &[(Node, Node)]) -> Result<LoopControl, PlaybookError> {
    let Some(node) = find_key(map, &["loop_control"]) else { return Ok(LoopControl::default()) };
    let m = as_map(node, "`loop_control`")?;
    check_keys(
        m,
        &[&["extended", "extended_allitems", "index_var", "label", "loop_var", "pause"]],
        "loop_control",
    )?;
    Ok(LoopControl {
        loop_var: opt_str(m, "loop_var")?.map(|s| s.value),
        index_var: opt_str(m, "index_var")?.map(|s| s.value),
        label: find_key(m, &["label"]).map(Node::to_json),
        pause: find_key(m, &["pause"]).and_then(|n| n.to_json().as_f64()),
        extended: find_key(m, &["extended"]).is_some_and(|n| truthy(&n.to_json())),
    })
}

/// Ansible's boolean spellings for keywords written literally (`become: yes`).
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => modules::args::parse_bool(s).unwrap_or(false),
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        _ => false,
    }
}

// --- small node helpers -------------------------------------------------------------------

fn check_keys(map: &[(Node, Node)], allowed: &[&[&str]], what: &str) -> Result<(), PlaybookError> {
    for (k, _) in map {
        let key = key_str(k)?;
        if allowed.iter().any(|list| list.contains(&key)) {
            continue;
        }
        let all = allowed.iter().flat_map(|l| l.iter().copied());
        return Err(PlaybookError::at(
            &k.loc,
            format!("`{key}` is not a valid keyword for a {what}"),
            "unknown keyword",
        )
        .with_help(closest(key, all).map(|s| format!("did you mean `{s}`?"))));
    }
    Ok(())
}

fn as_map<'a>(node: &'a Node, what: &str) -> Result<&'a [(Node, Node)], PlaybookError> {
    match &node.value {
        NodeValue::Map(m) => Ok(m),
        _ => Err(PlaybookError::at(&node.loc, format!("expected {what} (a mapping)"), "not a mapping")),
    }
}

fn seq(node: &Node) -> Result<&[Node], PlaybookError> {
    match &node.value {
        NodeValue::Seq(s) => Ok(s),
        _ => Err(PlaybookError::at(&node.loc, "expected a list", "not a list")),
    }
}

fn key_str(node: &Node) -> Result<&str, PlaybookError> {
    match &node.value {
        NodeValue::Str(s) => Ok(s),
        _ => Err(PlaybookError::at(&node.loc, "keys must be strings", "not a string key")),
    }
}

fn find_key<'a>(map: &'a [(Node, Node)], names: &[&str]) -> Option<&'a Node> {
    map.iter()
        .find(|(k, _)| matches!(&k.value, NodeValue::Str(s) if names.contains(&s.as_str())))
        .map(|(_, v)| v)
}

fn spanned(node: &Node) -> Spanned<Value> {
    Spanned { value: node.to_json(), loc: node.loc.clone() }
}

fn opt(map: &[(Node, Node)], key: &str) -> Option<Spanned<Value>> {
    find_key(map, &[key]).map(spanned)
}

fn str_of(node: &Node) -> Result<Spanned<String>, PlaybookError> {
    match node.to_json() {
        Value::String(s) => Ok(Spanned { value: s, loc: node.loc.clone() }),
        Value::Number(n) => Ok(Spanned { value: n.to_string(), loc: node.loc.clone() }),
        _ => Err(PlaybookError::at(&node.loc, "expected a string", "not a string")),
    }
}

fn opt_str(map: &[(Node, Node)], key: &str) -> Result<Option<Spanned<String>>, PlaybookError> {
    find_key(map, &[key]).map(str_of).transpose()
}

fn conditions(map: &[(Node, Node)], key: &str) -> Conditions {
    match find_key(map, &[key]) {
        None => Vec::new(),
        Some(node) => match &node.value {
            NodeValue::Seq(items) => items.iter().map(spanned).collect(),
            _ => vec![spanned(node)],
        },
    }
}

fn string_list(map: &[(Node, Node)], key: &str) -> Result<Vec<String>, PlaybookError> {
    let Some(node) = find_key(map, &[key]) else { return Ok(Vec::new()) };
    match node.to_json() {
        Value::Null => Ok(Vec::new()),
        Value::String(s) if key == "tags" => Ok(s.split(',').map(|t| t.trim().to_string()).collect()),
        Value::String(s) => Ok(vec![s]),
        Value::Array(items) => items
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(PlaybookError::at(&node.loc, format!("`{key}` must be a list of strings"), "here")),
            })
            .collect(),
        _ => Err(PlaybookError::at(&node.loc, format!("`{key}` must be a string or a list"), "here")),
    }
}

fn list_of(map: &[(Node, Node)], key: &str) -> Result<Vec<Spanned<Value>>, PlaybookError> {
    match find_key(map, &[key]) {
        None => Ok(Vec::new()),
        Some(node) => match &node.value {
            NodeValue::Seq(items) => Ok(items.iter().map(spanned).collect()),
            _ => Ok(vec![spanned(node)]),
        },
    }
}

fn items_of(map: &[(Node, Node)], key: &str) -> Result<Vec<Item>, PlaybookError> {
    find_key(map, &[key]).map(items).transpose().map(Option::unwrap_or_default)
}

fn json_map(node: &Node, what: &str) -> Result<Map<String, Value>, PlaybookError> {
    match node.to_json() {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        _ => Err(PlaybookError::at(&node.loc, format!("{what} must be a mapping"), "not a mapping")),
    }
}

/// Loads a task file (for include_tasks/import_tasks and roles).
pub fn load_task_file(path: &Path) -> Result<Vec<Item>, PlaybookError> {
    let root = yaml::parse_file(path)?;
    items(&root)
}

/// The directory a playbook's relative paths resolve against.
pub fn playbook_dir(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}
