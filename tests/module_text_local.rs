//! The text, search and run modules for real through the local connection, in a temp dir:
//! first run changes, second run is ok, check mode predicts without touching, diff shows
//! before/after.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use baton::connection::local::LocalConnection;
use baton::event::{Status, TaskResult};
use baton::modules::{
    ModuleArgs, ModuleCtx, ModuleDef, blockinfile, find, lineinfile, replace, script, template, unarchive,
};
use serde_json::{Value, json};

struct Run {
    check: bool,
    diff: bool,
}

const APPLY: Run = Run { check: false, diff: false };
const CHECK: Run = Run { check: true, diff: false };
const DIFF: Run = Run { check: false, diff: true };

async fn run(module: &ModuleDef, how: Run, args: Value) -> TaskResult {
    let conn = LocalConnection::new();
    let ctx = ModuleCtx {
        host: "localhost",
        conn: &conn,
        r#become: None,
        check_mode: how.check,
        diff: how.diff,
        env: vec![],
        timeout: None,
        controller: &baton::modules::context::Cwd,
    };
    let args = ModuleArgs(args.as_object().unwrap().clone());
    args.validate(module).unwrap();
    (module.run)(&ctx, args).await.unwrap()
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn mode_of(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

#[tokio::test]
async fn lineinfile_adds_replaces_removes_and_is_idempotent() {
    let tmp = ::tempfile::tempdir().unwrap();
    let f = tmp.path().join("app.conf");
    std::fs::write(&f, "port=80\nhost=a\n").unwrap();

    let args = json!({"path": s(&f), "regexp": "^port=", "line": "port=8080"});
    let r = run(&lineinfile::MODULE, CHECK, args.clone()).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    assert_eq!(read(&f), "port=80\nhost=a\n", "check mode wrote");
    let r = run(&lineinfile::MODULE, DIFF, args.clone()).await;
    assert_eq!((r.status, r.msg.as_deref()), (Status::Changed, Some("line replaced")), "{r:?}");
    assert_eq!(read(&f), "port=8080\nhost=a\n");
    assert!(r.data["diff"].to_string().contains("port=8080"), "{r:?}");
    let r = run(&lineinfile::MODULE, APPLY, args).await;
    assert_eq!(r.status, Status::Ok, "{r:?}");

    let r =
        run(&lineinfile::MODULE, APPLY, json!({"path": s(&f), "line": "new=1", "insertbefore": "BOF"})).await;
    assert_eq!((r.status, r.msg.as_deref()), (Status::Changed, Some("line added")));
    assert_eq!(read(&f), "new=1\nport=8080\nhost=a\n");

    let r = run(&lineinfile::MODULE, APPLY, json!({"path": s(&f), "regexp": "=", "state": "absent"})).await;
    assert_eq!((r.status, r.msg.as_deref()), (Status::Changed, Some("3 line(s) removed")));
    assert_eq!(read(&f), "");

    let created = tmp.path().join("new.conf");
    let r = run(&lineinfile::MODULE, APPLY, json!({"path": s(&created), "line": "x", "create": true})).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    assert_eq!(read(&created), "x\n");
    let r = run(&lineinfile::MODULE, APPLY, json!({"path": s(&tmp.path().join("nope")), "line": "x"})).await;
    assert_eq!(r.status, Status::Failed, "{r:?}");
}

#[tokio::test]
async fn blockinfile_inserts_updates_and_removes_a_marked_block() {
    let tmp = ::tempfile::tempdir().unwrap();
    let f = tmp.path().join("hosts");
    std::fs::write(&f, "127.0.0.1 localhost\n").unwrap();
    let args = json!({"path": s(&f), "block": "10.0.0.1 a\n10.0.0.2 b"});
    let r = run(&blockinfile::MODULE, APPLY, args.clone()).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    assert_eq!(
        read(&f),
        "127.0.0.1 localhost\n# BEGIN ANSIBLE MANAGED BLOCK\n10.0.0.1 a\n10.0.0.2 b\n# END ANSIBLE MANAGED BLOCK\n"
    );
    assert_eq!(run(&blockinfile::MODULE, APPLY, args).await.status, Status::Ok);
    let r = run(&blockinfile::MODULE, APPLY, json!({"path": s(&f), "block": "10.0.0.3 c"})).await;
    assert_eq!(r.status, Status::Changed);
    assert!(read(&f).contains("\n10.0.0.3 c\n# END"));
    let r = run(&blockinfile::MODULE, APPLY, json!({"path": s(&f), "state": "absent"})).await;
    assert_eq!(r.status, Status::Changed);
    assert_eq!(read(&f), "127.0.0.1 localhost\n");
}

#[tokio::test]
async fn replace_rewrites_every_match_with_groups() {
    let tmp = ::tempfile::tempdir().unwrap();
    let f = tmp.path().join("hosts");
    std::fs::write(&f, "a old.host x\nb old.host\n").unwrap();
    let args = json!({"path": s(&f), "regexp": r"(\s+)old\.host", "replace": r"\1new.host", "backup": true});
    let r = run(&replace::MODULE, CHECK, args.clone()).await;
    assert_eq!(r.status, Status::Changed);
    assert_eq!(read(&f), "a old.host x\nb old.host\n");
    let r = run(&replace::MODULE, APPLY, args.clone()).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    assert_eq!(read(&f), "a new.host x\nb new.host\n");
    let backups = std::fs::read_dir(tmp.path()).unwrap().count();
    assert_eq!(backups, 2, "a backup is left beside the file");
    assert_eq!(run(&replace::MODULE, APPLY, args).await.status, Status::Ok);
}

#[tokio::test]
async fn template_renders_and_writes_like_copy() {
    let tmp = ::tempfile::tempdir().unwrap();
    let src = tmp.path().join("motd.j2");
    std::fs::write(&src, "{% for i in range(3) %}{{ i }}{% endfor %}\nx={{ 1 + 1 }}\n").unwrap();
    let dest = tmp.path().join("motd");
    let args = json!({"src": s(&src), "dest": s(&dest), "mode": "0640"});
    let r = run(&template::MODULE, CHECK, args.clone()).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    assert!(!dest.exists());
    let r = run(&template::MODULE, APPLY, args.clone()).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    assert_eq!(read(&dest), "012x=2\n");
    assert_eq!(r.data["checksum"], baton::modules::fileinfo::sha1_hex(b"012x=2\n"));
    assert_eq!(run(&template::MODULE, APPLY, args).await.status, Status::Ok);
    assert_eq!(mode_of(&dest), 0o640);

    // `mode: preserve` takes the template file's own mode.
    std::fs::set_permissions(&src, std::fs::Permissions::from_mode(0o751)).unwrap();
    let kept = tmp.path().join("kept");
    let r =
        run(&template::MODULE, APPLY, json!({"src": s(&src), "dest": s(&kept), "mode": "preserve"})).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    assert_eq!(mode_of(&kept), 0o751);
}

#[tokio::test]
async fn find_filters_names_types_sizes_and_content() {
    let tmp = ::tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("a.log"), "Listen 80\n").unwrap();
    std::fs::write(root.join("b.gz"), vec![0u8; 20_000]).unwrap();
    std::fs::write(root.join(".h.log"), "x").unwrap();
    std::fs::write(root.join("sub/c.log"), "# Listen\n").unwrap();
    std::os::unix::fs::symlink(root.join("a.log"), root.join("l.log")).unwrap();

    let paths = |r: &TaskResult| {
        let mut v: Vec<String> = r.data["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap().strip_prefix(&s(root)).unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let r = run(&find::MODULE, APPLY, json!({"paths": s(root), "patterns": "*.log"})).await;
    assert_eq!(r.status, Status::Ok, "{r:?}");
    assert_eq!(paths(&r), vec!["/a.log"]);
    assert_eq!(r.data["matched"], 1);
    assert_eq!(r.data["examined"], 5);
    let f = &r.data["files"][0];
    assert_eq!((f["size"].as_i64(), f["isreg"].as_bool()), (Some(10), Some(true)));

    let r = run(
        &find::MODULE,
        APPLY,
        json!({"paths": s(root), "patterns": "*.log", "recurse": true, "hidden": true}),
    )
    .await;
    assert_eq!(paths(&r), vec!["/.h.log", "/a.log", "/sub/c.log"]);
    let r = run(&find::MODULE, APPLY, json!({"paths": s(root), "recurse": true, "contains": "Listen"})).await;
    assert_eq!(paths(&r), vec!["/a.log"]);
    let r = run(&find::MODULE, APPLY, json!({"paths": s(root), "size": "10k", "get_checksum": true})).await;
    assert_eq!(paths(&r), vec!["/b.gz"]);
    assert_eq!(r.data["files"][0]["checksum"], baton::modules::fileinfo::sha1_hex(&[0u8; 20_000]));
    let r = run(
        &find::MODULE,
        APPLY,
        json!({"paths": s(root), "size": "10k", "get_checksum": true, "checksum_algorithm": "md5"}),
    )
    .await;
    assert_eq!(r.data["files"][0]["checksum"], baton::modules::fileinfo::md5_hex(&[0u8; 20_000]));
    let r = run(&find::MODULE, APPLY, json!({"paths": s(root), "file_type": "link"})).await;
    assert_eq!(paths(&r), vec!["/l.log"]);
    let r = run(&find::MODULE, APPLY, json!({"paths": s(root), "file_type": "directory"})).await;
    assert_eq!(paths(&r), vec!["/sub"]);
    let r = run(&find::MODULE, APPLY, json!({"paths": [s(root), "/nonexistent-baton"]})).await;
    assert_eq!(r.data["skipped_paths"].as_object().unwrap().len(), 1);
}

#[tokio::test]
async fn script_uploads_runs_and_cleans_up() {
    let tmp = ::tempfile::tempdir().unwrap();
    let script_path = tmp.path().join("hello.sh");
    std::fs::write(&script_path, "#!/bin/sh\necho \"hello $1\"; echo oops >&2; pwd\n").unwrap();
    let marker = tmp.path().join("done");
    let args = json!({"cmd": format!("{} 'big world'", s(&script_path)), "chdir": s(tmp.path())});
    let r = run(&script::MODULE, APPLY, args).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    assert_eq!(r.stdout.as_deref(), Some(format!("hello big world\n{}\n", s(tmp.path())).as_str()));
    assert_eq!(r.stderr.as_deref(), Some("oops\n"));
    assert_eq!(r.rc, Some(0));

    let args = json!({"cmd": s(&script_path), "creates": s(&marker)});
    let r = run(&script::MODULE, CHECK, args.clone()).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    std::fs::write(&marker, "").unwrap();
    let r = run(&script::MODULE, APPLY, args).await;
    assert_eq!(r.status, Status::Ok, "{r:?}");

    std::fs::write(&script_path, "#!/bin/sh\nexit 3\n").unwrap();
    let r = run(&script::MODULE, APPLY, json!({"cmd": s(&script_path)})).await;
    assert_eq!((r.status, r.rc), (Status::Failed, Some(3)), "{r:?}");
    let r = run(&script::MODULE, APPLY, json!({"cmd": s(&tmp.path().join("missing.sh"))})).await;
    assert_eq!(r.status, Status::Failed);
}

/// Builds `src/` with two files and packs it with `tar` (flag `z`, `j`, `J` or none).
fn make_tar(dir: &Path, name: &str, flag: &str) -> std::path::PathBuf {
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("app/conf")).unwrap();
    std::fs::write(src.join("app/run.sh"), "echo run\n").unwrap();
    std::fs::write(src.join("app/conf/a.conf"), "a=1\n").unwrap();
    let archive = dir.join(name);
    let ok = std::process::Command::new("tar")
        .arg(format!("-c{flag}f"))
        .arg(&archive)
        .arg("-C")
        .arg(&src)
        .arg("app")
        .status()
        .unwrap()
        .success();
    assert!(ok);
    archive
}

#[tokio::test]
async fn unarchive_tar_is_idempotent_and_sees_changes() {
    for (name, flag) in [("app.tar.gz", "z"), ("app.tar", ""), ("app.tar.bz2", "j"), ("app.tar.xz", "J")] {
        let tmp = ::tempfile::tempdir().unwrap();
        let archive = make_tar(tmp.path(), name, flag);
        let dest = tmp.path().join("dest");
        std::fs::create_dir(&dest).unwrap();
        let args = json!({"src": s(&archive), "dest": s(&dest), "list_files": true});

        let r = run(&unarchive::MODULE, CHECK, args.clone()).await;
        assert_eq!(r.status, Status::Changed, "{name}: {r:?}");
        assert!(!dest.join("app").exists(), "check mode extracted");
        let r = run(&unarchive::MODULE, APPLY, args.clone()).await;
        assert_eq!(r.status, Status::Changed, "{name}: {r:?}");
        assert_eq!(read(&dest.join("app/conf/a.conf")), "a=1\n");
        assert_eq!(r.data["handler"], "TgzArchive");
        assert!(r.data["files"].as_array().unwrap().iter().any(|f| f == "app/run.sh"), "{r:?}");
        let r = run(&unarchive::MODULE, APPLY, args.clone()).await;
        assert_eq!(r.status, Status::Ok, "{name}: second run {r:?}");

        let moded = json!({"src": s(&archive), "dest": s(&dest), "mode": "0700"});
        let r = run(&unarchive::MODULE, APPLY, moded.clone()).await;
        assert_eq!(r.status, Status::Changed, "{name}: asked-for mode differs {r:?}");
        assert_eq!(mode_of(&dest.join("app/conf/a.conf")), 0o700);
        let r = run(&unarchive::MODULE, APPLY, moded).await;
        assert_eq!(r.status, Status::Ok, "{name}: mode now right {r:?}");

        std::fs::write(dest.join("app/run.sh"), "tampered\n").unwrap();
        let r = run(&unarchive::MODULE, APPLY, args.clone()).await;
        assert_eq!(r.status, Status::Changed, "{name}: {r:?}");
        assert_eq!(read(&dest.join("app/run.sh")), "echo run\n");
    }
}

#[tokio::test]
async fn unarchive_guards_and_errors() {
    let tmp = ::tempfile::tempdir().unwrap();
    let archive = make_tar(tmp.path(), "app.tgz", "z");
    let dest = tmp.path().join("dest");
    let r = run(&unarchive::MODULE, APPLY, json!({"src": s(&archive), "dest": s(&dest)})).await;
    assert_eq!(r.status, Status::Failed, "{r:?}");
    assert!(r.msg.unwrap().contains("must be an existing dir"));

    std::fs::create_dir(&dest).unwrap();
    let args =
        json!({"src": s(&archive), "dest": s(&dest), "remote_src": true, "creates": s(&dest.join("app"))});
    let r = run(&unarchive::MODULE, APPLY, args.clone()).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    let r = run(&unarchive::MODULE, APPLY, args).await;
    assert_eq!(r.status, Status::Skipped, "{r:?}");

    let r = run(&unarchive::MODULE, APPLY, json!({"src": "/nope.tgz", "dest": s(&dest), "remote_src": true}))
        .await;
    assert_eq!(r.status, Status::Failed, "{r:?}");
}

#[tokio::test]
async fn unarchive_zip_when_unzip_is_there() {
    let has = |tool: &str| {
        std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool}"))
            .status()
            .unwrap()
            .success()
    };
    if !has("unzip") || !has("zip") {
        eprintln!("skipped: zip/unzip not installed");
        return;
    }
    let tmp = ::tempfile::tempdir().unwrap();
    make_tar(tmp.path(), "unused.tar", "");
    let archive = tmp.path().join("app.zip");
    let ok = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("cd {}/src && zip -qr {} app", s(tmp.path()), s(&archive)))
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let dest = tmp.path().join("dest");
    std::fs::create_dir(&dest).unwrap();
    let args = json!({"src": s(&archive), "dest": s(&dest)});
    let r = run(&unarchive::MODULE, APPLY, args.clone()).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    assert_eq!(r.data["handler"], "ZipArchive");
    assert_eq!(read(&dest.join("app/run.sh")), "echo run\n");
    assert_eq!(run(&unarchive::MODULE, APPLY, args.clone()).await.status, Status::Ok);
    std::fs::remove_file(dest.join("app/conf/a.conf")).unwrap();
    assert_eq!(run(&unarchive::MODULE, APPLY, args).await.status, Status::Changed);
    assert!(dest.join("app/conf/a.conf").exists());
}
