//! INI values are read as Ansible reads them: Python's `ast.literal_eval`, falling back to the
//! plain string. So `1` is a number, `True` a boolean, `[1, 'a']` a list, `"x"` the string
//! `x`, and `yes`, `true` or `hello world` stay strings. This is the subset of Python literal
//! syntax that inventories meet: numbers, strings (with prefixes, escapes and implicit
//! concatenation), `True`/`False`/`None`, lists, tuples, sets and dicts.

use serde_json::Value as Json;

/// The value `text` stands for, or `None` when Python would not read it as a literal
/// (the caller then keeps the text as a string).
pub fn literal_eval(text: &str) -> Option<Json> {
    let text = text.trim_start_matches([' ', '\t']);
    let mut p = Parser { chars: text.chars().collect(), pos: 0 };
    let value = p.expression()?;
    p.skip_space();
    (p.pos == p.chars.len()).then_some(value)
}

/// An INI value: the literal if it is one, the text otherwise.
pub fn ini_value(text: &str) -> Json {
    literal_eval(text).unwrap_or_else(|| Json::String(text.to_string()))
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

/// A parsed literal; keys of dicts need to know what they were before becoming JSON.
enum Lit {
    Json(Json),
    Tuple(Vec<Json>),
}

impl Lit {
    fn into_json(self) -> Json {
        match self {
            Lit::Json(j) => j,
            Lit::Tuple(items) => Json::Array(items),
        }
    }
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    /// Skips blanks and `#` comments (which end at a newline).
    fn skip_space(&mut self) {
        while let Some(c) = self.peek() {
            if c == '#' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.pos += 1;
                }
            } else if c.is_whitespace() {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_space();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// A whole expression: one value, or a tuple without parentheses (`1, 2`).
    fn expression(&mut self) -> Option<Json> {
        let first = self.value()?;
        self.skip_space();
        if self.peek() != Some(',') {
            return Some(first.into_json());
        }
        let mut items = vec![first.into_json()];
        while self.eat(',') {
            self.skip_space();
            if self.peek().is_none() {
                break;
            }
            items.push(self.value()?.into_json());
        }
        Some(Json::Array(items))
    }

    fn value(&mut self) -> Option<Lit> {
        self.skip_space();
        let c = self.peek()?;
        match c {
            '[' => {
                self.pos += 1;
                Some(Lit::Json(Json::Array(self.items(']')?)))
            }
            '(' => {
                self.pos += 1;
                self.paren()
            }
            '{' => {
                self.pos += 1;
                self.brace().map(Lit::Json)
            }
            '+' | '-' => {
                self.pos += 1;
                self.skip_space();
                let n = self.number()?;
                Some(Lit::Json(if c == '-' { negate(n)? } else { n }))
            }
            c if c.is_ascii_digit() || (c == '.' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit())) => {
                self.number().map(Lit::Json)
            }
            _ => {
                if let Some(s) = self.strings()? {
                    return Some(Lit::Json(Json::String(s)));
                }
                let word = self.identifier();
                match word.as_str() {
                    "True" => Some(Lit::Json(Json::Bool(true))),
                    "False" => Some(Lit::Json(Json::Bool(false))),
                    "None" => Some(Lit::Json(Json::Null)),
                    _ => None,
                }
            }
        }
    }

    fn identifier(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    /// Comma-separated values up to `close`, trailing comma allowed.
    fn items(&mut self, close: char) -> Option<Vec<Json>> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Some(items);
            }
            items.push(self.value()?.into_json());
            if !self.eat(',') {
                return self.eat(close).then_some(items);
            }
        }
    }

    /// `(x)` is x; `()`, `(x,)` and `(x, y)` are tuples.
    fn paren(&mut self) -> Option<Lit> {
        if self.eat(')') {
            return Some(Lit::Tuple(Vec::new()));
        }
        let first = self.value()?;
        if self.eat(')') {
            return Some(first);
        }
        if !self.eat(',') {
            return None;
        }
        let mut items = vec![first.into_json()];
        items.extend(self.items(')')?);
        Some(Lit::Tuple(items))
    }

    /// A dict or a set.
    fn brace(&mut self) -> Option<Json> {
        if self.eat('}') {
            return Some(Json::Object(serde_json::Map::new()));
        }
        let first = self.value()?;
        if self.eat(':') {
            let mut map = serde_json::Map::new();
            let mut key = first;
            loop {
                let value = self.value()?.into_json();
                map.insert(key_string(key)?, value);
                if self.eat('}') {
                    return Some(Json::Object(map));
                }
                if !self.eat(',') {
                    return None;
                }
                if self.eat('}') {
                    return Some(Json::Object(map));
                }
                key = self.value()?;
                if !self.eat(':') {
                    return None;
                }
            }
        }
        // A set: duplicates collapse.
        let mut items = vec![first.into_json()];
        if self.eat(',') {
            items.extend(self.items('}')?);
        } else if !self.eat('}') {
            return None;
        }
        let mut unique: Vec<Json> = Vec::new();
        for i in items {
            if !unique.contains(&i) {
                unique.push(i);
            }
        }
        Some(Json::Array(unique))
    }

    /// Python number literals (underscores, `0x`/`0o`/`0b`, floats); imaginary numbers and
    /// decimal numbers with leading zeros are not accepted.
    fn number(&mut self) -> Option<Json> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            // An exponent sign belongs to the number: `1e-5`.
            self.pos += 1;
            if matches!(self.chars.get(self.pos - 1), Some('e' | 'E'))
                && matches!(self.peek(), Some('+' | '-'))
                && !self.chars[start..self.pos].iter().any(|c| matches!(c, 'x' | 'X'))
            {
                self.pos += 1;
            }
        }
        let token: String = self.chars[start..self.pos].iter().collect();
        parse_number(&token)
    }

    /// One or more adjacent string literals, concatenated; `Ok(None)`-like `Some(None)` when
    /// the next token is not a string.
    fn strings(&mut self) -> Option<Option<String>> {
        let mut out: Option<String> = None;
        let mut bytes_kind: Option<bool> = None;
        loop {
            self.skip_space();
            let save = self.pos;
            let Some((s, is_bytes)) = self.string()? else {
                self.pos = save;
                return Some(out);
            };
            if bytes_kind.is_some_and(|b| b != is_bytes) {
                return None;
            }
            bytes_kind = Some(is_bytes);
            out.get_or_insert_with(String::new).push_str(&s);
        }
    }

    /// One string literal with its prefix: `Some(Some((text, is_bytes)))`, `Some(None)` when
    /// the next token is not a string, `None` when it is a broken or unsupported one.
    fn string(&mut self) -> Option<Option<(String, bool)>> {
        let start = self.pos;
        let mut prefix = String::new();
        while let Some(c) = self.peek() {
            if c.is_ascii_alphabetic() && prefix.len() < 2 {
                prefix.push(c.to_ascii_lowercase());
                self.pos += 1;
            } else {
                break;
            }
        }
        let Some(quote) = self.peek().filter(|c| *c == '\'' || *c == '"') else {
            self.pos = start;
            return Some(None);
        };
        let (raw, is_bytes) = match prefix.as_str() {
            "" | "u" => (false, false),
            "r" => (true, false),
            "b" => (false, true),
            "br" | "rb" => (true, true),
            // f-strings are not literals; other letters are an identifier before a string.
            _ => return None,
        };
        let triple = self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote);
        self.pos += if triple { 3 } else { 1 };
        let mut text = String::new();
        loop {
            let c = self.peek()?;
            if c == quote && (!triple || (self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote))) {
                self.pos += if triple { 3 } else { 1 };
                break;
            }
            if c == '\n' && !triple {
                return None;
            }
            self.pos += 1;
            if c != '\\' {
                if is_bytes && !c.is_ascii() {
                    return None;
                }
                text.push(c);
                continue;
            }
            let e = self.peek()?;
            self.pos += 1;
            if raw {
                text.push('\\');
                text.push(e);
                continue;
            }
            self.escape(e, is_bytes, &mut text)?;
        }
        Some(Some((text, is_bytes)))
    }

    fn escape(&mut self, e: char, is_bytes: bool, text: &mut String) -> Option<()> {
        let simple = match e {
            '\n' => Some(None),
            '\\' => Some(Some('\\')),
            '\'' => Some(Some('\'')),
            '"' => Some(Some('"')),
            'a' => Some(Some('\u{7}')),
            'b' => Some(Some('\u{8}')),
            'f' => Some(Some('\u{c}')),
            'n' => Some(Some('\n')),
            'r' => Some(Some('\r')),
            't' => Some(Some('\t')),
            'v' => Some(Some('\u{b}')),
            _ => None,
        };
        if let Some(c) = simple {
            text.extend(c);
            return Some(());
        }
        let hex = |p: &mut Parser, n: usize| -> Option<u32> {
            let digits: String = p.chars.get(p.pos..p.pos + n)?.iter().collect();
            let v = u32::from_str_radix(&digits, 16).ok()?;
            p.pos += n;
            Some(v)
        };
        match e {
            '0'..='7' => {
                let mut v = e.to_digit(8)?;
                for _ in 0..2 {
                    match self.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            self.pos += 1;
                        }
                        None => break,
                    }
                }
                text.push(char::from_u32(v)?);
            }
            'x' => text.push(char::from_u32(hex(self, 2)?)?),
            'u' if !is_bytes => text.push(char::from_u32(hex(self, 4)?)?),
            'U' if !is_bytes => text.push(char::from_u32(hex(self, 8)?)?),
            // `\N{name}` needs Unicode names; not worth it for inventories.
            'N' if !is_bytes => return None,
            other => {
                text.push('\\');
                text.push(other);
            }
        }
        Some(())
    }
}

