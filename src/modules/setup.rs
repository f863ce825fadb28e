//! `setup`: the host's facts in one round trip. One shell script prints sections (OS release,
//! kernel, CPUs, memory, routes, addresses, user, environment, time, package and service
//! managers, mounts) and Rust turns them into Ansible's fact names, returned under
//! `ansible_facts` (the engine also sets them as `ansible_<name>`).
//!
//! ```yaml
//! - setup: { gather_subset: [min, network], filter: "ansible_distribution*" }
//! ```

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::calendar::civil_from_days;
use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError};
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "setup",
    free_form: false,
    params: &["fact_path", "filter", "gather_subset", "gather_timeout"],
    run: crate::module_entry!(run),
    run_loop: None,
};

/// The whole gathering, one command. Each section starts with a `@@name` line.
pub const SCRIPT: &str = r#"export LC_ALL=C
echo @@hostname; cat /proc/sys/kernel/hostname 2>/dev/null || hostname
echo @@fqdn; hostname -f 2>/dev/null || true
echo @@os_release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null || true
echo @@debian_version; cat /etc/debian_version 2>/dev/null || true
echo @@uname; uname -s; uname -r; uname -v; uname -m
echo @@nproc; nproc 2>/dev/null || grep -c ^processor /proc/cpuinfo 2>/dev/null || echo 1
echo @@cpuinfo; grep -E '^(physical id|core id|cpu cores|model name)' /proc/cpuinfo 2>/dev/null | sort -u || true
echo @@meminfo; grep -E '^(MemTotal|MemFree|SwapTotal|SwapFree):' /proc/meminfo 2>/dev/null || true
echo @@route; cat /proc/net/route 2>/dev/null || true
echo @@addrs; ip -o -4 addr show 2>/dev/null || true
echo @@links; ls /sys/class/net 2>/dev/null || true
echo @@id; id -u; id -g; id -un; echo "$HOME"; echo "${SHELL:-}"
echo @@date; date +%s; date +%z; date +%Z; date +%W; date +%N
echo @@pkg; for p in apt-get dnf yum apk zypper pacman; do if command -v $p >/dev/null 2>&1; then echo $p; break; fi; done
echo @@svc; if [ -d /run/systemd/system ]; then echo systemd; else cat /proc/1/comm 2>/dev/null || true; fi
echo @@uptime; cat /proc/uptime 2>/dev/null || true
echo @@mounts; cat /proc/mounts 2>/dev/null || true
echo @@python; command -v python3 2>/dev/null || command -v python 2>/dev/null || true
echo @@env; env
"#;

/// Raw sections of the script's output.
pub fn sections(out: &str) -> BTreeMap<&str, Vec<&str>> {
    let mut map: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut current = "";
    for line in out.lines() {
        if let Some(name) = line.strip_prefix("@@")
            && !name.is_empty()
            && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            current = name;
            map.entry(current).or_default();
            continue;
        }
        map.entry(current).or_default().push(line);
    }
    map
}

fn os_release(lines: &[&str]) -> BTreeMap<String, String> {
    lines
        .iter()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim().trim_matches('"').trim_matches('\'').to_string()))
        .collect()
}

/// Ansible's names for a distribution id and its family.
fn distribution(id: &str, name: &str) -> (String, String) {
    let dist = match id {
        "debian" => "Debian",
        "ubuntu" => "Ubuntu",
        "rhel" => "RedHat",
        "centos" => "CentOS",
        "fedora" => "Fedora",
        "rocky" => "Rocky",
        "almalinux" => "AlmaLinux",
        "ol" => "OracleLinux",
        "amzn" => "Amazon",
        "alpine" => "Alpine",
        "arch" => "Archlinux",
        "opensuse-leap" | "opensuse-tumbleweed" | "opensuse" => "openSUSE Leap",
        "sles" => "SLES",
        "linuxmint" => "Linux Mint",
        _ => name,
    };
    let family = match id {
        "debian" | "ubuntu" | "linuxmint" | "raspbian" => "Debian",
        "rhel" | "centos" | "fedora" | "rocky" | "almalinux" | "ol" | "amzn" => "RedHat",
        "alpine" => "Alpine",
        "arch" => "Archlinux",
        "opensuse-leap" | "opensuse-tumbleweed" | "opensuse" | "sles" => "Suse",
        _ => dist,
    };
    (dist.to_string(), family.to_string())
}

/// `/proc/net/route`'s hex (little-endian) address as dotted quad.
fn hex_ip(hex: &str) -> Option<String> {
    let n = u32::from_str_radix(hex, 16).ok()?;
    let b = n.to_le_bytes();
    Some(format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]))
}

