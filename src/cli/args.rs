//! What the user typed: clap definitions only, no side effects. [`super::settings`] turns them
//! into the settings the engine runs with.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Agentless fleet deployment and configuration: Ansible's inventory and playbook language,
/// nothing but a POSIX shell on the targets.
#[derive(Debug, Parser)]
#[command(name = "baton", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Run one module on every host matching PATTERN (ad-hoc, like `ansible`).
    ///
    /// Examples:
    ///   baton run all -i inventories/local.ini -a 'uname -a'
    ///   baton run web -m shell -a 'systemctl is-active nginx' -o
    ///   baton run 'db:!db3' -m ping --json
    #[command(verbatim_doc_comment)]
    Run(RunArgs),
    /// Run playbooks (like `ansible-playbook`).
    ///
    /// Examples:
    ///   baton play playbooks/site.yml -i inventories/local.ini
    ///   baton play deploy.yml -i prod/ -l web -C -D
    ///   baton play site.yml --tags config --json
    #[command(verbatim_doc_comment)]
    Play(PlayArgs),
    /// Roll back: run each play's `rollback:` tasks in place of its roles and tasks, with the
    /// same batches, pre/post tasks and health gates (plays without `rollback:` are skipped).
    ///
    /// Example:
    ///   baton rollback examples/rolling-deploy/deploy.yml -i examples/rolling-deploy/inventory.ini
    #[command(verbatim_doc_comment)]
    Rollback(PlayArgs),
    /// Show the inventory as Baton reads it (like `ansible-inventory`).
    Inventory(InventoryArgs),
    /// Start a fleet of real sshd hosts on this machine to try Baton on (root: one network
    /// namespace per host; otherwise sshd on loopback ports). Runs until Ctrl-C, then removes
    /// everything.
    ///
    /// Example:
    ///   sudo baton lab --hosts 5
    ///   baton play examples/rolling-deploy/setup.yml -i /run/baton-lab/1/inventory.ini -i examples/rolling-deploy/groups.ini
    #[command(verbatim_doc_comment)]
    Lab(LabArgs),
    /// What each host runs now: the last rollout recorded in its audit log
    /// (/var/lib/baton/audit.jsonl): when, who, which version, from which playbook, result.
    ///
    /// Example:
    ///   baton status web -i inventories/prod --lock shop
    #[command(verbatim_doc_comment)]
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Host pattern: `all`, a group or host, globs, `a:b`, `a:!b`, `a:&b`, `~regex`, `g[0:2]`.
    pub pattern: String,
    /// Module to run.
    #[arg(short = 'm', long = "module-name", default_value = "command", value_name = "MODULE")]
    pub module: String,
    /// Module arguments, as `k=v` pairs or the command text for command/shell/raw.
    #[arg(short = 'a', long = "args", default_value = "", value_name = "ARGS")]
    pub args: String,
    /// One line per host.
    #[arg(short = 'o', long = "one-line")]
    pub one_line: bool,
    /// Print every event as one JSON object per line on stdout (for CI and scripts).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Debug, Args)]
