//! The file modules run for real through the local connection, in a temp dir: first run
//! changes, second run is ok, check mode predicts without touching, diff shows before/after.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use baton::connection::local::LocalConnection;
use baton::event::{Status, TaskResult};
use baton::modules::tempfile as tempfile_module;
use baton::modules::{ModuleArgs, ModuleCtx, ModuleDef, assemble, copy, fetch, file, fileinfo, slurp, stat};
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

fn mode_of(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[tokio::test]
async fn file_directory_is_idempotent_and_check_mode_touches_nothing() {
    let tmp = ::tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a b/c");
    let args = json!({"path": s(&dir), "state": "directory", "mode": "0750"});

    let r = run(&file::MODULE, CHECK, args.clone()).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    assert!(!dir.exists(), "check mode created the directory");
    assert_eq!(r.data["state"], "directory");

    let r = run(&file::MODULE, APPLY, args.clone()).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    assert_eq!(mode_of(&dir), 0o750);
    // Ansible gives the parents it creates the same mode.
    assert_eq!(mode_of(dir.parent().unwrap()), 0o750);
    assert_eq!(r.data["mode"], "0750");
    assert_eq!(r.data["state"], "directory");

    let r = run(&file::MODULE, APPLY, args).await;
    assert_eq!(r.status, Status::Ok, "{r:?}");

    let r = run(&file::MODULE, DIFF, json!({"path": s(&dir), "mode": "g+w"})).await;
    assert_eq!(r.status, Status::Changed);
    assert_eq!(mode_of(&dir), 0o770);
    assert!(r.data["diff"]["before"].as_str().unwrap().contains("mode: 0750"), "{r:?}");
    assert!(r.data["diff"]["after"].as_str().unwrap().contains("mode: 0770"), "{r:?}");
}

#[tokio::test]
async fn file_recurse_touch_link_hard_absent() {
    let tmp = ::tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/f"), "x").unwrap();
    std::fs::set_permissions(root.join("sub/f"), std::fs::Permissions::from_mode(0o600)).unwrap();

    let args = json!({"path": s(&root), "state": "directory", "recurse": true, "mode": "u=rwX,go=rX"});
    assert_eq!(run(&file::MODULE, APPLY, args.clone()).await.status, Status::Changed);
    assert_eq!(mode_of(&root.join("sub/f")), 0o644);
    assert_eq!(mode_of(&root.join("sub")), 0o755);
    assert_eq!(run(&file::MODULE, APPLY, args).await.status, Status::Ok);

    let flag = root.join("flag");
    let touch = json!({"path": s(&flag), "state": "touch", "mode": "0600"});
    assert_eq!(run(&file::MODULE, APPLY, touch.clone()).await.status, Status::Changed);
    assert_eq!(mode_of(&flag), 0o600);
    // Touch always changes (the times move), as in Ansible.
    assert_eq!(run(&file::MODULE, APPLY, touch).await.status, Status::Changed);

    let link = root.join("current");
    let args = json!({"path": s(&link), "state": "link", "src": "sub"});
    let r = run(&file::MODULE, APPLY, args.clone()).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("sub"));
    assert_eq!(run(&file::MODULE, APPLY, args).await.status, Status::Ok);

    let refused = run(&file::MODULE, APPLY, json!({"path": s(&flag), "state": "link", "src": "sub"})).await;
    assert_eq!(refused.status, Status::Failed);
    assert!(refused.msg.unwrap().contains("refusing to convert from file to symlink"));

    let hard = root.join("hard");
    let args = json!({"path": s(&hard), "state": "hard", "src": s(&root.join("sub/f"))});
    assert_eq!(run(&file::MODULE, APPLY, args.clone()).await.status, Status::Changed);
    assert_eq!(std::fs::read_to_string(&hard).unwrap(), "x");
    assert_eq!(run(&file::MODULE, APPLY, args).await.status, Status::Ok);

    let gone = json!({"path": s(&root), "state": "absent"});
    assert_eq!(run(&file::MODULE, APPLY, gone.clone()).await.status, Status::Changed);
    assert!(!root.exists());
    assert_eq!(run(&file::MODULE, APPLY, gone).await.status, Status::Ok);

    let r = run(&file::MODULE, APPLY, json!({"path": s(&root), "state": "file"})).await;
    assert_eq!(r.status, Status::Failed);
    assert!(r.msg.unwrap().contains("is absent, cannot continue"));
}