fn negate(n: Json) -> Option<Json> {
    if let Some(i) = n.as_i64() {
        return Some(Json::from(i.checked_neg()?));
    }
    n.as_f64().and_then(|f| serde_json::Number::from_f64(-f)).map(Json::Number)
}

/// Python's number token grammar.
fn parse_number(token: &str) -> Option<Json> {
    let lower = token.to_ascii_lowercase();
    let underscores_ok = |digits: &str| {
        !digits.is_empty() && !digits.starts_with('_') && !digits.ends_with('_') && !digits.contains("__")
    };
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(d) = lower.strip_prefix(prefix) {
            let d = d.strip_prefix('_').unwrap_or(d);
            if !underscores_ok(d) {
                return None;
            }
            let clean = d.replace('_', "");
            return u64::from_str_radix(&clean, radix).ok().map(int_json);
        }
    }
    if lower.ends_with('j') {
        return None;
    }
    let is_float = lower.contains(['.', 'e']);
    if !is_float {
        if !underscores_ok(&lower) || !lower.chars().all(|c| c.is_ascii_digit() || c == '_') {
            return None;
        }
        let clean = lower.replace('_', "");
        // `0123` is a syntax error in Python 3; `00` is zero.
        if clean.len() > 1 && clean.starts_with('0') && clean.chars().any(|c| c != '0') {
            return None;
        }
        return match clean.parse::<u64>() {
            Ok(v) => Some(int_json(v)),
            Err(_) => clean.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Json::Number),
        };
    }
    let (mantissa, exponent) = match lower.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (lower.as_str(), None),
    };
    let (int_part, frac) = mantissa.split_once('.').map_or((mantissa, None), |(i, f)| (i, Some(f)));
    let digits_ok =
        |s: &str| s.is_empty() || (underscores_ok(s) && s.chars().all(|c| c.is_ascii_digit() || c == '_'));
    if !digits_ok(int_part)
        || !frac.is_none_or(digits_ok)
        || (int_part.is_empty() && frac.is_none_or(str::is_empty))
    {
        return None;
    }
    if let Some(e) = exponent {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e.is_empty() || !digits_ok(e) {
            return None;
        }
    }
    let f: f64 = lower.replace('_', "").parse().ok()?;
    serde_json::Number::from_f64(f).map(Json::Number)
}

