//! One JSON object per event on stdout: the machine-readable stream for CI.

use std::io::Write;
use std::sync::Mutex;

use crate::event::{Event, EventSink};

pub struct JsonLines {
    out: Mutex<std::io::Stdout>,
}

impl JsonLines {
    pub fn new() -> JsonLines {
        JsonLines { out: Mutex::new(std::io::stdout()) }
    }
}

impl Default for JsonLines {
    fn default() -> Self {
        JsonLines::new()
    }
}

impl EventSink for JsonLines {
    fn emit(&self, event: &Event) {
        let Ok(line) = serde_json::to_string(event) else {
            return;
        };
        if let Ok(mut out) = self.out.lock() {
            // A closed stdout (`| head`) is not worth failing the run over.
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }
}
