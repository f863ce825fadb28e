//! The SSH connection against a real OpenSSH server (started per test on 127.0.0.1, see
//! `connection_support.rs`). Skipped with a loud message when not root or sshd is missing.

#[path = "connection_support.rs"]
mod support;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use baton::connection::ssh::{HostKeyPolicy, SshConfigFile, SshConnection, apply_args};
use baton::connection::{
    Become, BecomeMethod, Command, ConnError, ConnectSpec, Connection, PutOptions, PutSource, Secret, connect,
};
use support::{AtomicChecker, Sshd, can_run, filled_file, fingerprint, mode_of};

macro_rules! need_sshd {
    ($name:expr) => {
        if !can_run($name) {
            return;
        }
    };
}

async fn login(sshd: &Sshd) -> SshConnection {
    SshConnection::connect(&sshd.options("root")).await.unwrap()
}

#[tokio::test]
async fn exec_reports_output_exit_codes_and_signals() {
    need_sshd!("exec_reports_output_exit_codes_and_signals");
    let sshd = Sshd::start();
    let conn = login(&sshd).await;
    let n = conn.negotiated();
    eprintln!("negotiated: {n}");
    assert!(!n.kex.is_empty() && !n.cipher.is_empty() && !n.host_key.is_empty());
    assert_eq!(n.host_key, "ssh-ed25519");

    let out = conn.exec(&Command::new("echo hello; echo oops >&2")).await.unwrap();
    assert_eq!(out.stdout_str(), "hello\n");
    assert_eq!(out.stderr_str(), "oops\n");
    assert_eq!(out.rc, Some(0));

    let out = conn.exec(&Command::new("exit 3")).await.unwrap();
    assert_eq!((out.rc, out.signal), (Some(3), None));

    let out = conn.exec(&Command::new("kill -TERM $$")).await.unwrap();
    assert_eq!(out.rc, None);
    assert_eq!(out.signal.as_deref(), Some("TERM"));

    // Arguments survive quoting, whatever the login shell.
    let arg = "it's $HOME; `x` \"y\"";
    let out = conn
        .exec(&Command::new(format!("printf %s {}", baton::connection::quote::quote(arg))))
        .await
        .unwrap();
    assert_eq!(out.stdout_str(), arg);
    conn.close().await.unwrap();
    assert!(conn.exec(&Command::new("true")).await.is_err());
}

#[tokio::test]
async fn env_and_cwd_apply_to_the_command() {
    need_sshd!("env_and_cwd_apply_to_the_command");
    let sshd = Sshd::start();
    let conn = login(&sshd).await;
    let mut cmd = Command::new("printf '%s|%s|' \"$GREETING\" \"$OTHER\"; pwd");
    cmd.env = vec![("GREETING".into(), "hello world".into()), ("OTHER".into(), "it's".into())];
    cmd.cwd = Some(sshd.dir.path().display().to_string());
    let out = conn.exec(&cmd).await.unwrap();
    assert_eq!(out.stdout_str(), format!("hello world|it's|{}\n", sshd.dir.path().display()));
    let mut bad = Command::new("pwd");
    bad.cwd = Some("/nonexistent/dir".into());
    let out = conn.exec(&bad).await.unwrap();
    assert_eq!(out.rc, Some(1));
}

#[tokio::test]
async fn stdin_is_delivered_and_closed() {
    need_sshd!("stdin_is_delivered_and_closed");
    let sshd = Sshd::start();
    let conn = login(&sshd).await;
    let mut cmd = Command::new("cat");
    cmd.stdin = Some(b"line one\nline two\n".to_vec());
    assert_eq!(conn.exec(&cmd).await.unwrap().stdout_str(), "line one\nline two\n");
    // Large stdin while the command also writes: no deadlock.
    let mut cmd = Command::new("cat; echo done >&2");
    cmd.stdin = Some(vec![b'x'; 5_000_000]);
    let out = conn.exec(&cmd).await.unwrap();
    assert_eq!(out.stdout.len(), 5_000_000);
    assert_eq!(out.stderr_str(), "done\n");
    // No stdin: EOF at once, so `cat` does not hang.
    let out = conn.exec(&Command::new("cat; echo end")).await.unwrap();
    assert_eq!(out.stdout_str(), "end\n");
}

