//! The engine: selects hosts, connects to all of them at once, runs modules and emits events.

pub mod adhoc;
pub mod forks;
pub mod host_conn;
pub mod play;
