#!/usr/bin/env python3
"""Side-by-side benchmark: Baton, Ansible (tuned), pyinfra and a one-ssh-per-host shell floor,
running the same 12-task web host configuration on the same lab fleet, in one run.

    sudo python3 bench/run.py --hosts 10 50 --reps 3          # writes bench/results.md and .json

What it does, per fleet size:
  1. starts a lab of N real sshd hosts (`baton lab`, network namespaces; needs root);
  2. installs ansible-core and pyinfra into bench/.venv from PyPI (first time only);
  3. for each tool: wipes /srv/bench on every host, runs the first run (everything changes)
     and the second run (nothing changes), with and without fact gathering, `--reps` times;
  4. checks every tool left the hosts in the same state as Baton (checksums of /srv/bench);
  5. reports the median wall time, controller CPU time and controller peak RSS, and the
     ratios measured in the same run.

Ansible runs with forks=N, pipelining and ControlPersist; pyinfra with its defaults; Baton
with its defaults; the floor is `ssh HOST sh -s < floor.sh` for all hosts in parallel.
"""

import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV = BENCH / ".venv"
BATON = REPO / "target" / "release" / "baton"


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def ensure_venv():
    py = VENV / "bin" / "python"
    if not (VENV / "bin" / "pyinfra").exists() or not (VENV / "bin" / "ansible-playbook").exists():
        print("installing ansible-core and pyinfra into bench/.venv ...", flush=True)
        sh([sys.executable, "-m", "venv", str(VENV)])
        sh([str(py), "-m", "pip", "install", "-q", "ansible-core>=2.16,<2.20", "pyinfra>=3,<4"])
    ver = lambda *c: sh(list(c)).stdout.strip().splitlines()[0]
    return {
        "ansible": ver(str(VENV / "bin" / "ansible-playbook"), "--version"),
        "pyinfra": ver(str(VENV / "bin" / "pyinfra"), "--version"),
    }