#[tokio::test]
async fn big_output_is_read_completely() {
    need_sshd!("big_output_is_read_completely");
    let sshd = Sshd::start();
    let conn = login(&sshd).await;
    let out = conn
        .exec(&Command::new(
            "head -c 8000000 /dev/zero | tr '\\0' a; head -c 3000000 /dev/zero | tr '\\0' b >&2",
        ))
        .await
        .unwrap();
    assert_eq!(out.stdout.len(), 8_000_000);
    assert!(out.stdout.iter().all(|&b| b == b'a'));
    assert_eq!(out.stderr.len(), 3_000_000);
    assert_eq!(out.rc, Some(0));
}

#[tokio::test]
async fn many_commands_at_once_on_one_session() {
    need_sshd!("many_commands_at_once_on_one_session");
    let sshd = Sshd::start();
    let conn = login(&sshd).await;
    let runs = (0..20).map(|i| {
        let conn = &conn;
        async move { conn.exec(&Command::new(format!("echo {i}"))).await }
    });
    let outs = futures_util::future::join_all(runs).await;
    for (i, out) in outs.into_iter().enumerate() {
        assert_eq!(out.unwrap().stdout_str(), format!("{i}\n"));
    }
}

#[tokio::test]
async fn put_of_50_mb_is_atomic_and_sets_mode() {
    need_sshd!("put_of_50_mb_is_atomic_and_sets_mode");
    const LEN: usize = 50 * 1024 * 1024;
    let sshd = Sshd::start();
    let conn = login(&sshd).await;
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("payload.bin");
    let dest_s = dest.display().to_string();
    let old = filled_file(work.path(), "old", b'a', LEN);
    let new = filled_file(work.path(), "new", b'b', LEN);
    let opts = PutOptions { mode: Some(0o640), ..PutOptions::default() };
    conn.put(PutSource::File(old), &dest_s, &opts).await.unwrap();
    assert_eq!(mode_of(&dest), 0o640);

    let checker = AtomicChecker::start(dest.clone(), vec![(b'a', LEN), (b'b', LEN)]);
    let started = Instant::now();
    conn.put(PutSource::File(new), &dest_s, &PutOptions { mode: Some(0o600), ..PutOptions::default() })
        .await
        .unwrap();
    eprintln!("50 MB upload took {:?}", started.elapsed());
    std::thread::sleep(Duration::from_millis(200));
    let reads = checker.finish();
    assert!(reads > 1, "the reader never ran");
    let content = std::fs::read(&dest).unwrap();
    assert!(content.len() == LEN && content.iter().all(|&b| b == b'b'));
    assert_eq!(mode_of(&dest), 0o600);
    // No temp files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(work.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("baton-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // Bytes, owner and group; then get it back.
    let small = work.path().join("small.txt");
    let opts =
        PutOptions { owner: Some("nobody".into()), group: Some("nogroup".into()), ..PutOptions::default() };
    conn.put(PutSource::Bytes(b"hi\n".to_vec()), &small.display().to_string(), &opts).await.unwrap();
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(&small).unwrap();
    assert_eq!(meta.uid(), 65534);
    assert_eq!(mode_of(&small), 0o644);
    let back = conn.get(&small.display().to_string(), None).await.unwrap();
    assert_eq!(back, b"hi\n");
    let big = conn.get(&dest_s, None).await.unwrap();
    assert_eq!(big.len(), LEN);

    match conn.get("/nonexistent/file", None).await {
        Err(ConnError::Transfer { path, .. }) => assert_eq!(path, "/nonexistent/file"),
        other => panic!("{other:?}"),
    }
    let err =
        conn.put(PutSource::Bytes(vec![1]), "/nonexistent/dir/x", &PutOptions::default()).await.unwrap_err();
    assert!(matches!(err, ConnError::Transfer { .. }), "{err}");
}

