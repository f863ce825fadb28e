//! The local connection: the same contract as SSH, run on this machine.

#[path = "connection_support.rs"]
mod support;

use std::time::{Duration, Instant};

use baton::connection::local::LocalConnection;
use baton::connection::{
    Become, BecomeMethod, Command, ConnError, ConnectSpec, Connection, PutOptions, PutSource, connect,
};
use support::{AtomicChecker, filled_file, mode_of};

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn have_sudo() -> bool {
    std::process::Command::new("sh")
        .args(["-c", "command -v sudo"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn sudo_to(user: &str) -> Become {
    Become { method: BecomeMethod::Sudo, user: user.into(), password: None }
}

#[tokio::test]
async fn exec_output_codes_signals_env_cwd_stdin() {
    let conn = connect(ConnectSpec::Local).await.unwrap();
    let out = conn.exec(&Command::new("echo hi; echo err >&2; exit 4")).await.unwrap();
    assert_eq!((out.stdout_str().as_str(), out.stderr_str().as_str(), out.rc), ("hi\n", "err\n", Some(4)));
    let out = conn.exec(&Command::new("kill -KILL $$")).await.unwrap();
    assert_eq!((out.rc, out.signal.as_deref()), (None, Some("KILL")));

    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new("printf '%s|' \"$A\"; pwd; cat");
    cmd.env = vec![("A".into(), "x 'y' $z".into())];
    cmd.cwd = Some(dir.path().display().to_string());
    cmd.stdin = Some(b"in\n".to_vec());
    let out = conn.exec(&cmd).await.unwrap();
    assert_eq!(out.stdout_str(), format!("x 'y' $z|{}\nin\n", dir.path().display()));
    let mut bad = Command::new("true");
    bad.env = vec![("NOT VALID".into(), "x".into())];
    assert!(matches!(conn.exec(&bad).await, Err(ConnError::Invalid { .. })));
}

#[tokio::test]
async fn big_output_and_big_stdin() {
    let conn = LocalConnection::new();
    let mut cmd = Command::new("cat; head -c 6000000 /dev/zero >&2");
    cmd.stdin = Some(vec![b'q'; 7_000_000]);
    let out = conn.exec(&cmd).await.unwrap();
    assert_eq!(out.stdout.len(), 7_000_000);
    assert_eq!(out.stderr.len(), 6_000_000);
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let conn = LocalConnection::new();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("survived");
    let mut cmd = Command::new(format!("(sleep 2; touch {}) & sleep 30", marker.display()));
    cmd.timeout = Some(Duration::from_millis(500));
    let started = Instant::now();
    let err = conn.exec(&cmd).await.unwrap_err();
    assert!(matches!(err, ConnError::CommandTimeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!marker.exists(), "a background child outlived the timeout");
}

#[tokio::test]
async fn put_is_atomic_sets_mode_and_get_reads_back() {
    const LEN: usize = 50 * 1024 * 1024;
    let conn = LocalConnection::new();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("blob");
    let dest_s = dest.display().to_string();
    let old = filled_file(dir.path(), "old", b'o', LEN);
    let new = filled_file(dir.path(), "new", b'n', LEN);
    conn.put(PutSource::File(old), &dest_s, &PutOptions::default()).await.unwrap();
    assert_eq!(mode_of(&dest), 0o644);
    let checker = AtomicChecker::start(dest.clone(), vec![(b'o', LEN), (b'n', LEN)]);
    conn.put(PutSource::File(new), &dest_s, &PutOptions { mode: Some(0o604), ..PutOptions::default() })
        .await
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(checker.finish() > 1);
    assert_eq!(mode_of(&dest), 0o604);
    let back = conn.get(&dest_s, None).await.unwrap();
    assert!(back.len() == LEN && back.iter().all(|&b| b == b'n'));
    // Without a mode, an existing file keeps its own.
    conn.put(PutSource::Bytes(b"x".to_vec()), &dest_s, &PutOptions::default()).await.unwrap();
    assert_eq!(mode_of(&dest), 0o604);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains("baton-tmp")), "{names:?}");
    assert!(matches!(conn.get("/nonexistent/x", None).await, Err(ConnError::Transfer { .. })));
    conn.close().await.unwrap();
    assert!(conn.exec(&Command::new("true")).await.is_err());
}

#[tokio::test]
async fn become_runs_as_another_user_with_env_and_cwd() {
    if !is_root() || !have_sudo() {
        eprintln!(
            "SKIPPED: become_runs_as_another_user_with_env_and_cwd: needs root and `sudo` (apt install sudo)"
        );
        return;
    }
    let conn = LocalConnection::new();
    let mut cmd = Command::new("id -un; echo \"$V\"; pwd; cat");
    cmd.r#become = Some(sudo_to("nobody"));
    cmd.env = vec![("V".into(), "through sudo".into())];
    cmd.cwd = Some("/tmp".into());
    cmd.stdin = Some(b"stdin after marker\n".to_vec());
    let out = conn.exec(&cmd).await.unwrap();
    assert_eq!(out.stdout_str(), "nobody\nthrough sudo\n/tmp\nstdin after marker\n", "{}", out.stderr_str());

    // Unknown become user: sudo's own complaint, as a become error.
    let mut cmd = Command::new("true");
    cmd.r#become = Some(sudo_to("baton-no-such-user"));
    let err = conn.exec(&cmd).await.unwrap_err();
    assert!(matches!(err, ConnError::Become(_)), "{err}");
    assert!(err.to_string().contains("baton-no-such-user"), "{err}");

    // Put as root with owner and mode, and get back through sudo.
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("owned.conf");
    let opts = PutOptions {
        mode: Some(0o640),
        owner: Some("nobody".into()),
        group: Some("nogroup".into()),
        r#become: Some(sudo_to("root")),
    };
    conn.put(PutSource::Bytes(b"conf\n".to_vec()), &dest.display().to_string(), &opts).await.unwrap();
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(&dest).unwrap();
    assert_eq!((meta.uid(), mode_of(&dest)), (65534, 0o640));
    let back = conn.get(&dest.display().to_string(), Some(&sudo_to("root"))).await.unwrap();
    assert_eq!(back, b"conf\n");
}