fn date_time(epoch: i64, tz_offset: &str, tz_name: &str) -> Value {
    // Local time from the host's offset (`+0100`).
    let sign = if tz_offset.starts_with('-') { -1 } else { 1 };
    let digits = tz_offset.trim_start_matches(['+', '-']);
    let (h, m) = (
        digits.get(..2).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0),
        digits.get(2..4).and_then(|s| s.parse::<i64>().ok()).unwrap_or(0),
    );
    let local = epoch + sign * (h * 3600 + m * 60);
    let (y, mo, d) = civil_from_days(local.div_euclid(86_400));
    let secs = local.rem_euclid(86_400);
    let (hh, mm, ss) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let (uy, umo, ud) = civil_from_days(epoch.div_euclid(86_400));
    let us = epoch.rem_euclid(86_400);
    const WEEKDAYS: [&str; 7] =
        ["Thursday", "Friday", "Saturday", "Sunday", "Monday", "Tuesday", "Wednesday"];
    let weekday = WEEKDAYS[local.div_euclid(86_400).rem_euclid(7) as usize];
    json!({
        "epoch": epoch.to_string(),
        "epoch_int": epoch.to_string(),
        "date": format!("{y:04}-{mo:02}-{d:02}"),
        "time": format!("{hh:02}:{mm:02}:{ss:02}"),
        "year": format!("{y:04}"), "month": format!("{mo:02}"), "day": format!("{d:02}"),
        "hour": format!("{hh:02}"), "minute": format!("{mm:02}"), "second": format!("{ss:02}"),
        "weekday": weekday,
        "weekday_number": ((local.div_euclid(86_400) + 4).rem_euclid(7)).to_string(),
        "iso8601": format!("{uy:04}-{umo:02}-{ud:02}T{:02}:{:02}:{:02}Z", us / 3600, us % 3600 / 60, us % 60),
        "iso8601_basic_short": format!("{y:04}{mo:02}{d:02}T{hh:02}{mm:02}{ss:02}"),
        "tz": tz_name,
        "tz_offset": tz_offset,
    })
}

