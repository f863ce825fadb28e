//! `baton lab`: a fleet of real sshd hosts on this machine, until Ctrl-C.

use miette::{IntoDiagnostic, Result};

use super::args::LabArgs;
use crate::lab::{Lab, LabMode, LabOptions};

pub async fn run(args: LabArgs) -> Result<u8> {
    let opts = LabOptions { hosts: args.hosts, ..LabOptions::default() };
    let lab = tokio::task::spawn_blocking(move || Lab::start(opts)).await.into_diagnostic()??;
    let inventory = lab.inventory_path();
    eprintln!(
        "{} hosts up in {:.1}s ({}).\n\nInventory: {}\n\nTry:\n  baton run all -i {} -a hostname\n\nCtrl-C stops the hosts and removes everything.",
        lab.hosts().len(),
        lab.started_in().as_secs_f64(),
        match lab.mode() {
            LabMode::Namespaces => "network namespaces",
            LabMode::Loopback => "sshd on loopback ports, no root",
        },
        inventory.display(),
        inventory.display(),
    );
    if let Some(file) = &args.ready_file {
        std::fs::write(file, format!("{}\n", inventory.display())).into_diagnostic()?;
    }
    // Ctrl-C, or SIGTERM from a script that started the lab in the background.
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    eprintln!("stopping the lab");
    drop(lab);
    Ok(0)
}
