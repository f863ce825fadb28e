//! How many hosts to work on at once. Ansible defaults to 5; Baton works on all of them,
//! bounded only by the open-file limit (each SSH session holds a socket plus channel
//! bookkeeping, and the controller needs some descriptors of its own).

/// Descriptors kept back for the controller itself (stdio, config files, logs).
const RESERVED_FDS: u64 = 64;
/// Descriptors budgeted per host in flight.
const FDS_PER_HOST: u64 = 4;

/// Raises the soft open-file limit to the hard limit and returns the soft limit now in force.
pub fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read/write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let wanted = libc::rlimit { rlim_cur: lim.rlim_max.min(1 << 20), rlim_max: lim.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &wanted) == 0 {
                lim.rlim_cur = wanted.rlim_cur;
            }
        }
    }
    lim.rlim_cur
}

/// Hosts in flight: what the user asked for, else all hosts, never more than the budget allows.
pub fn forks(requested: Option<usize>, hosts: usize, fd_limit: u64) -> usize {
    let budget = (fd_limit.saturating_sub(RESERVED_FDS) / FDS_PER_HOST).max(1) as usize;
    requested.unwrap_or(hosts).min(budget).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_hosts_by_default_within_the_budget() {
        assert_eq!(forks(None, 200, 1024), 200);
        assert_eq!(forks(None, 5000, 1024), 240);
        assert_eq!(forks(Some(5), 200, 1024), 5);
        assert_eq!(forks(None, 0, 1024), 1);
    }
}
