//! File modes as Ansible's `mode` parameter takes them: octal (`0644`, `'644'`, `0o644`),
//! symbolic like chmod (`u+rwx,g-w,o=r`, `a+X`, `g=u`), and `preserve` (copy the source's mode).
//!
//! The resolution happens on the controller: a symbolic mode is turned into the octal mode it
//! gives *for this file* (its current mode, whether it is a directory, the host's umask), so a
//! plan compares numbers and only runs `chmod` when the number differs.
//!
//! A YAML integer is read as the octal digits written (`mode: 0644` and `mode: 644` both mean
//! `0644`), because the YAML 1.2 loader drops the leading zero Ansible's YAML 1.1 reads as
//! octal, and a user writing `644` means the same thing.

use serde_json::Value;

use super::{ModuleArgs, ModuleError};

/// The permission bits chmod manages (rwx for all, setuid, setgid, sticky).
pub const MODE_BITS: u32 = 0o7777;

/// What the user asked the mode to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Octal(u32),
    Symbolic(Vec<Clause>),
    /// Take the mode of the source file (copy and template only).
    Preserve,
}

/// One comma-separated part of a symbolic mode: `who` then one or more actions (`u+r-w`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// Any of `u`, `g`, `o`; empty means "all, filtered by the umask" as chmod does.
    pub who: String,
    pub actions: Vec<(Op, Perms)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Remove,
    Set,
}

/// The right-hand side of an action: letters from `rwxXst`, or a copy of another class (`g=u`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Perms {
    Letters(String),
    Copy(char),
}

impl Mode {
    /// Parses a mode string; octal when it is only octal digits (with an optional `0o`).
    pub fn parse(text: &str) -> Result<Mode, String> {
        let t = text.trim();
        if t == "preserve" {
            return Ok(Mode::Preserve);
        }
        let digits = t.strip_prefix("0o").unwrap_or(t);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return match u32::from_str_radix(digits, 8) {
                Ok(m) if m <= MODE_BITS => Ok(Mode::Octal(m)),
                _ => Err(format!("`{text}` is not a valid octal mode")),
            };
        }
        t.split(',').map(parse_clause).collect::<Result<Vec<_>, _>>().map(Mode::Symbolic).map_err(|why| {
            format!("`{text}` is not a valid mode ({why}); use octal like `0644` or symbolic like `u+rw,g-w`")
        })
    }

    /// Reads `key` from the arguments: a string, or a YAML integer read as the digits written.
    pub fn from_args(args: &ModuleArgs, module: &str, key: &str) -> Result<Option<Mode>, ModuleError> {
        let bad = |message: String| ModuleError::BadArgs { module: module.to_string(), message };
        match args.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Mode::parse(&n.to_string()).map(Some).map_err(bad),
            Some(Value::String(s)) => Mode::parse(s).map(Some).map_err(bad),
            Some(other) => Err(bad(format!("`{key}` must be a mode like `0644` or `u+rw`, got `{other}`"))),
        }
    }

    /// The octal mode this gives a file whose mode is now `current` (`None`: a new file, which
    /// starts from 0666/0777 minus the umask). `preserve` takes `source`'s mode.
    pub fn resolve(
        &self,
        current: Option<u32>,
        is_dir: bool,
        umask: u32,
        source: Option<u32>,
    ) -> Result<u32, String> {
        match self {
            Mode::Octal(m) => Ok(*m),
            Mode::Preserve => {
                source.ok_or_else(|| "mode `preserve` needs a source file to copy it from".into())
            }
            Mode::Symbolic(clauses) => {
                let start = current.unwrap_or_else(|| default_mode(is_dir, umask));
                Ok(clauses.iter().fold(start & MODE_BITS, |mode, c| apply_clause(c, mode, is_dir, umask)))
            }
        }
    }
}

/// The mode a new file or directory gets from the umask.
pub fn default_mode(is_dir: bool, umask: u32) -> u32 {
    (if is_dir { 0o777 } else { 0o666 }) & !umask
}

/// A mode as Ansible shows it: four octal digits as a string (`"0644"`).
pub fn format_mode(mode: u32) -> String {
    format!("{:04o}", mode & MODE_BITS)
}

fn parse_clause(text: &str) -> Result<Clause, String> {
    let op_at = text.find(['+', '-', '=']).ok_or_else(|| format!("no `+`, `-` or `=` in `{text}`"))?;
    let who = &text[..op_at];
    if let Some(c) = who.chars().find(|c| !"ugoa".contains(*c)) {
        return Err(format!("unknown class `{c}`"));
    }
    let who: String = if who.contains('a') { "ugo".into() } else { who.into() };
    let mut actions = Vec::new();
    let mut rest = &text[op_at..];
    while let Some(op_char) = rest.chars().next() {
        let op = match op_char {
            '+' => Op::Add,
            '-' => Op::Remove,
            '=' => Op::Set,
            c => return Err(format!("unexpected `{c}`")),
        };
        let body_end = rest[1..].find(['+', '-', '=']).map_or(rest.len(), |i| i + 1);
        let body = &rest[1..body_end];
        let perms = match body {
            "u" | "g" | "o" => Perms::Copy(body.chars().next().unwrap_or('u')),
            _ => {
                if let Some(c) = body.chars().find(|c| !"rwxXst".contains(*c)) {
                    return Err(format!("unknown permission `{c}`"));
                }
                Perms::Letters(body.into())
            }
        };
        actions.push((op, perms));
        rest = &rest[body_end..];
    }
    Ok(Clause { who, actions })
}