/// Turns the script's output into facts (names without the `ansible_` prefix).
pub fn facts(out: &str) -> Map<String, Value> {
    let s = sections(out);
    let get = |name: &str| s.get(name).cloned().unwrap_or_default();
    let first = |name: &str| get(name).first().map(|l| l.trim().to_string()).unwrap_or_default();
    let mut f = Map::new();

    let hostname = first("hostname");
    let fqdn = match first("fqdn") {
        x if x.is_empty() => hostname.clone(),
        x => x,
    };
    let short = hostname.split('.').next().unwrap_or_default().to_string();
    f.insert("hostname".into(), json!(short));
    f.insert("nodename".into(), json!(hostname));
    f.insert("domain".into(), json!(fqdn.split_once('.').map(|(_, d)| d).unwrap_or_default()));
    f.insert("fqdn".into(), json!(fqdn));

    let rel = os_release(&get("os_release"));
    let id = rel.get("ID").cloned().unwrap_or_else(|| "linux".into());
    let (dist, family) = distribution(&id, rel.get("NAME").map_or("Linux", String::as_str));
    let mut version = rel.get("VERSION_ID").cloned().unwrap_or_default();
    let debian_version = first("debian_version");
    if id == "debian" && debian_version.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        version = debian_version;
    }
    f.insert("distribution".into(), json!(dist));
    f.insert("os_family".into(), json!(family));
    f.insert("distribution_version".into(), json!(version));
    f.insert("distribution_major_version".into(), json!(version.split('.').next().unwrap_or_default()));
    f.insert("distribution_release".into(), json!(rel.get("VERSION_CODENAME").cloned().unwrap_or_default()));
    f.insert("distribution_file_variety".into(), json!(family));

    let uname = get("uname");
    let u = |i: usize| uname.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
    f.insert("system".into(), json!(u(0)));
    f.insert("kernel".into(), json!(u(1)));
    f.insert("kernel_version".into(), json!(u(2)));
    f.insert("architecture".into(), json!(u(3)));
    f.insert("machine".into(), json!(u(3)));
    f.insert("userspace_architecture".into(), json!(u(3)));
    f.insert("userspace_bits".into(), json!(if u(3).contains("64") { "64" } else { "32" }));

    let vcpus: u64 = first("nproc").parse().unwrap_or(1);
    let cpuinfo = get("cpuinfo");
    let sockets = cpuinfo.iter().filter(|l| l.starts_with("physical id")).count().max(1) as u64;
    let cores: u64 = cpuinfo
        .iter()
        .find(|l| l.starts_with("cpu cores"))
        .and_then(|l| l.split(':').nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(vcpus);
    f.insert("processor_vcpus".into(), json!(vcpus));
    f.insert("processor_count".into(), json!(sockets));
    f.insert("processor_cores".into(), json!(cores));
    f.insert("processor_threads_per_core".into(), json!((vcpus / (sockets * cores).max(1)).max(1)));
    let models: Vec<Value> = cpuinfo
        .iter()
        .filter(|l| l.starts_with("model name"))
        .filter_map(|l| l.split_once(':').map(|(_, v)| json!(v.trim())))
        .collect();
    f.insert("processor".into(), Value::Array(models));

    let mem = |key: &str| -> u64 {
        get("meminfo")
            .iter()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            / 1024
    };
    f.insert("memtotal_mb".into(), json!(mem("MemTotal:")));
    f.insert("memfree_mb".into(), json!(mem("MemFree:")));
    f.insert("swaptotal_mb".into(), json!(mem("SwapTotal:")));
    f.insert("swapfree_mb".into(), json!(mem("SwapFree:")));

    // Network: the default route's interface and gateway, every IPv4 address.
    let mut default_if = String::new();
    let mut gateway = String::new();
    for l in get("route").iter().skip(1) {
        let cols: Vec<&str> = l.split_whitespace().collect();
        if cols.len() > 2 && cols[1] == "00000000" {
            default_if = cols[0].to_string();
            gateway = hex_ip(cols[2]).unwrap_or_default();
            break;
        }
    }
    let mut all_v4 = Vec::new();
    let mut by_if: BTreeMap<String, Value> = BTreeMap::new();
    for l in get("addrs") {
        // `2: eth0    inet 10.213.1.2/24 brd 10.213.1.255 scope global eth0`
        let cols: Vec<&str> = l.split_whitespace().collect();
        let Some(pos) = cols.iter().position(|c| *c == "inet") else { continue };
        let (Some(iface), Some(cidr)) = (cols.get(1), cols.get(pos + 1)) else { continue };
        let iface = iface.trim_end_matches(':').split('@').next().unwrap_or_default().to_string();
        let (addr, prefix) = cidr.split_once('/').unwrap_or((cidr, "32"));
        if !addr.starts_with("127.") {
            all_v4.push(json!(addr));
        }
        let prefix: u32 = prefix.parse().unwrap_or(32);
        let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
        let netmask = std::net::Ipv4Addr::from(mask).to_string();
        let network = addr
            .parse::<std::net::Ipv4Addr>()
            .map(|a| std::net::Ipv4Addr::from(u32::from(a) & mask).to_string())
            .unwrap_or_default();
        by_if.entry(iface.clone()).or_insert_with(|| {
            json!({"device": iface, "active": true, "ipv4": {"address": addr, "netmask": netmask, "network": network, "prefix": prefix.to_string()}})
        });
    }
    let default_v4 = match by_if.get(&default_if) {
        Some(v) => {
            let mut d = v["ipv4"].clone();
            if let Value::Object(m) = &mut d {
                m.insert("interface".into(), json!(default_if));
                m.insert("gateway".into(), json!(gateway));
            }
            d
        }
        None => json!({}),
    };
    f.insert("default_ipv4".into(), default_v4);
    f.insert("all_ipv4_addresses".into(), Value::Array(all_v4));
    let links: Vec<String> =
        get("links").iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    f.insert("interfaces".into(), json!(links));
    for (iface, v) in by_if {
        f.insert(iface.replace(['-', '.'], "_"), v);
    }

    let id_lines = get("id");
    let idl = |i: usize| id_lines.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
    f.insert("user_uid".into(), json!(idl(0).parse::<u64>().unwrap_or(0)));
    f.insert("user_gid".into(), json!(idl(1).parse::<u64>().unwrap_or(0)));
    f.insert("user_id".into(), json!(idl(2)));
    f.insert("user_dir".into(), json!(idl(3)));
    f.insert("user_shell".into(), json!(idl(4)));

    let date = get("date");
    let epoch: i64 = date.first().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    let offset = date.get(1).map(|s| s.trim()).unwrap_or("+0000");
    let tz = date.get(2).map(|s| s.trim()).unwrap_or("UTC");
    let mut dt = date_time(epoch, offset, tz);
    // The keys Ansible adds from Python's strftime: week number (Monday first) and microseconds.
    let week = date.get(3).map(|s| s.trim().to_string()).unwrap_or_else(|| "00".into());
    let micros: String = date.get(4).map(|s| s.trim().chars().take(6).collect()).unwrap_or_default();
    let micros = format!("{micros:0<6}");
    if let Value::Object(m) = &mut dt {
        let basic = m["iso8601_basic_short"].as_str().unwrap_or_default().to_string();
        let iso = m["iso8601"].as_str().unwrap_or_default().trim_end_matches('Z').to_string();
        m.insert("iso8601_basic".into(), format!("{basic}{micros}").into());
        m.insert("iso8601_micro".into(), format!("{iso}.{micros}Z").into());
        m.insert("weeknumber".into(), week.into());
        // Python's time.tzname[1]; a host without daylight saving time repeats its zone.
        m.insert("tz_dst".into(), tz.into());
    }
    f.insert("date_time".into(), dt);

    let pkg = match first("pkg").rsplit('/').next().unwrap_or_default() {
        "apt-get" => "apt",
        other => other,
    }
    .to_string();
    f.insert("pkg_mgr".into(), json!(if pkg.is_empty() { "unknown" } else { &pkg }));
    let svc = match first("svc").as_str() {
        "systemd" => "systemd",
        "init" => "sysvinit",
        "openrc-init" | "openrc" => "openrc",
        "" => "service",
        other => other,
    }
    .to_string();
    f.insert("service_mgr".into(), json!(svc));
    let uptime: f64 = first("uptime").split_whitespace().next().and_then(|s| s.parse().ok()).unwrap_or(0.0);
    f.insert("uptime_seconds".into(), json!(uptime as u64));

    // As Ansible: only mounts of a device path or a network share (`host:/path`), so no
    // proc, tmpfs or overlay.
    let mounts: Vec<Value> = get("mounts")
        .iter()
        .filter_map(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            let real = c.len() >= 4 && (c[0].starts_with('/') || c[0].contains(":/")) && c[2] != "none";
            real.then(|| json!({"device": c[0], "mount": c[1], "fstype": c[2], "options": c[3]}))
        })
        .collect();
    f.insert("mounts".into(), Value::Array(mounts));
    let python = first("python");
    f.insert("python".into(), if python.is_empty() { json!({}) } else { json!({"executable": python}) });
    f.insert("selinux".into(), json!({"status": "disabled"}));
    f.insert("local".into(), json!({}));

    let mut env = Map::new();
    for l in get("env") {
        if let Some((k, v)) = l.split_once('=')
            && !k.is_empty()
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            env.insert(k.to_string(), json!(v));
        }
    }
    f.insert("env".into(), Value::Object(env));
    f
}

