//! `-K`: the privilege escalation password, asked once per run.

use std::io::{BufRead, IsTerminal};

use crate::connection::Secret;

/// Asks on the terminal (without echo) or, when stdin is not a terminal, reads one line from
/// stdin, so CI can pipe the password in.
pub fn ask() -> std::io::Result<Secret> {
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password("BECOME password: ").map(Secret);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(Secret(line.trim_end_matches(['\n', '\r']).to_string()))
}
