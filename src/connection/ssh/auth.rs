//! Logging in: the agent's keys (unless `IdentitiesOnly`), then the identity files in order
//! (ed25519, ecdsa, RSA with rsa-sha2-256/512 as OpenSSH 9 requires), then a password if one is
//! set. Encrypted keys are decrypted once per run with `BATON_SSH_KEY_PASSPHRASE` or a
//! passphrase asked on the terminal.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use russh::client::{AuthResult, Handle};
use russh::keys::agent::client::AgentClient;
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg};

use super::handler::Client;
use super::options::Resolved;
use crate::connection::ConnError;

/// Environment variable holding the passphrase of encrypted private keys.
pub const PASSPHRASE_ENV: &str = "BATON_SSH_KEY_PASSPHRASE";

/// Decrypted keys by path, so a passphrase is asked at most once per run even with many hosts.
static KEYS: Mutex<Option<HashMap<PathBuf, Arc<PrivateKey>>>> = Mutex::new(None);

/// Tries every method in turn; the error lists what was tried.
pub async fn authenticate(handle: &mut Handle<Client>, r: &Resolved) -> Result<(), ConnError> {
    let mut tried: Vec<String> = Vec::new();
    let mut remaining = String::new();
    let fail = |reason: String| ConnError::Auth { host: r.label(), user: r.user.clone(), reason };
    let lost = |e: russh::Error| fail(format!("the server closed the connection ({e})"));

    if r.use_agent && !r.identities_only && std::env::var_os("SSH_AUTH_SOCK").is_some() {
        match AgentClient::connect_env().await {
            Ok(mut agent) => {
                let identities = agent.request_identities().await.unwrap_or_default();
                for identity in identities {
                    let key = identity.public_key().into_owned();
                    let hash = rsa_hash(handle, key.algorithm().is_rsa()).await;
                    tried.push(format!("agent key {}", key.fingerprint(HashAlg::Sha256)));
                    match handle.authenticate_publickey_with(&r.user, key, hash, &mut agent).await {
                        Ok(AuthResult::Success) => return Ok(()),
                        Ok(AuthResult::Failure { remaining_methods, .. }) => {
                            remaining = methods(&remaining_methods)
                        }
                        Err(_) => {}
                    }
                }
            }
            Err(e) => tried.push(format!("agent at SSH_AUTH_SOCK (unusable: {e})")),
        }
    }

    for path in &r.identity_files {
        if r.default_identities && !path.exists() {
            continue;
        }
        let key = match load_key(path.clone()).await {
            Ok(key) => key,
            Err(reason) => {
                tried.push(format!("`{}` ({reason})", path.display()));
                continue;
            }
        };
        tried.push(format!("`{}`", path.display()));
        let hash = rsa_hash(handle, key.algorithm().is_rsa()).await;
        let result = handle
            .authenticate_publickey(&r.user, PrivateKeyWithHashAlg::new(key, hash))
            .await
            .map_err(lost)?;
        match result {
            AuthResult::Success => return Ok(()),
            AuthResult::Failure { remaining_methods, .. } => remaining = methods(&remaining_methods),
        }
    }

    if let Some(password) = &r.password {
        tried.push("password".into());
        let result = handle.authenticate_password(&r.user, password.0.as_str()).await.map_err(lost)?;
        match result {
            AuthResult::Success => return Ok(()),
            AuthResult::Failure { remaining_methods, .. } => remaining = methods(&remaining_methods),
        }
    }

    let tried = if tried.is_empty() {
        "no key or password to try: no agent, no identity file found".to_string()
    } else {
        format!("tried {}", tried.join(", "))
    };
    let allows =
        if remaining.is_empty() { String::new() } else { format!("; the server allows `{remaining}`") };
    Err(fail(format!("permission denied ({tried}{allows})")))
}

/// For RSA keys, the strongest rsa-sha2 hash the server accepts (OpenSSH 9 refuses SHA-1).
async fn rsa_hash(handle: &Handle<Client>, is_rsa: bool) -> Option<HashAlg> {
    if !is_rsa {
        return None;
    }
    match handle.best_supported_rsa_hash().await {
        Ok(Some(hash)) => hash,
        // The server did not say: assume a modern one.
        _ => Some(HashAlg::Sha512),
    }
}

fn methods(set: &russh::MethodSet) -> String {
    set.iter().map(|m| String::from(<&str>::from(m))).collect::<Vec<_>>().join(",")
}

/// Loads (and decrypts) a private key once per run.
pub async fn load_key(path: PathBuf) -> Result<Arc<PrivateKey>, String> {
    tokio::task::spawn_blocking(move || load_key_blocking(&path))
        .await
        .map_err(|e| format!("key loading failed: {e}"))?
}

fn load_key_blocking(path: &Path) -> Result<Arc<PrivateKey>, String> {
    // Held while asking, so parallel connections wait for one prompt instead of each asking.
    let mut cache = KEYS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(key) = cache.as_ref().and_then(|c| c.get(path)) {
        return Ok(key.clone());
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
    let key = match russh::keys::decode_secret_key(&text, None) {
        Ok(key) => key,
        Err(russh::keys::Error::KeyIsEncrypted) => {
            let passphrase = passphrase_for(path)?;
            russh::keys::decode_secret_key(&text, Some(&passphrase))
                .map_err(|_| "wrong passphrase".to_string())?
        }
        Err(e) => return Err(format!("not a usable private key: {e}")),
    };
    let key = Arc::new(key);
    cache.get_or_insert_with(HashMap::new).insert(path.to_path_buf(), key.clone());
    Ok(key)
}

fn passphrase_for(path: &Path) -> Result<String, String> {
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(format!("Enter passphrase for key '{}': ", path.display()))
            .map_err(|e| format!("cannot read the passphrase: {e}"));
    }
    Err(format!("it is encrypted; set {PASSPHRASE_ENV} or run on a terminal"))
}