#[tokio::test]
async fn copy_content_changes_once_with_diff_backup_and_mode() {
    let tmp = ::tempfile::tempdir().unwrap();
    let dest = tmp.path().join("app.conf");
    let args = json!({"content": "a=1\n", "dest": s(&dest), "mode": "0640"});

    let r = run(&copy::MODULE, CHECK, args.clone()).await;
    assert_eq!(r.status, Status::Changed);
    assert!(!dest.exists());

    let r = run(&copy::MODULE, APPLY, args.clone()).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "a=1\n");
    assert_eq!(mode_of(&dest), 0o640);
    assert_eq!(r.data["checksum"], fileinfo::sha1_hex(b"a=1\n"));
    assert_eq!(r.data["mode"], "0640");
    assert_eq!(r.data["size"], 4);

    let r = run(&copy::MODULE, APPLY, args).await;
    assert_eq!(r.status, Status::Ok, "{r:?}");

    let args = json!({"content": "a=2\n", "dest": s(&dest), "backup": true});
    let r = run(&copy::MODULE, DIFF, args).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    assert_eq!(r.data["diff"]["before"], "a=1\n");
    assert_eq!(r.data["diff"]["after"], "a=2\n");
    assert_eq!(mode_of(&dest), 0o640, "the old mode is kept");
    let backup = r.data["backup_file"].as_str().unwrap();
    assert_eq!(std::fs::read_to_string(backup).unwrap(), "a=1\n");

    let r = run(&copy::MODULE, APPLY, json!({"content": "x", "dest": s(&dest), "mode": "u+x"})).await;
    assert_eq!(mode_of(&dest), 0o740, "{r:?}");
    let r = run(&copy::MODULE, APPLY, json!({"content": "y", "dest": s(&dest), "force": false})).await;
    assert_eq!(r.status, Status::Ok);
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "x");
}

#[tokio::test]
async fn copy_failing_validate_leaves_the_old_file() {
    let tmp = ::tempfile::tempdir().unwrap();
    let dest = tmp.path().join("sudoers");
    std::fs::write(&dest, "good\n").unwrap();
    let r = run(
        &copy::MODULE,
        APPLY,
        json!({"content": "bad\n", "dest": s(&dest), "validate": "grep -q good %s"}),
    )
    .await;
    assert_eq!(r.status, Status::Failed, "{r:?}");
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "good\n");
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "the temp file is removed");

    let r = run(
        &copy::MODULE,
        APPLY,
        json!({"content": "good too\n", "dest": s(&dest), "validate": "grep -q good %s"}),
    )
    .await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "good too\n");
}

#[tokio::test]
async fn copy_local_trees_and_remote_src() {
    let tmp = ::tempfile::tempdir().unwrap();
    let site = tmp.path().join("site");
    std::fs::create_dir_all(site.join("css")).unwrap();
    std::fs::write(site.join("index.html"), "<h1>hi</h1>").unwrap();
    std::fs::write(site.join("css/a b.css"), "body{}").unwrap();
    let www = tmp.path().join("www");
    std::fs::create_dir(&www).unwrap();

    // `site` copies the directory itself.
    let args = json!({"src": s(&site), "dest": s(&www), "directory_mode": "0750"});
    assert_eq!(run(&copy::MODULE, APPLY, args.clone()).await.status, Status::Changed);
    assert_eq!(std::fs::read_to_string(www.join("site/css/a b.css")).unwrap(), "body{}");
    assert_eq!(mode_of(&www.join("site/css")), 0o750);
    assert_eq!(run(&copy::MODULE, APPLY, args).await.status, Status::Ok);

    // `site/` copies what is inside.
    let args = json!({"src": format!("{}/", s(&site)), "dest": s(&www)});
    assert_eq!(run(&copy::MODULE, APPLY, args.clone()).await.status, Status::Changed);
    assert!(www.join("index.html").exists() && www.join("css/a b.css").exists());
    assert_eq!(run(&copy::MODULE, APPLY, args).await.status, Status::Ok);

    // A file into an existing directory lands inside it.
    let args = json!({"src": s(&site.join("index.html")), "dest": s(&tmp.path().join("www/site/css"))});
    assert_eq!(run(&copy::MODULE, APPLY, args).await.status, Status::Changed);
    assert!(www.join("site/css/index.html").exists());

    // On the host itself.
    let args = json!({"src": s(&site.join("index.html")), "dest": s(&tmp.path().join("copied")), "remote_src": true, "mode": "0600"});
    assert_eq!(run(&copy::MODULE, APPLY, args.clone()).await.status, Status::Changed);
    assert_eq!(std::fs::read_to_string(tmp.path().join("copied")).unwrap(), "<h1>hi</h1>");
    assert_eq!(mode_of(&tmp.path().join("copied")), 0o600);
    assert_eq!(run(&copy::MODULE, APPLY, args).await.status, Status::Ok);

    let args = json!({"src": s(&site), "dest": s(&tmp.path().join("mirror")), "remote_src": true});
    std::fs::create_dir(tmp.path().join("mirror")).unwrap();
    assert_eq!(run(&copy::MODULE, APPLY, args.clone()).await.status, Status::Changed);
    assert_eq!(std::fs::read_to_string(tmp.path().join("mirror/site/css/a b.css")).unwrap(), "body{}");
    assert_eq!(run(&copy::MODULE, APPLY, args).await.status, Status::Ok);

    let r = run(&copy::MODULE, APPLY, json!({"src": s(&tmp.path().join("nope")), "dest": s(&www)})).await;
    assert_eq!(r.status, Status::Failed);
}

