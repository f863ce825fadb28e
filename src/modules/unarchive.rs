//! `unarchive`: unpacks a tar (plain, gz, bz2, xz) or zip archive into an existing directory
//! on the host, as Ansible's unarchive module does. The archive comes from the controller
//! (uploaded to a private temp dir, removed after) or, with `remote_src`, is already there.
//!
//! ```yaml
//! - unarchive: { src: app-1.2.tar.gz, dest: /opt/app }
//! - unarchive: { src: /tmp/site.zip, dest: /srv/www, remote_src: true, exclude: [docs/*] }
//! ```
//!
//! With `remote_src` and a URL as `src`, the host downloads the archive first (curl or wget,
//! `validate_certs` honoured) into a private temp dir, removed after, as Ansible does.
//!
//! Idempotence as Ansible decides it: tar's own `--diff` compares the archive with the
//! directory (missing files, mtime, size, contents, mode unless `mode` is given, owner when
//! root extracts); for zip the listing's names and sizes are compared with what is on disk.
//! Nothing is extracted when nothing differs. `unzip` must be on the host for zip archives.

use serde_json::json;

use super::{ModuleArgs, ModuleCtx, ModuleDef, ModuleError, SearchKind, http_client};
use crate::connection::quote::quote;
use crate::connection::{PutOptions, PutSource};
use crate::event::{Status, TaskResult};

pub static MODULE: ModuleDef = ModuleDef {
    name: "unarchive",
    free_form: false,
    params: &[
        "attributes",
        "copy",
        "creates",
        "decrypt",
        "dest",
        "exclude",
        "extra_opts",
        "group",
        "include",
        "io_buffer_size",
        "keep_newer",
        "list_files",
        "mode",
        "owner",
        "remote_src",
        "src",
        "unsafe_writes",
        "validate_certs",
    ],
    run: crate::module_entry!(run),
    run_loop: None,
};

/// What kind of archive, from its name (tar reads an unknown compression by itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A tar archive with the flag for its compression (`z`, `j`, `J`, or none).
    Tar(Option<char>),
    Zip,
}

impl Format {
    pub fn of(name: &str) -> Format {
        let n = name.to_ascii_lowercase();
        let ends = |s: &[&str]| s.iter().any(|e| n.ends_with(e));
        if ends(&[".zip", ".jar", ".war"]) {
            Format::Zip
        } else if ends(&[".tar.gz", ".tgz"]) {
            Format::Tar(Some('z'))
        } else if ends(&[".tar.bz2", ".tbz2", ".tbz"]) {
            Format::Tar(Some('j'))
        } else if ends(&[".tar.xz", ".txz"]) {
            Format::Tar(Some('J'))
        } else {
            Format::Tar(None)
        }
    }

