//! The OpenSSH command-line options users put in `ansible_ssh_common_args` and
//! `ansible_ssh_extra_args`, applied to [`SshOptions`].
//!
//! As on OpenSSH's command line, the first value given for a setting wins, so the engine sets
//! what Ansible passes first (`ansible_port`, `ansible_user`, key file) and applies these strings
//! after. Options Baton does not implement are not silently dropped: each comes back as a
//! warning naming it.

use std::path::PathBuf;
use std::time::Duration;

use super::options::{HostKeyPolicy, JumpHost, SshConfigFile, SshOptions};

/// `-o` settings that change nothing for Baton and need no warning.
const QUIET: &[&str] = &["loglevel", "batchmode", "forwardagent", "requesttty"];

/// Applies an argument string (shell-quoted, as in the inventory) to `opts`; returns one warning
/// per option that is ignored or malformed.
pub fn apply_args(opts: &mut SshOptions, args: &str) -> Vec<String> {
    let Some(words) = shlex::split(args) else {
        return vec![format!("cannot parse ssh arguments `{args}` (unbalanced quotes); ignored")];
    };
    let mut warnings = Vec::new();
    let mut it = words.into_iter();
    while let Some(word) = it.next() {
        let Some(flag) = word.strip_prefix('-') else {
            warnings.push(format!("ignored ssh argument `{word}`"));
            continue;
        };
        let Some(letter) = flag.chars().next() else {
            warnings.push("ignored ssh argument `-`".into());
            continue;
        };
        // Options with a value take it attached (`-p2222`) or as the next word.
        if "oipJlF".contains(letter) {
            let attached = &flag[letter.len_utf8()..];
            let value = if attached.is_empty() {
                match it.next() {
                    Some(v) => v,
                    None => {
                        warnings.push(format!("ssh option `-{letter}` has no value; ignored"));
                        continue;
                    }
                }
            } else {
                attached.to_string()
            };
            let warning = match letter {
                'o' => apply_o(opts, &value),
                'i' => {
                    opts.identity_files.push(PathBuf::from(value));
                    None
                }
                'p' => set_port(opts, &value),
                'J' => set_jump(opts, &value),
                'l' => {
                    opts.user.get_or_insert(value);
                    None
                }
                _ => {
                    if opts.ssh_config == SshConfigFile::User {
                        opts.ssh_config = SshConfigFile::Path(PathBuf::from(value));
                    }
                    None
                }
            };
            warnings.extend(warning);
        } else if matches!(flag, "q" | "v" | "vv" | "vvv" | "T" | "n") {
            // Verbosity and terminal flags: nothing to do.
        } else {
            warnings.push(format!("ignored ssh option `-{flag}` (Baton does not support it)"));
        }
    }
    warnings
}

/// One `-o Key=Value` (or `Key Value`).
fn apply_o(opts: &mut SshOptions, setting: &str) -> Option<String> {
    let setting = setting.trim();
    let split = setting.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(setting.len());
    let key = &setting[..split];
    let value = setting[split..].trim_start();
    let value = value.strip_prefix('=').unwrap_or(value).trim();
    let value = value.trim_matches('"');
    let bad = || Some(format!("ssh option `{key}` has an invalid value `{value}`; ignored"));
    match key.to_ascii_lowercase().as_str() {
        "userknownhostsfile" => {
            if opts.known_hosts.is_empty() {
                opts.known_hosts = value.split_whitespace().map(PathBuf::from).collect();
            }
            None
        }
        "stricthostkeychecking" => match HostKeyPolicy::parse(value) {
            Some(p) => {
                opts.host_key_policy.get_or_insert(p);
                None
            }
            None => bad(),
        },
        "identitiesonly" => match value.to_ascii_lowercase().as_str() {
            "yes" | "true" => {
                opts.identities_only.get_or_insert(true);
                None
            }
            "no" | "false" => {
                opts.identities_only.get_or_insert(false);
                None
            }
            _ => bad(),
        },
        "connecttimeout" => match value.parse::<u64>() {
            Ok(secs) => {
                opts.connect_timeout.get_or_insert(Duration::from_secs(secs));
                None
            }
            Err(_) => bad(),
        },
        "proxyjump" => set_jump(opts, value),
        "port" => set_port(opts, value),
        "user" => {
            opts.user.get_or_insert(value.to_string());
            None
        }
        "identityfile" => {
            opts.identity_files.push(PathBuf::from(value));
            None
        }
        "identityagent" if value.eq_ignore_ascii_case("none") => {
            opts.use_agent.get_or_insert(false);
            None
        }
        k if QUIET.contains(&k) => None,
        _ => Some(format!("ignored ssh option `{key}` (Baton does not support it)")),
    }
}

fn set_port(opts: &mut SshOptions, value: &str) -> Option<String> {
    match value.parse::<u16>() {
        Ok(p) => {
            opts.port.get_or_insert(p);
            None
        }
        Err(_) => Some(format!("ssh port `{value}` is not a number; ignored")),
    }
}

fn set_jump(opts: &mut SshOptions, value: &str) -> Option<String> {
    match JumpHost::parse_list(value) {
        Some(list) => {
            opts.proxy_jump.get_or_insert(list);
            None
        }
        None => Some(format!("cannot parse ProxyJump `{value}`; ignored")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_options_are_applied() {
        let mut o = SshOptions::new("web");
        let w = apply_args(
            &mut o,
            "-o UserKnownHostsFile=/tmp/kh -o StrictHostKeyChecking=accept-new \
             -oIdentitiesOnly=yes -o 'ConnectTimeout 5' -J ops@bastion:2200 -i /k/id -p2222 \
             -o User=deploy",
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(o.known_hosts, vec![PathBuf::from("/tmp/kh")]);
        assert_eq!(o.host_key_policy, Some(HostKeyPolicy::AcceptNew));
        assert_eq!(o.identities_only, Some(true));
        assert_eq!(o.connect_timeout, Some(Duration::from_secs(5)));
        assert_eq!(o.proxy_jump.as_ref().unwrap()[0].port, Some(2200));
        assert_eq!(o.identity_files, vec![PathBuf::from("/k/id")]);
        assert_eq!(o.port, Some(2222));
        assert_eq!(o.user.as_deref(), Some("deploy"));
    }

    #[test]
    fn first_value_wins_like_openssh() {
        let mut o = SshOptions::new("web");
        o.port = Some(2200);
        apply_args(&mut o, "-o Port=1 -o StrictHostKeyChecking=no -o StrictHostKeyChecking=yes");
        assert_eq!(o.port, Some(2200));
        assert_eq!(o.host_key_policy, Some(HostKeyPolicy::Off));
    }

    #[test]
    fn ignored_options_are_named() {
        let mut o = SshOptions::new("web");
        let w = apply_args(
            &mut o,
            "-C -o ControlMaster=auto -o ControlPersist=60s -o ProxyCommand='nc %h %p' -o LogLevel=ERROR",
        );
        assert_eq!(w.len(), 4, "{w:?}");
        assert!(w[0].contains("`-C`"));
        assert!(w[1].contains("`ControlMaster`"));
        assert!(w[3].contains("`ProxyCommand`"));
    }

    #[test]
    fn bad_values_warn() {
        let mut o = SshOptions::new("web");
        let w = apply_args(&mut o, "-p x -o StrictHostKeyChecking=perhaps -o");
        assert_eq!(w.len(), 3, "{w:?}");
        assert_eq!(o.port, None);
    }
}