fn int_json(v: u64) -> Json {
    match i64::try_from(v) {
        Ok(i) => Json::from(i),
        Err(_) => Json::from(v),
    }
}

/// A dict key as JSON writes it (Python's `json.dumps`): `1` -> `"1"`, `True` -> `"true"`.
fn key_string(key: Lit) -> Option<String> {
    match key {
        Lit::Tuple(_) => None,
        Lit::Json(Json::String(s)) => Some(s),
        Lit::Json(Json::Null) => Some("null".to_string()),
        Lit::Json(j @ (Json::Bool(_) | Json::Number(_))) => Some(j.to_string()),
        Lit::Json(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn v(s: &str) -> Json {
        ini_value(s)
    }

    #[test]
    fn numbers() {
        assert_eq!(v("1"), json!(1));
        assert_eq!(v("-1"), json!(-1));
        assert_eq!(v("- 1"), json!(-1));
        assert_eq!(v("+1"), json!(1));
        assert_eq!(v("1_000"), json!(1000));
        assert_eq!(v("0x1F"), json!(31));
        assert_eq!(v("0o17"), json!(15));
        assert_eq!(v("0b101"), json!(5));
        assert_eq!(v("00"), json!(0));
        assert_eq!(v("1.5"), json!(1.5));
        assert_eq!(v("1."), json!(1.0));
        assert_eq!(v(".5"), json!(0.5));
        assert_eq!(v("1e5"), json!(100000.0));
        assert_eq!(v("1E-2"), json!(0.01));
        assert_eq!(v("5 # comment"), json!(5));
        for s in ["0123", "--1", "1_", "1__0", "1j", "1abc", "1.2.3", "0x", "-True", "1e", "inf"] {
            assert_eq!(v(s), json!(s), "{s}");
        }
    }

    #[test]
    fn words_stay_strings() {
        for s in ["yes", "true", "none", "hello world", "hello # c", "a=b", "", "{{ x }}", "~", "1 + 2"] {
            assert_eq!(v(s), json!(s), "{s}");
        }
    }

    #[test]
    fn constants() {
        assert_eq!(v("True"), json!(true));
        assert_eq!(v("False"), json!(false));
        assert_eq!(v("None"), json!(null));
    }

    #[test]
    fn strings() {
        assert_eq!(v("'quoted'"), json!("quoted"));
        assert_eq!(v("\"1\""), json!("1"));
        assert_eq!(v("'a' \"b\""), json!("ab"));
        assert_eq!(v(r"'a\nb'"), json!("a\nb"));
        assert_eq!(v(r"r'a\nb'"), json!("a\\nb"));
        assert_eq!(v(r"u'x\u00e9'"), json!("xé"));
        assert_eq!(v("b'x'"), json!("x"));
        assert_eq!(v(r"'\x41\101'"), json!("AA"));
        assert_eq!(v(r"'\d'"), json!("\\d"));
        assert_eq!(v("'''tri'ple'''"), json!("tri'ple"));
        for s in ["'open", "f'x'", "b'x' 'y'", "'a' b", "x'a'"] {
            assert_eq!(v(s), json!(s), "{s}");
        }
    }

    #[test]
    fn collections() {
        assert_eq!(v("[1, 'two']"), json!([1, "two"]));
        assert_eq!(v("[1,]"), json!([1]));
        assert_eq!(v("(1)"), json!(1));
        assert_eq!(v("(1,)"), json!([1]));
        assert_eq!(v("()"), json!([]));
        assert_eq!(v("1, 2"), json!([1, 2]));
        assert_eq!(v("{}"), json!({}));
        assert_eq!(v("{'a': 1, 'b': [True, None],}"), json!({"a": 1, "b": [true, null]}));
        assert_eq!(v("{1: 'x', True: 'y', None: 'z'}"), json!({"1": "x", "true": "y", "null": "z"}));
        assert_eq!(v("{1, 2, 1}"), json!([1, 2]));
        assert_eq!(v("{'a': {'b': (1, 2)}}"), json!({"a": {"b": [1, 2]}}));
        for s in ["[1, 2", "{'a' 1}", "{'a': 1 'b': 2}", "[x]", "{(1, 2): 3}", "[1] [2]"] {
            assert_eq!(v(s), json!(s), "{s}");
        }
    }

    #[test]
    fn leading_blanks_are_ignored() {
        assert_eq!(v("  7"), json!(7));
    }
}