#[tokio::test]
async fn owner_and_group_are_applied_when_running_as_root() {
    if !nix_is_root() {
        return;
    }
    let tmp = ::tempfile::tempdir().unwrap();
    let dest = tmp.path().join("owned");
    let args = json!({"content": "x", "dest": s(&dest), "owner": "nobody", "group": "0"});
    let r = run(&copy::MODULE, APPLY, args.clone()).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    assert_eq!(r.data["owner"], "nobody");
    assert_eq!(r.data["gid"], 0);
    assert_eq!(run(&copy::MODULE, APPLY, args).await.status, Status::Ok);

    let args = json!({"path": s(tmp.path()), "recurse": true, "owner": "nobody", "state": "directory"});
    assert_eq!(run(&file::MODULE, APPLY, args.clone()).await.status, Status::Changed);
    assert_eq!(run(&file::MODULE, APPLY, args).await.status, Status::Ok);
}

fn nix_is_root() -> bool {
    std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout == b"0\n")
}

#[tokio::test]
async fn stat_reports_files_links_and_absence() {
    let tmp = ::tempfile::tempdir().unwrap();
    let f = tmp.path().join("a file");
    std::fs::write(&f, "hello").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::symlink("a file", tmp.path().join("ln")).unwrap();

    let r = run(&stat::MODULE, APPLY, json!({"path": s(&f)})).await;
    assert_eq!(r.status, Status::Ok);
    let st = &r.data["stat"];
    assert_eq!(
        (st["exists"].clone(), st["isreg"].clone(), st["mode"].clone()),
        (json!(true), json!(true), json!("0640"))
    );
    assert_eq!(st["checksum"], fileinfo::sha1_hex(b"hello"));
    assert_eq!(st["size"], 5);

    let r = run(&stat::MODULE, APPLY, json!({"path": s(&f), "checksum_algorithm": "sha256"})).await;
    assert_eq!(
        r.data["stat"]["checksum"],
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );

    let r = run(&stat::MODULE, APPLY, json!({"path": s(&tmp.path().join("ln"))})).await;
    assert_eq!(
        (r.data["stat"]["islnk"].clone(), r.data["stat"]["lnk_target"].clone()),
        (json!(true), json!("a file"))
    );
    let r = run(&stat::MODULE, APPLY, json!({"path": s(&tmp.path().join("ln")), "follow": true})).await;
    assert_eq!(
        (r.data["stat"]["isreg"].clone(), r.data["stat"]["islnk"].clone()),
        (json!(true), json!(false))
    );

    let r = run(&stat::MODULE, APPLY, json!({"path": s(&tmp.path().join("nope"))})).await;
    assert_eq!(r.data["stat"], json!({"exists": false}));
}