/// The rwx bits of class `c` (u, g or o) shifted to that class's position.
fn class_shift(c: char) -> u32 {
    match c {
        'u' => 6,
        'g' => 3,
        _ => 0,
    }
}

fn apply_clause(clause: &Clause, mut mode: u32, is_dir: bool, umask: u32) -> u32 {
    let use_umask = clause.who.is_empty();
    let who: Vec<char> = if use_umask { vec!['u', 'g', 'o'] } else { clause.who.chars().collect() };
    for (op, perms) in &clause.actions {
        // The bits this action is about, for every class in `who`.
        let mut bits = 0;
        let mut affected = 0;
        for &c in &who {
            let shift = class_shift(c);
            affected |= 0o7 << shift;
            match c {
                'u' => affected |= 0o4000,
                'g' => affected |= 0o2000,
                _ => affected |= 0o1000,
            }
            let rwx = match perms {
                Perms::Copy(from) => (mode >> class_shift(*from)) & 0o7,
                Perms::Letters(letters) => {
                    let mut rwx = 0;
                    for l in letters.chars() {
                        match l {
                            'r' => rwx |= 0o4,
                            'w' => rwx |= 0o2,
                            'x' => rwx |= 0o1,
                            'X' if is_dir || mode & 0o111 != 0 => rwx |= 0o1,
                            's' if c == 'u' => bits |= 0o4000,
                            's' if c == 'g' => bits |= 0o2000,
                            't' if c == 'o' || use_umask => bits |= 0o1000,
                            _ => {}
                        }
                    }
                    rwx
                }
            };
            bits |= rwx << shift;
        }
        if use_umask {
            bits &= !umask;
        }
        mode = match op {
            Op::Add => mode | bits,
            Op::Remove => mode & !bits,
            // `=` clears the class's rwx (and its special bit), but keeps a directory's
            // setuid/setgid as chmod does.
            Op::Set => {
                let keep = if is_dir { 0o6000 } else { 0 };
                (mode & !(affected & !keep)) | bits
            }
        };
    }
    mode & MODE_BITS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(text: &str, current: u32, is_dir: bool) -> String {
        format_mode(Mode::parse(text).unwrap().resolve(Some(current), is_dir, 0o022, None).unwrap())
    }

    #[test]
    fn octal_spellings() {
        for text in ["0644", "644", "0o644", " 0644 "] {
            assert_eq!(Mode::parse(text).unwrap(), Mode::Octal(0o644), "{text}");
        }
        assert_eq!(Mode::parse("1777").unwrap(), Mode::Octal(0o1777));
        assert!(Mode::parse("0888").is_err());
        assert!(Mode::parse("77777").is_err());
    }

    #[test]
    fn yaml_integers_are_the_digits_written() {
        let args = ModuleArgs(serde_json::from_str(r#"{"mode": 644}"#).unwrap());
        assert_eq!(Mode::from_args(&args, "file", "mode").unwrap(), Some(Mode::Octal(0o644)));
    }

    #[test]
    fn symbolic_cases_as_chmod_does_them() {
        let cases = [
            ("u+rwx,g-w,o=r", 0o666, false, "0744"),
            ("u=rw,go=r", 0o777, false, "0644"),
            ("a+x", 0o644, false, "0755"),
            ("go-rwx", 0o755, true, "0700"),
            ("a+X", 0o644, false, "0644"),
            ("a+X", 0o644, true, "0755"),
            ("a+X", 0o744, false, "0755"),
            ("g=u", 0o740, false, "0770"),
            ("u+s,g+s", 0o755, false, "6755"),
            ("+t", 0o777, true, "1777"),
            ("o=", 0o777, false, "0770"),
            ("+w", 0o444, false, "0644"),
            ("u+r-w", 0o600, false, "0400"),
            ("u=rwx", 0o4644, false, "0744"),
            ("g=rx", 0o2775, true, "2755"),
        ];
        for (text, current, is_dir, want) in cases {
            assert_eq!(sym(text, current, is_dir), want, "{text} on {current:o}");
        }
    }

    #[test]
    fn new_files_start_from_the_umask() {
        let m = Mode::parse("u+x").unwrap();
        assert_eq!(m.resolve(None, false, 0o022, None).unwrap(), 0o744);
        assert_eq!(m.resolve(None, true, 0o077, None).unwrap(), 0o700);
    }

    #[test]
    fn preserve_needs_a_source() {
        assert_eq!(Mode::parse("preserve").unwrap().resolve(None, false, 0o022, Some(0o600)).unwrap(), 0o600);
        assert!(Mode::Preserve.resolve(Some(0o644), false, 0o022, None).is_err());
    }

    #[test]
    fn bad_symbolic_modes_say_why() {
        for text in ["u+q", "z+r", "urw", "u+r,"] {
            let err = Mode::parse(text).unwrap_err();
            assert!(err.contains("not a valid mode"), "{text}: {err}");
        }
    }
}