#[tokio::test]
async fn changed_host_key_is_refused_with_both_fingerprints() {
    need_sshd!("changed_host_key_is_refused_with_both_fingerprints");
    let sshd = Sshd::start();
    let other = sshd.dir.path().join("other_host");
    support::keygen("ed25519", &other);
    let other_pub = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    let other_pub: Vec<&str> = other_pub.split_whitespace().take(2).collect();
    let kh = sshd.dir.path().join("kh_wrong");
    std::fs::write(&kh, format!("[127.0.0.1]:{} {}\n", sshd.port, other_pub.join(" "))).unwrap();
    let mut opts = sshd.options("root");
    opts.known_hosts = vec![kh];
    let err = SshConnection::connect(&opts).await.unwrap_err();
    let expected = fingerprint(&other.with_extension("pub"));
    let actual = fingerprint(&sshd.host_pub);
    match &err {
        ConnError::HostKeyMismatch { key_type, expected: e, actual: a, .. } => {
            assert_eq!(key_type, "ssh-ed25519");
            assert_eq!(e, &expected);
            assert_eq!(a, &actual);
        }
        other => panic!("{other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains(&expected) && msg.contains(&actual), "{msg}");
    assert!(err.is_unreachable());

    // accept-new never overrides a changed key.
    opts.host_key_policy = Some(HostKeyPolicy::AcceptNew);
    assert!(matches!(SshConnection::connect(&opts).await, Err(ConnError::HostKeyMismatch { .. })));
}

#[tokio::test]
async fn unknown_host_key_strict_refuses_accept_new_records() {
    need_sshd!("unknown_host_key_strict_refuses_accept_new_records");
    let sshd = Sshd::start();
    let kh = sshd.dir.path().join("fresh/known_hosts");
    let mut opts = sshd.options("root");
    opts.known_hosts = vec![kh.clone()];
    match SshConnection::connect(&opts).await {
        Err(ConnError::HostKeyUnknown { fingerprint: f, .. }) => {
            assert_eq!(f, fingerprint(&sshd.host_pub))
        }
        other => panic!("{other:?}"),
    }
    assert!(!kh.exists());

    opts.host_key_policy = Some(HostKeyPolicy::AcceptNew);
    let conn = SshConnection::connect(&opts).await.unwrap();
    conn.close().await.unwrap();
    let recorded = std::fs::read_to_string(&kh).unwrap();
    assert_eq!(recorded, format!("[127.0.0.1]:{} {}\n", sshd.port, sshd.host_key));
    // Now it is known: strict accepts it, and it is not recorded twice.
    opts.host_key_policy = Some(HostKeyPolicy::Strict);
    SshConnection::connect(&opts).await.unwrap();
    opts.host_key_policy = Some(HostKeyPolicy::AcceptNew);
    SshConnection::connect(&opts).await.unwrap();
    assert_eq!(std::fs::read_to_string(&kh).unwrap().lines().count(), 1);

    // Off accepts anything.
    let mut off = sshd.options("root");
    off.known_hosts = vec![sshd.dir.path().join("none")];
    off.host_key_policy = Some(HostKeyPolicy::Off);
    SshConnection::connect(&off).await.unwrap();
}

#[tokio::test]
async fn hashed_known_hosts_entries_are_matched() {
    need_sshd!("hashed_known_hosts_entries_are_matched");
    let sshd = Sshd::start();
    let out =
        std::process::Command::new("ssh-keygen").arg("-H").arg("-f").arg(&sshd.known_hosts).output().unwrap();
    assert!(out.status.success());
    let text = std::fs::read_to_string(&sshd.known_hosts).unwrap();
    assert!(text.starts_with("|1|"), "{text}");
    login(&sshd).await;
}

#[tokio::test]
async fn rsa_and_ecdsa_keys_log_in() {
    need_sshd!("rsa_and_ecdsa_keys_log_in");
    let sshd = Sshd::start();
    for key in [&sshd.rsa_key, &sshd.ecdsa_key] {
        let mut opts = sshd.options("root");
        opts.identity_files = vec![key.clone()];
        let conn = SshConnection::connect(&opts).await.unwrap_or_else(|e| panic!("{}: {e}", key.display()));
        assert_eq!(conn.exec(&Command::new("echo ok")).await.unwrap().stdout_str(), "ok\n");
    }
}

#[tokio::test]
async fn wrong_key_is_an_auth_error() {
    need_sshd!("wrong_key_is_an_auth_error");
    let sshd = Sshd::start();
    let mut opts = sshd.options("root");
    opts.identity_files = vec![sshd.stranger_key.clone()];
    let err = SshConnection::connect(&opts).await.unwrap_err();
    match &err {
        ConnError::Auth { user, reason, .. } => {
            assert_eq!(user, "root");
            assert!(reason.contains("stranger"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_unreachable());
    eprintln!("{err}");

    // A key file that does not exist is named.
    opts.identity_files = vec![PathBuf::from("/nonexistent/key")];
    let err = SshConnection::connect(&opts).await.unwrap_err();
    assert!(err.to_string().contains("/nonexistent/key"), "{err}");
}

#[tokio::test]
async fn encrypted_key_uses_the_passphrase_variable() {
    need_sshd!("encrypted_key_uses_the_passphrase_variable");
    let sshd = Sshd::start();
    let key = sshd.dir.path().join("client_locked");
    std::fs::copy(&sshd.client_key, &key).unwrap();
    let out = std::process::Command::new("ssh-keygen")
        .args(["-q", "-p", "-N", "open sesame", "-P", "", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success());
    // SAFETY: only this test reads the variable; set before any connection in this process
    // could need it for this (unique) key path.
    unsafe { std::env::set_var(baton::connection::ssh::auth::PASSPHRASE_ENV, "open sesame") };
    let mut opts = sshd.options("root");
    opts.identity_files = vec![key];
    SshConnection::connect(&opts).await.unwrap();
}

#[tokio::test]
async fn closed_port_fails_fast_with_connect_error() {
    need_sshd!("closed_port_fails_fast_with_connect_error");
    let sshd = Sshd::start();
    let mut opts = sshd.options("root");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    opts.port = Some(port);
    let started = Instant::now();
    let err = SshConnection::connect(&opts).await.unwrap_err();
    assert!(matches!(err, ConnError::Connect { .. }), "{err}");
    assert!(err.is_unreachable());
    assert!(started.elapsed() < Duration::from_secs(2));

    // A server that accepts TCP but never speaks: the connect timeout fires.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    opts.port = Some(silent.local_addr().unwrap().port());
    opts.connect_timeout = Some(Duration::from_secs(1));
    let started = Instant::now();
    let err = SshConnection::connect(&opts).await.unwrap_err();
    assert!(matches!(err, ConnError::Timeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn command_timeout_kills_the_command_and_keeps_the_session() {
    need_sshd!("command_timeout_kills_the_command_and_keeps_the_session");
    let sshd = Sshd::start();
    let conn = login(&sshd).await;
    let marker = sshd.dir.path().join("survived");
    let mut cmd = Command::new(format!("(sleep 4; touch {}) & sleep 30", marker.display()));
    cmd.timeout = Some(Duration::from_secs(1));
    let started = Instant::now();
    let err = conn.exec(&cmd).await.unwrap_err();
    assert!(matches!(err, ConnError::CommandTimeout { secs: 1, .. }), "{err}");
    assert!(!err.is_unreachable());
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(conn.exec(&Command::new("echo still")).await.unwrap().stdout_str(), "still\n");
    // The host killed the command and its background child too.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(!marker.exists(), "a background child outlived the timeout");
}

#[tokio::test]
async fn dead_session_is_reported_lost() {
    need_sshd!("dead_session_is_reported_lost");
    let sshd = Sshd::start();
    let conn = login(&sshd).await;
    conn.exec(&Command::new("true")).await.unwrap();
    sshd.kill_sessions();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let err = conn.exec(&Command::new("true")).await.unwrap_err();
    assert!(matches!(err, ConnError::Lost { .. }), "{err}");
    assert!(err.is_unreachable());
}

#[tokio::test]
async fn proxy_jump_tunnels_through_a_bastion() {
    need_sshd!("proxy_jump_tunnels_through_a_bastion");
    let bastion = Sshd::start();
    let target = Sshd::start();
    // The target trusts the same client key as the bastion; known_hosts has both.
    std::fs::copy(bastion.dir.path().join("authorized_keys"), target.dir.path().join("authorized_keys"))
        .unwrap();
    let kh = target.dir.path().join("both_known");
    std::fs::write(
        &kh,
        format!(
            "[127.0.0.1]:{} {}\n[127.0.0.1]:{} {}\n",
            bastion.port, bastion.host_key, target.port, target.host_key
        ),
    )
    .unwrap();
    let mut opts = target.options("root");
    opts.identity_files = vec![bastion.client_key.clone()];
    opts.known_hosts = vec![kh];
    let warnings = apply_args(&mut opts, &format!("-J root@127.0.0.1:{}", bastion.port));
    assert!(warnings.is_empty());
    let conn = SshConnection::connect(&opts).await.unwrap();
    let out = conn.exec(&Command::new("echo $SSH_CONNECTION")).await.unwrap();
    // The target sees the connection coming from the bastion's side, on its own port.
    assert!(out.stdout_str().trim_end().ends_with(&target.port.to_string()));
}

#[tokio::test]
async fn ssh_config_and_openssh_args_are_honoured() {
    need_sshd!("ssh_config_and_openssh_args_are_honoured");
    let sshd = Sshd::start();
    let config = sshd.dir.path().join("ssh_config");
    std::fs::write(
        &config,
        format!(
            "Host webby\n  HostName 127.0.0.1\n  Port {}\n  User root\n  IdentityFile {}\n  \
             UserKnownHostsFile {}\n  StrictHostKeyChecking yes\n\nHost *\n  User nobody\n",
            sshd.port,
            sshd.client_key.display(),
            sshd.known_hosts.display()
        ),
    )
    .unwrap();
    let mut opts = baton::connection::ssh::SshOptions::new("webby");
    opts.ssh_config = SshConfigFile::Path(config);
    opts.use_agent = Some(false);
    let conn = connect(ConnectSpec::Ssh(Box::new(opts))).await.unwrap();
    assert_eq!(conn.exec(&Command::new("id -un")).await.unwrap().stdout_str(), "root\n");

    // The same through ansible_ssh_common_args-style options only.
    let mut opts = baton::connection::ssh::SshOptions::new("127.0.0.1");
    opts.ssh_config = SshConfigFile::None;
    opts.use_agent = Some(false);
    let warnings = apply_args(
        &mut opts,
        &format!(
            "-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -i {} -p {} -o User=root -o ControlPersist=60s",
            sshd.known_hosts.display(),
            sshd.client_key.display(),
            sshd.port
        ),
    );
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("ControlPersist"));
    let conn = connect(ConnectSpec::Ssh(Box::new(opts))).await.unwrap();
    assert_eq!(conn.exec(&Command::new("echo ok")).await.unwrap().stdout_str(), "ok\n");
}

// ---------------------------------------------------------------------------------------------
// become (sudo) with throwaway users

const NOPASS_USER: &str = "baton-tsudo-np";
const PASS_USER: &str = "baton-tsudo-pw";
const PASSWORD: &str = "Baton-test-pw-1";
const SUDOERS: &str = "/etc/sudoers.d/baton-connection-test";

/// Creates the sudo test users and removes them on drop. One test uses them, so nothing runs
/// in parallel with it; the lock keeps it that way if more are added.
struct SudoUsers {
    _lock: std::sync::MutexGuard<'static, ()>,
}

static USERS_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl SudoUsers {
    fn create() -> SudoUsers {
        let lock = USERS_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let users = SudoUsers { _lock: lock };
        users.remove();
        for user in [NOPASS_USER, PASS_USER] {
            let ok = std::process::Command::new("useradd")
                .args(["-m", "-s", "/bin/sh", user])
                .status()
                .unwrap()
                .success();
            assert!(ok, "useradd {user}");
        }
        // Not locked (sshd refuses locked accounts without PAM); no usable password.
        let ok =
            std::process::Command::new("usermod").args(["-p", "*", NOPASS_USER]).status().unwrap().success();
        assert!(ok);
        let mut chpasswd =
            std::process::Command::new("chpasswd").stdin(std::process::Stdio::piped()).spawn().unwrap();
        use std::io::Write;
        chpasswd.stdin.take().unwrap().write_all(format!("{PASS_USER}:{PASSWORD}\n").as_bytes()).unwrap();
        assert!(chpasswd.wait().unwrap().success());
        std::fs::write(
            SUDOERS,
            format!(
                "{NOPASS_USER} ALL=(ALL) NOPASSWD: ALL\n{PASS_USER} ALL=(ALL) ALL\n\
                 Defaults:{PASS_USER} lecture=never, passwd_tries=3\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(SUDOERS, std::os::unix::fs::PermissionsExt::from_mode(0o440)).unwrap();
        users
    }

    fn remove(&self) {
        let _ = std::fs::remove_file(SUDOERS);
        for user in [NOPASS_USER, PASS_USER] {
            let _ = std::process::Command::new("userdel")
                .args(["-r", "-f", user])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

impl Drop for SudoUsers {
    fn drop(&mut self) {
        self.remove();
    }
}

fn sudo(password: Option<&str>) -> Become {
    Become { method: BecomeMethod::Sudo, user: "root".into(), password: password.map(|p| Secret(p.into())) }
}

#[tokio::test]
async fn sudo_become_with_and_without_password() {
    need_sshd!("sudo_become_with_and_without_password");
    let _users = SudoUsers::create();
    let sshd = Sshd::start();

    // NOPASSWD user: sudo -n works; env and cwd apply inside the become'd shell; stdin
    // reaches the command only after sudo let it run.
    let np = SshConnection::connect(&sshd.options(NOPASS_USER)).await.unwrap();
    let mut cmd = Command::new("id -u; echo \"$BATON_T\"; pwd; cat");
    cmd.r#become = Some(sudo(None));
    cmd.env = vec![("BATON_T".into(), "kept through sudo".into())];
    cmd.cwd = Some("/root".into());
    cmd.stdin = Some(b"from stdin\n".to_vec());
    let out = np.exec(&cmd).await.unwrap();
    assert_eq!(out.stdout_str(), "0\nkept through sudo\n/root\nfrom stdin\n", "stderr: {}", out.stderr_str());
    assert_eq!(out.rc, Some(0));
    // A password given but not needed is never asked for: still fine.
    let mut cmd = Command::new("id -un");
    cmd.r#become = Some(sudo(Some("unused")));
    assert_eq!(np.exec(&cmd).await.unwrap().stdout_str(), "root\n");
    // Exit codes of the become'd command come through.
    let mut cmd = Command::new("exit 7");
    cmd.r#become = Some(sudo(None));
    assert_eq!(np.exec(&cmd).await.unwrap().rc, Some(7));

    // Put and get as root through sudo.
    let dest = "/root/baton-become-put.txt";
    let opts = PutOptions { mode: Some(0o600), r#become: Some(sudo(None)), ..PutOptions::default() };
    np.put(PutSource::Bytes(b"secret data\n".to_vec()), dest, &opts).await.unwrap();
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(dest).unwrap();
    assert_eq!((meta.uid(), mode_of(std::path::Path::new(dest))), (0, 0o600));
    let back = np.get(dest, Some(&sudo(None))).await.unwrap();
    assert_eq!(back, b"secret data\n");
    let _ = std::fs::remove_file(dest);
    // Without become the login user cannot read it.
    assert!(np.get("/root/.bashrc-baton-none", None).await.is_err());

    // Password user: the right password works.
    let pw = SshConnection::connect(&sshd.options(PASS_USER)).await.unwrap();
    let mut cmd = Command::new("id -u; cat");
    cmd.r#become = Some(sudo(Some(PASSWORD)));
    cmd.stdin = Some(b"after the password\n".to_vec());
    let out = pw.exec(&cmd).await.unwrap();
    assert_eq!(out.stdout_str(), "0\nafter the password\n");
    assert!(!out.stderr_str().contains("baton-sudo"), "{}", out.stderr_str());

    // A wrong password: a clear error, quickly, and the password appears nowhere.
    let mut cmd = Command::new("id -u");
    cmd.r#become = Some(sudo(Some("wrong-password-xyz")));
    let started = Instant::now();
    let err = pw.exec(&cmd).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ConnError::Become(_)), "{msg}");
    assert!(msg.contains("incorrect sudo password"), "{msg}");
    assert!(!msg.contains("wrong-password-xyz"));
    assert!(!format!("{err:?}").contains("wrong-password-xyz"));
    assert!(!format!("{cmd:?}").contains("wrong-password-xyz"));
    assert!(started.elapsed() < Duration::from_secs(8), "{:?}", started.elapsed());

    // No password configured but sudo wants one: an error, never a hang.
    let mut cmd = Command::new("id -u");
    cmd.r#become = Some(sudo(None));
    cmd.timeout = Some(Duration::from_secs(20));
    let err = pw.exec(&cmd).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "become failed: sudo requires a password; pass -K or set ansible_become_password"
    );
    // The session is still usable after all that.
    assert_eq!(pw.exec(&Command::new("id -un")).await.unwrap().stdout_str(), format!("{PASS_USER}\n"));
}