/// Which facts `gather_subset` keeps (`all`, `min`, `!all`, `network`, `hardware`, ...).
pub fn subset(facts: Map<String, Value>, subsets: &[String]) -> Map<String, Value> {
    const HARDWARE: &[&str] = &[
        "processor",
        "processor_vcpus",
        "processor_count",
        "processor_cores",
        "processor_threads_per_core",
        "memtotal_mb",
        "memfree_mb",
        "swaptotal_mb",
        "swapfree_mb",
        "mounts",
        "uptime_seconds",
    ];
    let network = |k: &str, v: &Value| {
        ["default_ipv4", "all_ipv4_addresses", "interfaces"].contains(&k) || v.get("ipv4").is_some()
    };
    let wants = |s: &str| subsets.iter().any(|x| x == s);
    let all = subsets.is_empty() || wants("all");
    let not = |s: &str| wants(&format!("!{s}"));
    // A subset is in when asked for by name, or by `all` unless `!all`; `!name` takes it out.
    let keeps = |name: &str| !not(name) && (wants(name) || (all && !not("all")));
    facts
        .into_iter()
        .filter(|(k, v)| {
            if HARDWARE.contains(&k.as_str()) {
                keeps("hardware")
            } else if network(k, v) {
                keeps("network")
            } else {
                true // the minimal facts are always gathered, as in Ansible
            }
        })
        .collect()
}

