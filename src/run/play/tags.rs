//! `--tags` / `--skip-tags` with Ansible's special tags: `always` runs unless skipped by name,
//! `never` runs only when asked for by name, `all` (the default), `tagged`, `untagged`.

/// The tags selected on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagFilter {
    /// Empty means `all`.
    pub only: Vec<String>,
    pub skip: Vec<String>,
}

impl TagFilter {
    /// Parses repeated, comma-separated `--tags`/`--skip-tags` values.
    pub fn new(only: &[String], skip: &[String]) -> TagFilter {
        let split = |v: &[String]| -> Vec<String> {
            v.iter()
                .flat_map(|s| s.split(','))
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect()
        };
        TagFilter { only: split(only), skip: split(skip) }
    }

    /// Whether a task with these (inherited and own) tags runs.
    pub fn runs(&self, tags: &[String]) -> bool {
        let has = |t: &str| tags.iter().any(|x| x == t);
        let selected = |t: &str| self.only.iter().any(|x| x == t);
        let skipped = |t: &str| self.skip.iter().any(|x| x == t);
        // Skips first: a skipped tag (or tagged/untagged) wins over everything.
        if tags.iter().any(|t| skipped(t))
            || (skipped("tagged") && !tags.is_empty())
            || (skipped("untagged") && tags.is_empty())
            || (skipped("all") && !has("always"))
        {
            return false;
        }
        if has("always") && !skipped("always") {
            return true;
        }
        if has("never") && !tags.iter().any(|t| t != "never" && selected(t)) && !selected("never") {
            return false;
        }
        if self.only.is_empty() || selected("all") {
            return true;
        }
        tags.iter().any(|t| selected(t))
            || (selected("tagged") && !tags.is_empty())
            || (selected("untagged") && tags.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(tags: &[&str]) -> Vec<String> {
        tags.iter().map(|s| s.to_string()).collect()
    }

    fn f(only: &[&str], skip: &[&str]) -> TagFilter {
        TagFilter::new(&t(only), &t(skip))
    }

    #[test]
    fn default_runs_everything_but_never() {
        let all = f(&[], &[]);
        assert!(all.runs(&t(&[])));
        assert!(all.runs(&t(&["web"])));
        assert!(all.runs(&t(&["always"])));
        assert!(!all.runs(&t(&["never"])));
        assert!(!all.runs(&t(&["never", "debug"])));
    }

    #[test]
    fn selection_always_and_never() {
        let web = f(&["web,db"], &[]);
        assert!(web.runs(&t(&["web"])));
        assert!(web.runs(&t(&["db", "x"])));
        assert!(!web.runs(&t(&["x"])));
        assert!(!web.runs(&t(&[])));
        assert!(web.runs(&t(&["always"])));
        assert!(f(&["debug"], &[]).runs(&t(&["never", "debug"])));
        assert!(f(&["never"], &[]).runs(&t(&["never"])));
    }

    #[test]
    fn skips_and_special_selectors() {
        assert!(!f(&[], &["web"]).runs(&t(&["web", "always"])));
        assert!(!f(&[], &["always"]).runs(&t(&["always"])));
        assert!(f(&["tagged"], &[]).runs(&t(&["x"])));
        assert!(!f(&["tagged"], &[]).runs(&t(&[])));
        assert!(f(&["untagged"], &[]).runs(&t(&[])));
        assert!(!f(&[], &["untagged"]).runs(&t(&[])));
    }
}