    fn handler(self) -> &'static str {
        match self {
            Format::Tar(_) => "TgzArchive",
            Format::Zip => "ZipArchive",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Params {
    pub src: String,
    pub dest: String,
    pub remote_src: bool,
    pub creates: Option<String>,
    pub extra_opts: Vec<String>,
    pub exclude: Vec<String>,
    pub include: Vec<String>,
    pub list_files: bool,
    pub mode: Option<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
    pub keep_newer: bool,
    /// For a URL `src`: whether the server's certificate must be valid.
    pub validate_certs: bool,
}

impl Params {
    pub fn parse(args: &ModuleArgs) -> Result<Params, ModuleError> {
        let m = MODULE.name;
        let need = |k: &str| -> Result<String, ModuleError> {
            args.str(m, k)?.ok_or_else(|| ModuleError::MissingParam { module: m.into(), param: k.into() })
        };
        // `copy: false` is the old spelling of `remote_src: true`.
        let remote_src = match (args.bool(m, "remote_src")?, args.bool(m, "copy")?) {
            (Some(_), Some(_)) => return Err(bad("`remote_src` and `copy` are mutually exclusive")),
            (Some(r), None) => r,
            (None, Some(c)) => !c,
            (None, None) => false,
        };
        Ok(Params {
            src: need("src")?,
            dest: need("dest")?,
            remote_src,
            creates: args.str(m, "creates")?,
            extra_opts: args.str_list(m, "extra_opts")?.unwrap_or_default(),
            exclude: args.str_list(m, "exclude")?.unwrap_or_default(),
            include: args.str_list(m, "include")?.unwrap_or_default(),
            list_files: args.bool(m, "list_files")?.unwrap_or(false),
            mode: args.str(m, "mode")?,
            owner: args.str(m, "owner")?,
            group: args.str(m, "group")?,
            keep_newer: args.bool(m, "keep_newer")?.unwrap_or(false),
            validate_certs: args.bool(m, "validate_certs")?.unwrap_or(true),
        })
    }
}

const NODEST: &str = "__baton_nodest__";
const NOUNZIP: &str = "__baton_nounzip__";
const SEP: &str = "__baton_sep__";
const ATTRS: &str = "__baton_attrs__";

/// A `find` test true for a path whose owner, group or (octal) mode is not what was asked.
fn attr_test(p: &Params) -> Option<String> {
    let mut tests = Vec::new();
    if let Some(o) = &p.owner {
        tests.push(format!("! -user {}", quote(o)));
    }
    if let Some(g) = &p.group {
        tests.push(format!("! -group {}", quote(g)));
    }
    if let Some(m) = p.mode.as_deref().filter(|m| u32::from_str_radix(m, 8).is_ok()) {
        tests.push(format!("! -perm {}", quote(m)));
    }
    (!tests.is_empty()).then(|| format!("\\( {} \\)", tests.join(" -o ")))
}

/// The one command that reads the state: who extracts (uid), whether `dest` is a directory,
/// the archive's listing and how it differs from `dest`.
pub fn state_command(p: &Params, format: Format, archive: &str) -> String {
    let (a, d) = (quote(archive), quote(&p.dest));
    let mut cmd = format!("id -u; [ -d {d} ] || {{ echo {NODEST}; exit 0; }}; ");
    let list = match format {
        Format::Tar(flag) => {
            format!("tar -tf {a}{}{}", flag.map(|f| format!(" -{f}")).unwrap_or_default(), tar_filters(p))
        }
        Format::Zip => format!("unzip -Z1 {a}"),
    };
    // Paths that exist but carry other attributes than asked (owner, group, octal mode).
    if let Some(test) = attr_test(p) {
        cmd.push_str(&format!(
            "(cd {d} && {list} | while IFS= read -r f; do {{ [ -e \"$f\" ] || [ -L \"$f\" ]; }} && \
             find \"./$f\" -maxdepth 0 {test} -print; done) 2>/dev/null; "
        ));
    }
    cmd.push_str(&format!("echo {ATTRS}; "));
    match format {
        Format::Tar(flag) => {
            let flag = flag.map(|f| format!(" -{f}")).unwrap_or_default();
            let filters = tar_filters(p);
            cmd.push_str(&format!(
                "tar -tf {a}{flag}{filters}; echo {SEP}; tar -d -f {a}{flag} -C {d}{filters} 2>&1; true"
            ));
        }
        Format::Zip => {
            // Names and sizes from the archive, then the size (or `-`) of each name on disk.
            cmd.push_str(&format!(
                "command -v unzip >/dev/null 2>&1 || {{ echo {NOUNZIP}; exit 0; }}; \
                 unzip -Z1 {a}; echo {SEP}; unzip -Z1 {a} | while IFS= read -r f; do \
                 printf '%s\\t%s\\n' \"$(stat -c %s -- {d}/\"$f\" 2>/dev/null || echo -)\" \"$f\"; done; \
                 echo {SEP}; unzip -Zl {a} | awk '/^[-dl?]/ && NF>=10 {{ print $4 }}'; true"
            ));
        }
    }
    cmd
}

fn tar_filters(p: &Params) -> String {
    let mut s: String = p.exclude.iter().map(|e| format!(" --exclude={}", quote(e))).collect();
    for i in &p.include {
        s.push(' ');
        s.push_str(&quote(i));
    }
    s
}

/// What the state command found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    NoDest,
    NoUnzip,
    Found { files: Vec<String>, differences: Vec<String> },
}

/// The pure part for tar: which `tar --diff` lines count as differences, as Ansible filters
/// them (owner only when root extracts and no owner is asked for, mode only when no mode is).
pub fn tar_differences(diff_out: &str, uid: u32, p: &Params) -> Vec<String> {
    diff_out
        .lines()
        .filter(|l| !l.is_empty() && !l.ends_with(": : Warning: Cannot stat: No such file or directory"))
        .filter(|l| {
            (uid == 0 && p.owner.is_none() && l.ends_with(": Uid differs"))
                || (uid == 0 && p.group.is_none() && l.ends_with(": Gid differs"))
                || (p.mode.is_none() && l.ends_with(": Mode differs"))
                || l.ends_with(": Mod time differs")
                || l.ends_with(": Size differs")
                || l.ends_with(": Contents differ")
                || l.ends_with(": Warning: Cannot stat: No such file or directory")
                || l.contains("Cannot stat")
                || l.ends_with(": File type differs")
                || l.ends_with(": Symlink differs")
                || l.contains("Invalid owner")
                || l.contains("Invalid group")
        })
        .map(String::from)
        .collect()
}

/// The pure part for zip: names missing on disk or of another size (directories only need
/// to exist). `disk` lines are `SIZE\tNAME` with `-` for missing; `sizes` follow the names.
pub fn zip_differences(disk: &str, sizes: &[String], p: &Params) -> Vec<String> {
    let excluded = |n: &str| {
        p.exclude
            .iter()
            .any(|e| globset::Glob::new(e).map(|g| g.compile_matcher().is_match(n)).unwrap_or(false))
    };
    disk.lines()
        .filter_map(|l| l.split_once('\t'))
        .enumerate()
        .map(|(i, entry)| (entry, sizes.get(i)))
        .filter(|((_, name), _)| !excluded(name))
        .filter_map(|((on_disk, name), want)| {
            if on_disk == "-" {
                Some(format!("{name}: missing"))
            } else if !name.ends_with('/') && want.is_some_and(|w| w != on_disk) {
                Some(format!("{name}: size differs"))
            } else {
                None
            }
        })
        .collect()
}

/// Reads the state command's output.
pub fn parse_state(out: &str, format: Format, p: &Params) -> Result<(u32, State), String> {
    let (uid, rest) = out.split_once('\n').ok_or("no output from the host")?;
    let uid: u32 = uid.trim().parse().map_err(|_| format!("bad uid `{uid}`"))?;
    if rest.trim() == NODEST {
        return Ok((uid, State::NoDest));
    }
    if rest.trim() == NOUNZIP {
        return Ok((uid, State::NoUnzip));
    }
    let (attrs, rest) = rest.split_once(&format!("{ATTRS}\n")).unwrap_or(("", rest));
    let parts: Vec<&str> = rest.split(&format!("{SEP}\n")).collect();
    let files: Vec<String> = parts.first().map_or(Vec::new(), |l| l.lines().map(String::from).collect());
    let differences = match format {
        Format::Tar(_) => tar_differences(parts.get(1).unwrap_or(&""), uid, p),
        Format::Zip => {
            let sizes: Vec<String> =
                parts.get(2).map_or(Vec::new(), |l| l.lines().map(String::from).collect());
            zip_differences(parts.get(1).unwrap_or(&""), &sizes, p)
        }
    };
    let mut differences = differences;
    differences.extend(attrs.lines().map(|l| format!("{}: attributes differ", l.trim_start_matches("./"))));
    Ok((uid, State::Found { files, differences }))
}

/// The command that extracts, then sets the asked-for attributes on every listed path.
pub fn extract_command(p: &Params, format: Format, archive: &str, files: &[String]) -> String {
    let (a, d) = (quote(archive), quote(&p.dest));
    let extra: String = p.extra_opts.iter().map(|o| format!(" {}", quote(o))).collect();
    let mut cmd = match format {
        Format::Tar(flag) => {
            let flag = flag.map(|f| format!(" -{f}")).unwrap_or_default();
            let keep = if p.keep_newer { " --keep-newer-files" } else { "" };
            format!("tar -x -f {a}{flag} -C {d}{keep}{extra}{}", tar_filters(p))
        }
        Format::Zip => {
            let keep = if p.keep_newer { " -u" } else { " -o" };
            let mut c = format!("unzip{keep}{extra} {a} -d {d}");
            if !p.exclude.is_empty() {
                c.push_str(" -x");
                for e in &p.exclude {
                    c.push(' ');
                    c.push_str(&quote(e));
                }
            }
            c
        }
    };
    let paths: Vec<String> = files.iter().map(|f| quote(f).into_owned()).collect();
    if !paths.is_empty() {
        let list = paths.join(" ");
        // Links are changed themselves (`-h`), never what they point to.
        for (tool, value) in [("chown -h", &p.owner), ("chgrp -h", &p.group), ("chmod", &p.mode)] {
            if let Some(v) = value {
                cmd.push_str(&format!(" && (cd {d} && {tool} -- {} {list})", quote(v)));
            }
        }
    }
    cmd
}

async fn run(ctx: &ModuleCtx<'_>, args: ModuleArgs) -> Result<TaskResult, ModuleError> {
    let p = Params::parse(&args)?;
    if let Some(creates) = &p.creates {
        let out = ctx.exec(format!("[ -e {} ]", quote(creates))).await?;
        if out.success() {
            let mut r = TaskResult::new(Status::Skipped);
            r.msg = Some(format!("skipped, since {creates} exists"));
            return Ok(r);
        }
    }
    let url = p.remote_src && http_client::is_url(&p.src);
    // A URL's format is in its last path segment, not in a query string.
    let format = Format::of(&if url { http_client::url_filename(&p.src) } else { p.src.clone() });
    let (archive, temp_dir) = if url {
        let dir = match temp_dir(ctx).await? {
            Ok(d) => d,
            Err(msg) => return Ok(TaskResult::failed(msg)),
        };
        let downloaded = download(ctx, &p, &dir).await;
        if !matches!(downloaded, Ok(Ok(_))) {
            let _ = ctx.exec(format!("rm -rf {}", quote(&dir))).await;
        }
        match downloaded? {
            Ok(path) => (path, Some(dir)),
            Err(msg) => return Ok(TaskResult::failed(msg)),
        }
    } else if p.remote_src {
        (p.src.clone(), None)
    } else {
        let local = match ctx.controller.find(SearchKind::Files, &p.src) {
            Ok(l) => l,
            Err(e) => return Ok(TaskResult::failed(format!("could not find or access `{}`: {e}", p.src))),
        };
        let dir = match temp_dir(ctx).await? {
            Ok(d) => d,
            Err(msg) => return Ok(TaskResult::failed(msg)),
        };
        let name = local.file_name().map_or_else(|| "archive".into(), |n| n.to_string_lossy().into_owned());
        let remote = format!("{dir}/{name}");
        let opts = PutOptions { mode: Some(0o600), r#become: ctx.r#become.clone(), ..PutOptions::default() };
        if let Err(e) = ctx.conn.put(PutSource::File(local.clone()), &remote, &opts).await {
            let _ = ctx.exec(format!("rm -rf {}", quote(&dir))).await;
            return Ok(TaskResult::failed(format!("cannot upload `{}`: {e}", local.display())));
        }
        (remote, Some(dir))
    };
    let result = unpack(ctx, &p, format, &archive).await;
    if let Some(dir) = temp_dir {
        let _ = ctx.exec(format!("rm -rf {}", quote(&dir))).await;
    }
    result
}

/// A private temp dir on the host for the archive.
async fn temp_dir(ctx: &ModuleCtx<'_>) -> Result<Result<String, String>, ModuleError> {
    let dir = ctx.exec("mktemp -d \"${TMPDIR:-/tmp}/.baton-unarchive-XXXXXX\"").await?;
    if !dir.success() {
        return Ok(Err(format!("cannot make a temp dir on the host: {}", dir.stderr_str().trim())));
    }
    Ok(Ok(dir.stdout_str().trim().to_string()))
}

/// Has the host download `p.src` into `dir`; returns the archive's path there.
async fn download(ctx: &ModuleCtx<'_>, p: &Params, dir: &str) -> Result<Result<String, String>, ModuleError> {
    let path = format!("{dir}/{}", http_client::url_filename(&p.src));
    let mut request = http_client::Request::get(&p.src, 10);
    request.validate_certs = p.validate_certs;
    let d = quote(dir);
    let line = format!(
        "{}; o={}; h={d}/.headers; ef={d}/.errors; {}",
        http_client::SHELL_FNS,
        quote(&path),
        request.fragment()
    );
    let out = ctx.exec(line).await?;
    let sections = match http_client::Sections::parse(&out.stdout) {
        Ok(s) => s,
        Err(e) => return Ok(Err(format!("Failure downloading {}: {e}", p.src))),
    };
    let response = http_client::Response::from_sections(&sections, &p.src);
    if !(200..300).contains(&response.status) {
        return Ok(Err(format!("Failure downloading {}, {}", p.src, response.msg())));
    }
    Ok(Ok(path))
}

async fn unpack(
    ctx: &ModuleCtx<'_>,
    p: &Params,
    format: Format,
    archive: &str,
) -> Result<TaskResult, ModuleError> {
    if p.remote_src {
        let out = ctx.exec(format!("[ -e {} ]", quote(archive))).await?;
        if !out.success() {
            return Ok(TaskResult::failed(format!("Source '{}' does not exist", p.src)));
        }
    }
    let out = ctx.exec(state_command(p, format, archive)).await?;
    let (_, state) = match parse_state(&out.stdout_str(), format, p) {
        Ok(s) => s,
        Err(e) => return Ok(TaskResult::failed(format!("cannot read the archive state: {e}"))),
    };
    let (files, differences) = match state {
        State::NoDest => return Ok(TaskResult::failed(format!("dest '{}' must be an existing dir", p.dest))),
        State::NoUnzip => {
            return Ok(TaskResult::failed(format!(
                "`unzip` is not installed on the host; it is needed to unpack `{}`",
                p.src
            )));
        }
        State::Found { files, differences } => (files, differences),
    };
    if files.is_empty() {
        return Ok(TaskResult::failed(format!(
            "Failed to find handler for \"{}\": the archive is empty or cannot be read",
            p.src
        )));
    }
    let mut r = TaskResult::new(if differences.is_empty() { Status::Ok } else { Status::Changed });
    r.data.insert("dest".into(), json!(p.dest));
    r.data.insert("src".into(), json!(archive));
    r.data.insert("handler".into(), json!(format.handler()));
    r.data.insert("state".into(), json!("directory"));
    if p.list_files {
        r.data.insert("files".into(), json!(files));
    }
    if differences.is_empty() || ctx.check_mode {
        return Ok(r);
    }
    let cmd = extract_command(p, format, archive, &files);
    let out = ctx.exec(cmd.clone()).await?;
    r.data.insert(
        "extract_results".into(),
        json!({"cmd": cmd, "rc": out.rc.unwrap_or(-1), "out": out.stdout_str(), "err": out.stderr_str()}),
    );
    if !out.success() {
        r.status = Status::Failed;
        r.msg = Some(format!("failed to unpack {} to {}: {}", archive, p.dest, out.stderr_str().trim()));
    }
    Ok(r)
}

fn bad(message: &str) -> ModuleError {
    ModuleError::BadArgs { module: MODULE.name.to_string(), message: message.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn params(v: Value) -> Params {
        Params::parse(&ModuleArgs(v.as_object().unwrap().clone())).unwrap()
    }

    #[test]
    fn formats_come_from_the_name() {
        let cases = [
            ("a.tar.gz", Format::Tar(Some('z'))),
            ("a.TGZ", Format::Tar(Some('z'))),
            ("a.tar.bz2", Format::Tar(Some('j'))),
            ("a.tar.xz", Format::Tar(Some('J'))),
            ("a.tar", Format::Tar(None)),
            ("a.zip", Format::Zip),
            ("weird", Format::Tar(None)),
        ];
        for (name, want) in cases {
            assert_eq!(Format::of(name), want, "{name}");
        }
    }

    #[test]
    fn a_url_s_format_is_in_its_path() {
        let name = http_client::url_filename("https://h/dl/app-1.2.tar.gz?token=x.zip");
        assert_eq!(Format::of(&name), Format::Tar(Some('z')));
        let p = params(json!({"src": "https://h/a.tgz", "dest": "/d", "validate_certs": false}));
        assert!(!p.validate_certs);
    }

    #[test]
    fn copy_false_is_remote_src() {
        assert!(params(json!({"src": "a", "dest": "/d", "copy": false})).remote_src);
        assert!(!params(json!({"src": "a", "dest": "/d"})).remote_src);
        let both = json!({"src": "a", "dest": "/d", "copy": false, "remote_src": true});
        assert!(Params::parse(&ModuleArgs(both.as_object().unwrap().clone())).is_err());
    }

    #[test]
    fn tar_diff_lines_count_as_ansible_counts_them() {
        let p = params(json!({"src": "a.tar", "dest": "/d"}));
        let out = "a/x: Mod time differs\na/y: Uid differs\ntar: a/z: Warning: Cannot stat: No such file or directory\n";
        // (uid, params, expected count)
        assert_eq!(tar_differences(out, 1000, &p).len(), 2);
        assert_eq!(tar_differences(out, 0, &p).len(), 3);
        let owned = params(json!({"src": "a.tar", "dest": "/d", "owner": "app"}));
        assert_eq!(tar_differences(out, 0, &owned).len(), 2);
        let moded = params(json!({"src": "a.tar", "dest": "/d", "mode": "0644"}));
        assert!(tar_differences("a/x: Mode differs\n", 1000, &moded).is_empty());
        assert_eq!(tar_differences("a/x: Mode differs\n", 1000, &p).len(), 1);
        assert!(tar_differences("", 0, &p).is_empty());
    }

    #[test]
    fn zip_compares_names_and_sizes() {
        let p = params(json!({"src": "a.zip", "dest": "/d", "exclude": ["*.md"]}));
        let sizes: Vec<String> = ["0", "5", "7", "9"].iter().map(|s| s.to_string()).collect();
        let same = "4096\td/\n5\td/a\n7\td/b\n-\td/c.md\n";
        assert!(zip_differences(same, &sizes, &p).is_empty());
        let differ = "4096\td/\n6\td/a\n-\td/b\n-\td/c.md\n";
        assert_eq!(zip_differences(differ, &sizes, &p), vec!["d/a: size differs", "d/b: missing"]);
    }

    #[test]
    fn state_output_is_parsed() {
        let p = params(json!({"src": "a.tar", "dest": "/d"}));
        assert_eq!(parse_state(&format!("0\n{NODEST}\n"), Format::Tar(None), &p).unwrap().1, State::NoDest);
        assert_eq!(parse_state(&format!("0\n{NOUNZIP}\n"), Format::Zip, &p).unwrap().1, State::NoUnzip);
        let out = format!("1000\n{ATTRS}\na/\na/x\n{SEP}\na/x: Size differs\n");
        let (uid, state) = parse_state(&out, Format::Tar(None), &p).unwrap();
        let with_attrs = format!("0\n./a/x\n{ATTRS}\na/x\n{SEP}\n");
        let (_, attrs) = parse_state(&with_attrs, Format::Tar(None), &p).unwrap();
        assert_eq!(
            attrs,
            State::Found { files: vec!["a/x".into()], differences: vec!["a/x: attributes differ".into()] }
        );
        assert_eq!(uid, 1000);
        assert_eq!(
            state,
            State::Found {
                files: vec!["a/".into(), "a/x".into()],
                differences: vec!["a/x: Size differs".into()]
            }
        );
    }

    #[test]
    fn commands_quote_and_pass_options() {
        let p = params(
            json!({"src": "a b.tgz", "dest": "/d d", "exclude": ["x*"], "extra_opts": ["--strip-components=1"], "mode": "u+rwX"}),
        );
        let c = extract_command(&p, Format::of("a b.tgz"), "/t/a b.tgz", &["f".into()]);
        assert!(
            c.starts_with("tar -x -f '/t/a b.tgz' -z -C '/d d' --strip-components=1 --exclude='x*'"),
            "{c}"
        );
        assert!(c.contains("chmod -- u+rwX f"), "{c}");
        let z = extract_command(&params(json!({"src": "a.zip", "dest": "/d"})), Format::Zip, "/t/a.zip", &[]);
        assert_eq!(z, "unzip -o /t/a.zip -d /d");
    }
}