pub struct PlayArgs {
    /// Playbook files, run in order.
    #[arg(required = true, value_name = "PLAYBOOK")]
    pub playbooks: Vec<std::path::PathBuf>,
    /// Only run tasks and plays tagged with these tags (comma-separated, repeatable).
    #[arg(short = 't', long = "tags", value_name = "TAGS")]
    pub tags: Vec<String>,
    /// Skip tasks and plays tagged with these tags.
    #[arg(long = "skip-tags", value_name = "TAGS")]
    pub skip_tags: Vec<String>,
    /// Check mode: report what would change, change nothing.
    #[arg(short = 'C', long = "check")]
    pub check: bool,
    /// Show the before/after of what changes.
    #[arg(short = 'D', long = "diff")]
    pub diff: bool,
    /// List the tasks that would run and stop.
    #[arg(long = "list-tasks")]
    pub list_tasks: bool,
    /// List the tags the playbook uses and stop.
    #[arg(long = "list-tags")]
    pub list_tags: bool,
    /// Only check the playbook's syntax (everything is loaded and checked, nothing runs).
    #[arg(long = "syntax-check")]
    pub syntax_check: bool,
    /// Start at the task with this name.
    #[arg(long = "start-at-task", value_name = "NAME")]
    pub start_at_task: Option<String>,
    /// Confirm each task before running it (only on a terminal).
    #[arg(long)]
    pub step: bool,
    /// Remove a rollout's deploy lock left behind by another run before taking it.
    #[arg(long = "break-lock")]
    pub break_lock: bool,
    /// Run notified handlers even on hosts that failed.
    #[arg(long = "force-handlers")]
    pub force_handlers: bool,
    /// Extra directories to look for roles in (colon-separated, repeatable).
    #[arg(long = "roles-path", value_name = "DIRS")]
    pub roles_path: Vec<String>,
    /// Print every event as one JSON object per line on stdout (for CI and scripts).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Host pattern.
    #[arg(default_value = "all")]
    pub pattern: String,
    /// Only rollouts that held this deploy lock (the application's name).
    #[arg(long, value_name = "NAME")]
    pub lock: Option<String>,
    /// One JSON object per host on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Debug, Args)]
pub struct LabArgs {
    /// How many hosts (host01, host02, ...).
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub hosts: usize,
    /// Write the inventory's path to this file once the hosts are up (for scripts).
    #[arg(long, value_name = "FILE")]
    pub ready_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    /// Print all hosts and groups as JSON (same shape as `ansible-inventory --list`).
    #[arg(long, group = "action")]
    pub list: bool,
    /// Print the group tree, from GROUP or from `all`.
    #[arg(long, group = "action", value_name = "GROUP", num_args = 0..=1, default_missing_value = "all")]
    pub graph: Option<String>,
    /// Print one host's variables as JSON.
    #[arg(long, group = "action", value_name = "HOST")]
    pub host: Option<String>,
    /// With --graph, show each host's and group's variables too.
    #[arg(long)]
    pub vars: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Flags shared by every command that loads an inventory.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Inventory source: a file (INI or YAML), a directory, an executable script, or a
    /// comma-separated host list (`-i 'web1,web2,'`). Repeatable.
    #[arg(short = 'i', long = "inventory", value_name = "SOURCE", env = "BATON_INVENTORY", value_delimiter = None)]
    pub inventory: Vec<String>,
    /// Further limit the hosts: a pattern, or `@file` with one pattern per line.
    #[arg(short = 'l', long = "limit", value_name = "SUBSET")]
    pub limit: Option<String>,
    /// Extra variables, highest precedence: `k=v ...`, `@file.yml`, or JSON/YAML. Repeatable.
    #[arg(short = 'e', long = "extra-vars", value_name = "VARS")]
    pub extra_vars: Vec<String>,
    /// List the matching hosts and stop.
    #[arg(long = "list-hosts")]
    pub list_hosts: bool,
    /// More output (-vvv shows commands, -vvvv connection details).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// How to reach the hosts.
#[derive(Debug, Args)]
pub struct ConnArgs {
    /// Hosts worked on at once. Default: all of them, within the open-file limit.
    #[arg(short = 'f', long = "forks", value_name = "N")]
    pub forks: Option<usize>,
    /// Log in as this user (inventory's `ansible_user` wins for its hosts).
    #[arg(short = 'u', long = "user", value_name = "USER")]
    pub user: Option<String>,
    /// Private key file for SSH.
    #[arg(long = "private-key", visible_alias = "key-file", value_name = "FILE")]
    pub private_key: Option<PathBuf>,
    /// Connection type (inventory's `ansible_connection` wins for its hosts).
    #[arg(short = 'c', long = "connection", value_enum, value_name = "TYPE")]
    pub connection: Option<ConnectionKind>,
    /// Connection timeout in seconds.
    #[arg(short = 'T', long = "timeout", value_name = "SECS", default_value_t = 10)]
    pub timeout: u64,
    /// known_hosts file to check host keys against (default ~/.ssh/known_hosts).
    #[arg(long = "known-hosts", value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,
    /// What to do with a host key not in known_hosts: refuse, record it, or skip the check.
    #[arg(long = "host-key-checking", value_enum, value_name = "POLICY")]
    pub host_key_checking: Option<HostKeyPolicyArg>,
    /// Run operations with privilege escalation.
    #[arg(short = 'b', long = "become")]
    pub r#become: bool,
    /// Escalate to this user.
    #[arg(long = "become-user", value_name = "USER")]
    pub become_user: Option<String>,
    /// Escalation method.
    #[arg(long = "become-method", value_enum, value_name = "METHOD")]
    pub become_method: Option<BecomeMethodArg>,
    /// Ask for the privilege escalation password (read from stdin when it is not a terminal).
    #[arg(short = 'K', long = "ask-become-pass")]
    pub ask_become_pass: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConnectionKind {
    Ssh,
    Local,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HostKeyPolicyArg {
    Strict,
    AcceptNew,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BecomeMethodArg {
    Sudo,
    Su,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn adhoc_flags_parse_like_ansible() {
        let cli = Cli::try_parse_from([
            "baton",
            "run",
            "web:!web3",
            "-i",
            "a.ini",
            "-i",
            "b.yml",
            "-m",
            "shell",
            "-a",
            "uptime",
            "-f",
            "5",
            "-b",
            "--become-user",
            "deploy",
            "-e",
            "x=1",
            "-l",
            "@hosts.txt",
            "-vvv",
            "-T",
            "3",
        ])
        .unwrap();
        let Cmd::Run(r) = cli.command else { panic!("not run") };
        assert_eq!(r.pattern, "web:!web3");
        assert_eq!(r.common.inventory, ["a.ini", "b.yml"]);
        assert_eq!((r.module.as_str(), r.args.as_str()), ("shell", "uptime"));
        assert_eq!(r.conn.forks, Some(5));
        assert!(r.conn.r#become);
        assert_eq!(r.common.verbose, 3);
        assert_eq!(r.conn.timeout, 3);
    }

    #[test]
    fn graph_takes_an_optional_group() {
        let cli = Cli::try_parse_from(["baton", "inventory", "--graph"]).unwrap();
        let Cmd::Inventory(i) = cli.command else { panic!("not inventory") };
        assert_eq!(i.graph.as_deref(), Some("all"));
        let cli = Cli::try_parse_from(["baton", "inventory", "--graph", "web"]).unwrap();
        let Cmd::Inventory(i) = cli.command else { panic!("not inventory") };
        assert_eq!(i.graph.as_deref(), Some("web"));
    }
}
