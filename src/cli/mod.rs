//! The command line: parse what the user typed, run it, render errors, pick the exit code.

/// `println!` that drops the line when stdout is closed (`baton inventory --list | head`)
/// instead of panicking.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}

/// `print!` that drops the text when stdout is closed.
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($t)*);
    }};
}

pub mod args;
mod become_pass;
mod cmd_inventory;
mod cmd_lab;
mod cmd_play;
mod cmd_run;
mod cmd_status;
mod settings;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Cmd};

/// Ansible's exit code for bad or incomplete options.
const EXIT_BAD_OPTIONS: u8 = 5;
/// Ansible's exit code for an error before or outside any host's results.
const EXIT_ERROR: u8 = 1;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_BAD_OPTIONS } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Cmd::Run(args) => cmd_run::run(args).await,
            Cmd::Play(args) => cmd_play::run(args, false).await,
            Cmd::Rollback(args) => cmd_play::run(args, true).await,
            Cmd::Inventory(args) => cmd_inventory::run(args),
            Cmd::Lab(args) => cmd_lab::run(args).await,
            Cmd::Status(args) => cmd_status::run(args).await,
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