#[tokio::test]
async fn slurp_and_fetch() {
    let tmp = ::tempfile::tempdir().unwrap();
    let f = tmp.path().join("data.bin");
    std::fs::write(&f, [0u8, 1, 2, 255]).unwrap();

    let r = run(&slurp::MODULE, APPLY, json!({"src": s(&f)})).await;
    assert_eq!((r.data["content"].clone(), r.data["encoding"].clone()), (json!("AAEC/w=="), json!("base64")));
    let r = run(&slurp::MODULE, APPLY, json!({"src": s(&tmp.path().join("nope"))})).await;
    assert_eq!(r.status, Status::Failed);
    assert!(r.msg.unwrap().starts_with("file not found"));

    let dest = tmp.path().join("fetched");
    let args = json!({"src": s(&f), "dest": s(&dest)});
    let r = run(&fetch::MODULE, CHECK, args.clone()).await;
    assert_eq!(r.status, Status::Changed);
    let r = run(&fetch::MODULE, APPLY, args.clone()).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    let local = dest.join("localhost").join(f.strip_prefix("/").unwrap());
    assert_eq!(std::fs::read(&local).unwrap(), [0u8, 1, 2, 255]);
    assert_eq!(r.data["dest"], s(&local));
    assert_eq!(run(&fetch::MODULE, APPLY, args).await.status, Status::Ok);

    let flat = json!({"src": s(&f), "dest": format!("{}/", s(&dest)), "flat": true});
    assert_eq!(run(&fetch::MODULE, APPLY, flat).await.status, Status::Changed);
    assert!(dest.join("data.bin").exists());

    let missing = json!({"src": s(&tmp.path().join("nope")), "dest": s(&dest), "fail_on_missing": false});
    assert_eq!(run(&fetch::MODULE, APPLY, missing).await.status, Status::Ok);
}

#[tokio::test]
async fn tempfile_creates_unique_paths() {
    let tmp = ::tempfile::tempdir().unwrap();
    let args = json!({"path": s(tmp.path()), "prefix": "up.", "suffix": ".d", "state": "directory"});
    let a = run(&tempfile_module::MODULE, APPLY, args.clone()).await;
    let b = run(&tempfile_module::MODULE, APPLY, args).await;
    assert_eq!((a.status, b.status), (Status::Changed, Status::Changed), "{a:?}");
    let (pa, pb) = (a.data["path"].as_str().unwrap(), b.data["path"].as_str().unwrap());
    assert_ne!(pa, pb);
    assert!(Path::new(pa).is_dir() && pa.ends_with(".d") && pa.contains("/up."), "{pa}");
    assert_eq!(a.data["state"], "directory");
    let f = run(&tempfile_module::MODULE, APPLY, json!({"path": s(tmp.path())})).await;
    assert!(Path::new(f.data["path"].as_str().unwrap()).is_file());
}

#[tokio::test]
async fn assemble_from_host_and_controller_fragments() {
    let tmp = ::tempfile::tempdir().unwrap();
    let frags = tmp.path().join("conf.d");
    std::fs::create_dir(&frags).unwrap();
    std::fs::write(frags.join("20 b"), "b\n").unwrap();
    std::fs::write(frags.join("10-a"), "a").unwrap();
    std::fs::write(frags.join(".hidden"), "h\n").unwrap();
    let dest = tmp.path().join("app.conf");

    let args = json!({"src": s(&frags), "dest": s(&dest), "delimiter": "#--", "ignore_hidden": true, "mode": "0600"});
    let r = run(&assemble::MODULE, APPLY, args.clone()).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "a\n#--\nb\n");
    assert_eq!(mode_of(&dest), 0o600);
    assert_eq!(run(&assemble::MODULE, APPLY, args).await.status, Status::Ok);

    let local = json!({"src": s(&frags), "dest": s(&dest), "remote_src": false, "backup": true});
    let r = run(&assemble::MODULE, DIFF, local.clone()).await;
    assert_eq!(r.status, Status::Changed, "{r:?}");
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "h\na\nb\n");
    assert_eq!(r.data["diff"]["before"], "a\n#--\nb\n");
    assert!(Path::new(r.data["backup_file"].as_str().unwrap()).exists());
    assert_eq!(run(&assemble::MODULE, APPLY, local).await.status, Status::Ok);

    let r =
        run(&assemble::MODULE, APPLY, json!({"src": s(&tmp.path().join("nope")), "dest": s(&dest)})).await;
    assert_eq!(r.status, Status::Failed);
    assert!(r.msg.unwrap().contains("is not a directory"));
}

