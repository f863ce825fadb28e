//! Digests: `hash('md5'|'sha1'|'sha256'|'sha512')`, `checksum` (sha1, like Ansible), `md5`, `sha1`.

use minijinja::{Environment, Error, Value};
use sha1::Digest;

use super::fail;

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("hash", hash);
    env.add_filter("checksum", |v: &Value| hex_digest::<sha1::Sha1>(&text(v)));
    env.add_filter("sha1", |v: &Value| hex_digest::<sha1::Sha1>(&text(v)));
    env.add_filter("md5", |v: &Value| hex_digest::<md5::Md5>(&text(v)));
}

fn text(v: &Value) -> String {
    match v.as_str() {
        Some(s) => s.to_string(),
        None => crate::template::format::display(v),
    }
}

fn hex_digest<D: Digest>(data: &str) -> String {
    D::digest(data.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn hash(value: &Value, algorithm: Option<&str>) -> Result<String, Error> {
    let data = text(value);
    Ok(match algorithm.unwrap_or("sha1") {
        "md5" => hex_digest::<md5::Md5>(&data),
        "sha1" => hex_digest::<sha1::Sha1>(&data),
        "sha224" => hex_digest::<sha2::Sha224>(&data),
        "sha256" => hex_digest::<sha2::Sha256>(&data),
        "sha384" => hex_digest::<sha2::Sha384>(&data),
        "sha512" => hex_digest::<sha2::Sha512>(&data),
        other => return Err(fail(format!("unsupported hash algorithm `{other}`"))),
    })
}

#[cfg(test)]
mod unit {
    use crate::template::filters::{eval, eval_err};
    use serde_json::json;

    #[test]
    fn digests_match_python() {
        assert_eq!(eval("'aaa' | hash('md5')"), json!("47bce5c74f589f4867dbd57e9ca9f808"));
        assert_eq!(eval("'a' | md5"), json!("0cc175b9c0f1b6a831c399e269772661"));
        assert_eq!(eval("'a' | sha1"), json!("86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"));
        assert_eq!(eval("'abc' | checksum"), json!("a9993e364706816aba3e25717850c26c9cd0d89d"));
        assert_eq!(
            eval("'a' | hash('sha256')"),
            json!("ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb")
        );
        assert_eq!(eval("'abc' | hash"), json!("a9993e364706816aba3e25717850c26c9cd0d89d"));
        assert!(eval_err("'a' | hash('crc')").contains("`crc`"));
    }
}
