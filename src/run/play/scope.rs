//! What a task inherits from the play, roles, blocks and imports around it: keywords (the
//! innermost setting wins), `vars` (merged outside in), `when` (all must hold), tags (union).

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::playbook::model::{Common, Spanned};

/// A role being run: where its files live and its variables.
#[derive(Debug, Clone)]
pub struct RoleCtx {
    pub name: String,
    pub dir: PathBuf,
}

/// The chain of enclosing keyword sets, innermost last.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    chain: Vec<Arc<Common>>,
    /// Conditions from enclosing blocks, imports and roles (`when:` on them applies to every
    /// task inside, evaluated per task).
    pub when: Vec<Spanned<Value>>,
    pub tags: Vec<String>,
    pub vars: Map<String, Value>,
    pub role: Option<Arc<RoleCtx>>,
    /// Extra vars an include or role passes in (`vars:` of include_tasks, role params).
    pub handler: bool,
}

impl Scope {
    /// A scope one level further in.
    pub fn push(&self, common: &Common) -> Scope {
        let mut s = self.clone();
        s.when.extend(common.when.iter().cloned());
        for t in &common.tags {
            if !s.tags.contains(t) {
                s.tags.push(t.clone());
            }
        }
        for (k, v) in &common.vars {
            s.vars.insert(k.clone(), v.clone());
        }
        let mut inherited = common.clone();
        // Conditions, tags and vars are carried above; only the plain keywords stay here.
        inherited.when.clear();
        inherited.vars.clear();
        s.chain.push(Arc::new(inherited));
        s
    }

    /// A scope for a role's tasks.
    pub fn with_role(&self, role: Arc<RoleCtx>) -> Scope {
        Scope { role: Some(role), ..self.clone() }
    }

    /// The innermost value of a keyword, looking first at `own` (the task itself).
    pub fn keyword<'a>(
        &'a self,
        own: &'a Common,
        pick: impl Fn(&Common) -> &Option<Spanned<Value>>,
    ) -> Option<&'a Spanned<Value>> {
        if let Some(v) = pick(own) {
            return Some(v);
        }
        self.chain.iter().rev().find_map(|c| pick(c).as_ref())
    }

    /// `environment:` from every level, inner keys winning.
    pub fn environments<'a>(&'a self, own: &'a Common) -> Vec<&'a Spanned<Value>> {
        let mut out: Vec<&Spanned<Value>> =
            self.chain.iter().filter_map(|c| c.environment.as_ref()).collect();
        out.extend(own.environment.as_ref());
        out
    }

    /// `module_defaults:` from every level, inner wins.
    pub fn module_defaults(&self, own: &Common, module: &str) -> Map<String, Value> {
        let mut out = Map::new();
        let levels =
            self.chain.iter().map(|c| &c.module_defaults).chain(std::iter::once(&own.module_defaults));
        for defaults in levels {
            for (name, args) in defaults {
                let short = crate::playbook::load::short_name(name);
                if short == module
                    && let Value::Object(m) = args
                {
                    for (k, v) in m {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        out
    }
}
