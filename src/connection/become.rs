//! Wrapping a command for privilege escalation (sudo, su). Filled in by the connection work.
