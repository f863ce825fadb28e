//! Random tokens for temp file names and become markers.

/// `len` random lowercase hex digits.
///
/// Falls back to time and pid if the OS has no randomness to give: the token then is only
/// unique, which is all temp names need (they are created with `O_EXCL`).
pub fn hex_token(len: usize) -> String {
    let mut bytes = vec![0u8; len.div_ceil(2)];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let seed = nanos ^ (u128::from(std::process::id()) << 64);
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (seed >> ((i % 16) * 8)) as u8;
        }
    }
    let mut out: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    out.truncate(len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_the_length_asked_and_differ() {
        let a = hex_token(15);
        assert_eq!(a.len(), 15);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(hex_token(16), hex_token(16));
    }
}
