//! The SSH connection (russh): one session per host, one channel per command.
