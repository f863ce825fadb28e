//! The local connection: commands run on the controller through tokio::process.