def start_lab(n):
    ready = Path(tempfile.mkdtemp()) / "ready"
    proc = subprocess.Popen([str(BATON), "lab", "--hosts", str(n), "--ready-file", str(ready)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not ready.exists():
        if proc.poll() is not None:
            raise SystemExit("the lab did not start: " + proc.stderr.read())
        if time.time() > deadline:
            proc.kill()
            raise SystemExit("the lab did not start in time")
        time.sleep(0.2)
    inventory = Path(ready.read_text().strip())
    return proc, inventory


def lab_hosts(inventory):
    hosts, vars_ = [], {}
    section = None
    for line in inventory.read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
            continue
        if not line or line.startswith("#"):
            continue
        if section == "[fleet]":
            name, *kv = line.split()
            d = dict(x.split("=", 1) for x in kv)
            hosts.append((name, d["ansible_host"], int(d.get("ansible_port", 22))))
        elif section == "[fleet:vars]":
            k, v = line.split("=", 1)
            vars_[k] = v.strip("'")
    return hosts, vars_


def peak_rss_mb(cmd, env=None, cwd=None):
    """Runs cmd under its own wait4 to read the peak RSS of its process tree's largest member."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    p.returncode = os.waitstatus_to_exitcode(status)
    # CPU of every descendant that was waited for (the ssh clients of the floor included).
    cpu = max(ru.ru_utime + ru.ru_stime,
              (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return wall, cpu, ru.ru_maxrss / 1024, p.returncode, out.decode(errors="replace")


def wipe(inventory):
    sh([str(BATON), "run", "all", "-i", str(inventory), "-m", "shell", "-a", "rm -rf /srv/bench"])


def state(inventory):
    out = sh([str(BATON), "run", "all", "-i", str(inventory), "-m", "shell", "-o", "-a",
              "cd /srv/bench 2>/dev/null && find . -type f -not -name '*.baton.tmp' | sort | "
              "grep -v '/run/reloaded$' | xargs -r sha256sum | sha256sum | cut -c1-16"]).stdout
    return sorted(line.split(" | ")[0] + " " + line.rsplit(" ", 1)[-1] for line in out.splitlines() if "| CHANGED" in line)


def tools(inventory, hosts, vars_, n, facts):
    key = vars_["ansible_ssh_private_key_file"]
    kh = inventory.parent / "known_hosts"
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_PIPELINING="True",
               ANSIBLE_FORKS=str(n), ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=60s",
               ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3")
    gather = ["-e", f"gather={str(facts).lower()}"]
    pyinv = BENCH / ".pyinfra_inventory.py"
    pyinv.write_text("fleet = [\n" + "".join(
        f"    ('{name}', {{'ssh_hostname': '{addr}', 'ssh_user': 'root', 'ssh_key': '{key}', 'ssh_known_hosts_file': '{kh}', "
        f"'ssh_strict_host_key_checking': 'yes', 'ssh_port': {port}}}),\n"
        for name, addr, port in hosts) + "]\n")
    ssh = (f"ssh -q -i {key} -o UserKnownHostsFile={kh} -o StrictHostKeyChecking=yes -o BatchMode=yes "
           f"-o IdentitiesOnly=yes")
    # `$!` per client: `$(jobs -p)` is a subshell with no jobs, so nothing would be waited for
    # (the clients' CPU time would go uncounted and a failing host unnoticed).
    floor = ("fail=0; pids=; " + " ".join(f"{ssh} -p {port} root@{addr} 'sh -s' < {BENCH}/floor.sh & pids=\"$pids $!\"; "
                                          for _, addr, port in hosts)
             + "for p in $pids; do wait $p || fail=1; done; exit $fail")
    return {
        "baton": ([str(BATON), "play", str(BENCH / "webhost.yml"), "-i", str(inventory)] + gather, None, None),
        "ansible": ([str(VENV / "bin" / "ansible-playbook"), str(BENCH / "webhost.yml"), "-i", str(inventory)] + gather, env, None),
        "pyinfra": ([str(VENV / "bin" / "pyinfra"), str(pyinv), "pyinfra_deploy.py", "-y", "--parallel", str(n)], None, BENCH),
        "floor": (["sh", "-c", floor], None, None),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, nargs="+", default=[10, 50])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--tools", nargs="+", default=["baton", "ansible", "pyinfra", "floor"])
    ap.add_argument("--ansible-hosts", type=int, nargs="+",
                    help="fleet sizes at which Ansible runs too (default: every size; it takes ~3.6 s per host and run)")
    ap.add_argument("--ansible-facts-hosts", type=int, nargs="+",
                    help="fleet sizes at which Ansible also runs with fact gathering (default: --ansible-hosts)")
    ap.add_argument("--ansible-reps", type=int, help="repetitions for Ansible (default: --reps)")
    ap.add_argument("--no-facts-variant", action="store_true", help="skip the runs with fact gathering")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the benchmark starts a lab fleet in network namespaces: run it as root")
    sh(["cargo", "build", "--release", "--quiet"], cwd=REPO)
    versions = ensure_venv()
    versions["baton"] = sh([str(BATON), "--version"]).stdout.strip()
    rows, raw, algorithms = [], [], {}
    for n in args.hosts:
        lab, inventory = start_lab(n)
        try:
            hosts, vars_ = lab_hosts(inventory)
            if not algorithms:
                algorithms = negotiated(inventory, hosts, vars_)
            reference = None
            for facts in ([False] if args.no_facts_variant else [False, True]):
                cmds = tools(inventory, hosts, vars_, n, facts)
                for tool in args.tools:
                    sizes = args.ansible_facts_hosts if facts and args.ansible_facts_hosts else args.ansible_hosts
                    if tool == "ansible" and sizes and n not in sizes:
                        continue
                    # Only Baton and Ansible gather facts; pyinfra and the floor would repeat
                    # the very same runs.
                    if facts and tool in ("pyinfra", "floor"):
                        continue
                    cmd, env, cwd = cmds[tool]
                    reps = args.ansible_reps if tool == "ansible" and args.ansible_reps else args.reps
                    for phase in ("first", "second"):
                        samples = []
                        for rep in range(reps):
                            if phase == "first":
                                wipe(inventory)
                            else:
                                wipe(inventory)
                                peak_rss_mb(cmd, env, cwd)  # the first run, not measured
                            wall, cpu, rss, code, out = peak_rss_mb(cmd, env, cwd)
                            if code != 0:
                                print(out[-3000:])
                                raise SystemExit(f"{tool} failed ({code}) on {n} hosts")
                            samples.append((wall, cpu, rss))
                            raw.append({"hosts": n, "tool": tool, "facts": facts, "phase": phase, "rep": rep,
                                        "wall_s": wall, "cpu_s": cpu, "peak_rss_mb": rss})
                        st = state(inventory)
                        if tool == "baton":
                            reference = st
                        same = st == reference
                        med = [statistics.median(s[i] for s in samples) for i in range(3)]
                        rows.append({"hosts": n, "tool": tool, "facts": facts, "phase": phase, "reps": reps, "wall_s": med[0],
                                     "cpu_s": med[1], "peak_rss_mb": med[2], "same_state_as_baton": same})
                        print(f"{n:>4} hosts  {tool:<8} facts={facts!s:<5} {phase:<6}  wall {med[0]:7.2f}s  "
                              f"cpu {med[1]:6.2f}s  rss {med[2]:6.1f} MB  same state: {same}", flush=True)
        finally:
            lab.send_signal(signal.SIGTERM)
            lab.wait(timeout=60)
    write(rows, raw, versions, args, algorithms)


def negotiated(inventory, hosts, vars_):
    """What Baton's SSH sessions negotiate (from `baton play -vv`), and what OpenSSH's own client
    negotiates with the same host (from `ssh -v`), for the report."""
    r = subprocess.run([str(BATON), "play", str(BENCH / "connect.yml"), "-i", str(inventory), "-vv"],
                       text=True, capture_output=True)
    out = r.stdout + r.stderr
    baton = sorted({line.split(": ", 2)[-1].strip() for line in out.splitlines() if "> connected: ssh" in line})
    _, addr, port = hosts[0]
    key = vars_["ansible_ssh_private_key_file"]
    kh = inventory.parent / "known_hosts"
    v = subprocess.run(["ssh", "-v", "-i", key, "-o", f"UserKnownHostsFile={kh}", "-o", "BatchMode=yes",
                        "-o", "IdentitiesOnly=yes", "-p", str(port), f"root@{addr}", "true"],
                       text=True, capture_output=True).stderr
    openssh = [line.split("debug1: ", 1)[-1] for line in v.splitlines()
               if "remote software version" in line or "kex: algorithm:" in line or "kex: host key algorithm:" in line or "kex: server->client cipher:" in line]
    return {"baton": baton, "openssh": openssh}


def per_host_ms(rows, tool, facts, phase):
    """Wall time per added host between the smallest and the largest fleet (ms)."""
    pts = sorted((r["hosts"], r["wall_s"]) for r in rows
                 if r["tool"] == tool and r["facts"] == facts and r["phase"] == phase)
    if len(pts) < 2 or pts[-1][0] == pts[0][0]:
        return None
    return 1000 * (pts[-1][1] - pts[0][1]) / (pts[-1][0] - pts[0][0])


def write(rows, raw, versions, args, algorithms):
    (BENCH / "results.json").write_text(json.dumps(
        {"versions": versions, "negotiated": algorithms, "rows": rows, "raw": raw}, indent=2))
    lines = [
        f"# Benchmark results ({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {os.cpu_count()} cores, {os.uname().sysname} {os.uname().release}. "
        f"Medians of the runs in the `reps` column. Versions: " + "; ".join(f"{k}: {v}" for k, v in versions.items()) + ".",
        "",
        "| hosts | facts | run | tool | reps | wall (s) | controller CPU (s) | peak RSS (MB) | vs Baton (wall) | same state |",
        "|---:|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        base = next((b for b in rows if b["tool"] == "baton" and b["hosts"] == r["hosts"]
                     and b["facts"] == r["facts"] and b["phase"] == r["phase"]), None)
        ratio = f"{r['wall_s'] / base['wall_s']:.1f}x" if base else "-"
        lines.append(f"| {r['hosts']} | {'yes' if r['facts'] else 'no'} | {r['phase']} | {r['tool']} | {r['reps']} | {r['wall_s']:.2f} | "
                     f"{r['cpu_s']:.2f} | {r['peak_rss_mb']:.1f} | {ratio} | {'yes' if r['same_state_as_baton'] else 'NO'} |")
    scaling = []
    for tool in args.tools:
        for facts in (False, True):
            for phase in ("first", "second"):
                ms = per_host_ms(rows, tool, facts, phase)
                if ms is not None:
                    scaling.append(f"| {tool} | {'yes' if facts else 'no'} | {phase} | {ms:.0f} |")
    if scaling:
        sizes = sorted({r["hosts"] for r in rows})
        lines += ["", f"Wall time per added host, from {sizes[0]} to {sizes[-1]} hosts:", "",
                  "| tool | facts | run | ms per host |", "|---|---|---|---:|"] + scaling
    lines += ["", "SSH algorithms Baton negotiated (every host; `baton play bench/connect.yml -vv`):", ""]
    lines += [f"- {a}" for a in algorithms.get("baton", [])] or ["- (none reported)"]
    lines += ["", "OpenSSH's own client with the same host (`ssh -v`):", ""]
    lines += [f"- {a}" for a in algorithms.get("openssh", [])] or ["- (none reported)"]
    lines += ["", "Baton offers russh's defaults, none removed: the hybrid post-quantum `mlkem768x25519-sha256` "
              "first (OpenSSH 10's default; servers from OpenSSH 9.9 accept it), then `curve25519-sha256`. "
              "An older server such as Debian 12's OpenSSH 9.2 does not know `mlkem768x25519`, and russh does "
              "not implement `sntrup761x25519` (that server's default), so they agree on `curve25519-sha256`: "
              "the same classical strength as OpenSSH's choice, without its post-quantum half. "
              "See the README's Speed section."]
    (BENCH / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
