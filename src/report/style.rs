//! Colour, only where it helps: on a terminal, and never when `NO_COLOR` is set. Every message
//! reads the same without it.

use std::io::IsTerminal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Green,
    Yellow,
    Red,
    Cyan,
    Dim,
}

/// Whether to colour output going to stdout.
pub fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Wraps `text` in the colour's escape codes when `on`.
pub fn paint(on: bool, color: Color, text: &str) -> String {
    if !on {
        return text.to_string();
    }
    let code = match color {
        Color::Green => "32",
        Color::Yellow => "33",
        Color::Red => "31",
        Color::Cyan => "36",
        Color::Dim => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}
