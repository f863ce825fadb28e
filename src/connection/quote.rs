//! Quoting for the POSIX shell on the target: every argument Baton puts on a command line
//! goes through [`quote`].

use std::borrow::Cow;

/// Quotes one argument for `/bin/sh`, leaving plain words as they are.
pub fn quote(arg: &str) -> Cow<'_, str> {
    let plain =
        !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if plain { Cow::Borrowed(arg) } else { Cow::Owned(format!("'{}'", arg.replace('\'', "'\\''"))) }
}

/// Quotes each argument and joins them with spaces.
pub fn join<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    args.into_iter().map(|a| quote(a.as_ref()).into_owned()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay() {
        assert_eq!(quote("/srv/app-1.2"), "/srv/app-1.2");
    }

    #[test]
    fn specials_are_single_quoted() {
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$(rm -rf /)"), "'$(rm -rf /)'");
        assert_eq!(join(["echo", "a;b"]), "echo 'a;b'");
    }
}