/// The local connection, counting the commands it runs.
struct Counting {
    inner: LocalConnection,
    execs: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl baton::connection::Connection for Counting {
    async fn exec(
        &self,
        cmd: &baton::connection::Command,
    ) -> Result<baton::connection::ExecOutput, baton::connection::ConnError> {
        self.execs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.exec(cmd).await
    }
    async fn put(
        &self,
        src: baton::connection::PutSource,
        dest: &str,
        opts: &baton::connection::PutOptions,
    ) -> Result<(), baton::connection::ConnError> {
        self.inner.put(src, dest, opts).await
    }
    async fn get(
        &self,
        src: &str,
        b: Option<&baton::connection::Become>,
    ) -> Result<Vec<u8>, baton::connection::ConnError> {
        self.inner.get(src, b).await
    }
    async fn close(&self) -> Result<(), baton::connection::ConnError> {
        self.inner.close().await
    }
}

async fn run_loop(conn: &Counting, items: &[Value]) -> Vec<TaskResult> {
    let ctx = ModuleCtx {
        host: "localhost",
        conn,
        r#become: None,
        check_mode: false,
        diff: false,
        env: vec![],
        timeout: None,
        controller: &baton::modules::context::Cwd,
    };
    let args = items.iter().map(|v| ModuleArgs(v.as_object().unwrap().clone())).collect();
    let run = file::MODULE.run_loop.expect("file has a whole-loop entry point");
    run(&ctx, args).await.unwrap().into_iter().map(Result::unwrap).collect()
}

#[tokio::test]
async fn a_file_loop_is_two_commands_and_each_item_keeps_its_own_result() {
    let tmp = ::tempfile::tempdir().unwrap();
    let at = |p: &str| s(&tmp.path().join(p));
    std::fs::write(tmp.path().join("blocker"), "a file, not a directory").unwrap();
    let items = [
        json!({"path": at("conf"), "state": "directory", "mode": "0750"}),
        json!({"path": at("data/deep"), "state": "directory"}),
        json!({"path": at("blocker/below"), "state": "directory"}),
        json!({"path": at("stamp"), "state": "touch", "mode": "0600"}),
    ];
    let conn = Counting { inner: LocalConnection::new(), execs: Default::default() };
    let results = run_loop(&conn, &items).await;
    // One probe for every item, one command for every change and read-back.
    assert_eq!(conn.execs.load(std::sync::atomic::Ordering::SeqCst), 2);
    let status: Vec<Status> = results.iter().map(|r| r.status).collect();
    assert_eq!(status, [Status::Changed, Status::Changed, Status::Failed, Status::Changed], "{results:?}");
    assert_eq!(mode_of(&tmp.path().join("conf")), 0o750);
    assert_eq!(results[0].data["mode"], "0750");
    assert_eq!(results[0].data["path"], at("conf"));
    assert!(tmp.path().join("data/deep").is_dir());
    assert_eq!(results[3].data["dest"], at("stamp"));
    assert_eq!(mode_of(&tmp.path().join("stamp")), 0o600);
    let why = results[2].msg.clone().unwrap_or_default();
    assert!(why.contains("blocker"), "the failed item says which path: {why}");

    // Again: nothing to change but the touch; still one probe and one command.
    conn.execs.store(0, std::sync::atomic::Ordering::SeqCst);
    let results = run_loop(&conn, &items).await;
    let status: Vec<Status> = results.iter().map(|r| r.status).collect();
    assert_eq!(status, [Status::Ok, Status::Ok, Status::Failed, Status::Changed], "{results:?}");
    assert_eq!(conn.execs.load(std::sync::atomic::Ordering::SeqCst), 2);

    // Items that could see each other's changes go one by one (probe, change each).
    conn.execs.store(0, std::sync::atomic::Ordering::SeqCst);
    let nested =
        [json!({"path": at("n"), "state": "directory"}), json!({"path": at("n/m"), "state": "directory"})];
    let results = run_loop(&conn, &nested).await;
    assert!(results.iter().all(|r| r.status == Status::Changed), "{results:?}");
    assert_eq!(conn.execs.load(std::sync::atomic::Ordering::SeqCst), 4);
}