/// `filter`: shell-style globs on the fact names (with or without `ansible_`).
pub fn filter(facts: Map<String, Value>, globs: &[String]) -> Result<Map<String, Value>, String> {
    if globs.is_empty() {
        return Ok(facts);
    }
    let mut set = globset::GlobSetBuilder::new();
    for g in globs {
        let g = g.strip_prefix("ansible_").unwrap_or(g);
        set.add(globset::Glob::new(g).map_err(|e| format!("bad filter `{g}`: {e}"))?);
    }
    let set = set.build().map_err(|e| e.to_string())?;
    Ok(facts.into_iter().filter(|(k, _)| set.is_match(k)).collect())
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let m = MODULE.name;
    let subsets = args.str_list(m, "gather_subset")?.unwrap_or_default();
    let globs = args.str_list(m, "filter")?.unwrap_or_default();
    let out = ctx.exec(SCRIPT).await?;
    if !out.success() && out.stdout.is_empty() {
        return Ok(TaskResult::failed(format!("gathering facts failed: {}", out.stderr_str().trim())));
    }
    let gathered = subset(facts(&out.stdout_str()), &subsets);
    let gathered = match filter(gathered, &globs) {
        Ok(f) => f,
        Err(msg) => return Ok(TaskResult::failed(msg)),
    };
    let mut result = TaskResult::new(Status::Ok);
    result.data.insert("ansible_facts".into(), Value::Object(gathered));
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "@@hostname\nweb1\n@@fqdn\nweb1.example.com\n@@os_release\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n\
@@debian_version\n12.7\n@@uname\nLinux\n6.1.0-25-amd64\n#1 SMP PREEMPT_DYNAMIC Debian\nx86_64\n@@nproc\n4\n@@cpuinfo\ncpu cores\t: 4\nmodel name\t: Some CPU\nphysical id\t: 0\n\
@@meminfo\nMemTotal:        8000000 kB\nMemFree:         4000000 kB\nSwapTotal:       0 kB\nSwapFree:        0 kB\n\
@@route\nIface\tDestination\tGateway \tFlags\nMetric\neth0\t00000000\t0100D50A\t0003\t0\neth0\t0000D50A\t00000000\t0001\n\
@@addrs\n1: lo    inet 127.0.0.1/8 scope host lo\n2: eth0    inet 10.213.0.2/24 brd 10.213.0.255 scope global eth0\n@@links\neth0\nlo\n\
@@id\n0\n0\nroot\n/root\n/bin/bash\n@@date\n1795359845\n+0000\nUTC\n@@pkg\n/usr/bin/apt-get\n@@svc\nsh\n@@uptime\n123.45 200.0\n\
@@mounts\noverlay / overlay rw 0 0\n@@python\n/usr/bin/python3\n@@env\nHOME=/root\nLANG=C.UTF-8\n";

    #[test]
    fn facts_from_a_debian_host() {
        let f = facts(SAMPLE);
        assert_eq!(f["hostname"], "web1");
        assert_eq!(f["fqdn"], "web1.example.com");
        assert_eq!(f["domain"], "example.com");
        assert_eq!(f["distribution"], "Debian");
        assert_eq!(f["os_family"], "Debian");
        assert_eq!(f["distribution_version"], "12.7");
        assert_eq!(f["distribution_major_version"], "12");
        assert_eq!(f["distribution_release"], "bookworm");
        assert_eq!(f["architecture"], "x86_64");
        assert_eq!(f["processor_vcpus"], 4);
        assert_eq!(f["memtotal_mb"], 7812);
        assert_eq!(f["default_ipv4"]["address"], "10.213.0.2");
        assert_eq!(f["default_ipv4"]["gateway"], "10.213.0.1");
        assert_eq!(f["default_ipv4"]["interface"], "eth0");
        assert_eq!(f["all_ipv4_addresses"], json!(["10.213.0.2"]));
        assert_eq!(f["eth0"]["ipv4"]["netmask"], "255.255.255.0");
        assert_eq!(f["user_id"], "root");
        assert_eq!(f["pkg_mgr"], "apt");
        assert_eq!(f["date_time"]["date"], "2026-11-22");
        assert_eq!(f["date_time"]["time"], "15:04:05");
        assert_eq!(f["date_time"]["weekday"], "Sunday");
        assert_eq!(f["env"]["LANG"], "C.UTF-8");
        assert_eq!(f["uptime_seconds"], 123);
    }

    #[test]
    fn subsets_and_filters() {
        let f = facts(SAMPLE);
        let min = subset(f.clone(), &["min".into()]);
        assert!(
            min.contains_key("distribution")
                && !min.contains_key("memtotal_mb")
                && !min.contains_key("default_ipv4")
        );
        let net = subset(f.clone(), &["!all".into(), "network".into()]);
        assert!(net.contains_key("default_ipv4") && !net.contains_key("mounts"));
        let only = filter(f, &["ansible_distribution*".into()]).unwrap();
        assert!(only.keys().all(|k| k.starts_with("distribution")) && only.len() >= 4);
    }
}
