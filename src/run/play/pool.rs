//! One connection per host for the whole run, opened the first time a task needs it and
//! shared by every task after (one SSH session per host, one channel per command).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::connection::{ConnError, ConnectSpec, Connection, connect};

type Slot = Arc<OnceCell<Result<Arc<dyn Connection>, String>>>;

/// Open connections by key (the host, and the user/connection type it was opened with).
#[derive(Default)]
pub struct Pool {
    slots: Mutex<HashMap<String, Slot>>,
}

impl Pool {
    /// The connection for `key`, opened with `spec` within `limit` if it is not open yet, and
    /// whether this call opened it. Concurrent callers for one key share one attempt; a
    /// failure is remembered (the host is unreachable for this run) until [`Pool::forget`].
    pub async fn get(
        &self,
        key: &str,
        spec: ConnectSpec,
        limit: std::time::Duration,
    ) -> (Result<Arc<dyn Connection>, String>, bool) {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.entry(key.to_string()).or_default().clone()
        };
        let mut opened = false;
        let conn = slot
            .get_or_init(|| async {
                opened = true;
                match tokio::time::timeout(limit, connect(spec)).await {
                    Err(_) => Err(format!("timed out after {}s connecting", limit.as_secs())),
                    Ok(Err(e)) => Err(describe(&e)),
                    Ok(Ok(conn)) => Ok(conn),
                }
            })
            .await
            .clone();
        (conn, opened)
    }

    /// Drops the connection (or the remembered failure) for `key`, so the next use reconnects
    /// (`meta: reset_connection`, `wait_for_connection`).
    pub async fn forget(&self, key: &str) {
        let slot = self.slots.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
        if let Some(Ok(conn)) = slot.as_deref().and_then(OnceCell::get) {
            let _ = conn.close().await;
        }
    }

    /// Forgets every connection to `host`, whatever user or type it was opened with.
    pub async fn forget_host(&self, host: &str) {
        let prefix = format!("{host}\u{0}");
        let keys: Vec<String> = self
            .slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .cloned()
            .collect();
        for k in keys {
            self.forget(&k).await;
        }
    }

    /// The key of a connection: the host, then what it was opened with.
    pub fn key(host: &str, d: &crate::run::host_conn::ConnDefaults) -> String {
        format!("{host}\u{0}{:?}\u{0}{:?}\u{0}{:?}", d.user, d.connection, d.port)
    }

    /// Closes every open connection at the end of the run.
    pub async fn close_all(&self) {
        let slots: Vec<Slot> =
            self.slots.lock().unwrap_or_else(|e| e.into_inner()).drain().map(|(_, s)| s).collect();
        for slot in slots {
            if let Some(Ok(conn)) = slot.get() {
                let _ = conn.close().await;
            }
        }
    }
}

fn describe(e: &ConnError) -> String {
    e.to_string()
}
