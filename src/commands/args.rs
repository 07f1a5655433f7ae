//! Argument helpers shared by commands: word splitting with quotes, crash-style option
//! parsing, and address expressions (`0xffff…`, `symbol`, `symbol+0x10`).

use crate::error::{Error, Result};
use crate::session::Session;

/// Splits a command line into words; single and double quotes group, backslash escapes.
pub fn split_line(line: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(Error::Usage("unterminated quote".into()));
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Options and positional arguments of one command invocation.
#[derive(Debug, Default)]
pub struct Opts {
    /// Flags seen (without the dash), e.g. `"s"`, `"64"`, in order.
    pub flags: Vec<String>,
    /// Values of options that take one (`-o 8` → ("o", "8")).
    pub values: Vec<(String, String)>,
    /// Positional words.
    pub positional: Vec<String>,
}

impl Opts {
    /// Parses `args`: `with_value` lists options that take a value; `multi_char` lists
    /// multi-character flags (`-64`, `-ll`) that are not bundles of single letters.
    /// Single-letter flags may be bundled (`-sx`). A lone `-` or a negative number after the
    /// first positional stays positional.
    pub fn parse(
        cmd: &str,
        args: &[String],
        allowed: &str,
        with_value: &str,
        multi_char: &[&str],
    ) -> Result<Self> {
        let mut o = Opts::default();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let Some(body) = a.strip_prefix('-').filter(|b| !b.is_empty()) else {
                o.positional.push(a.clone());
                continue;
            };
            if !o.positional.is_empty() && body.chars().all(|c| c.is_ascii_digit()) {
                o.positional.push(a.clone());
                continue;
            }
            if multi_char.contains(&body) {
                o.flags.push(body.to_string());
                continue;
            }
            for (i, c) in body.char_indices() {
                if with_value.contains(c) {
                    let rest = &body[i + c.len_utf8()..];
                    let v = if rest.is_empty() {
                        it.next().cloned().ok_or_else(|| {
                            Error::Usage(format!("{cmd}: option -{c} needs a value"))
                        })?
                    } else {
                        rest.to_string()
                    };
                    o.values.push((c.to_string(), v));
                    break;
                }
                if !allowed.contains(c) {
                    return Err(Error::Usage(format!("{cmd}: invalid option -- '{c}'")));
                }
                o.flags.push(c.to_string());
            }
        }
        Ok(o)
    }
    /// Whether flag `f` was given.
    pub fn has(&self, f: &str) -> bool {
        self.flags.iter().any(|x| x == f)
    }
    /// The value of option `f`, if given (last wins).
    pub fn value(&self, f: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| k == f)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a number: `0x` hex, plain digits as hex when they contain a-f or are long like
/// an address, otherwise decimal (crash treats bare address-like words as hex).
pub fn parse_number(s: &str) -> Option<u64> {
    let t = s.trim();
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u64::from_str_radix(h, 16).ok();
    }
    if t.chars().all(|c| c.is_ascii_digit()) && t.len() < 12 {
        return t.parse().ok();
    }
    if t.chars().all(|c| c.is_ascii_hexdigit()) {
        return u64::from_str_radix(t, 16).ok();
    }
    None
}

/// Parses an address as crash does: hexadecimal with or without `0x`, a symbol, or
/// `symbol+off` / `symbol-off` (offsets as [`parse_number`]).
pub fn parse_address(session: &Session, s: &str) -> Result<u64> {
    if let Some(v) = parse_hex(s) {
        return Ok(v);
    }
    let (name, off) = match s.find(['+', '-']) {
        Some(i) => {
            let (n, rest) = s.split_at(i);
            let v = parse_number(&rest[1..])
                .ok_or_else(|| Error::Usage(format!("invalid offset in {s}")))?;
            (
                n,
                if rest.starts_with('-') {
                    v.wrapping_neg()
                } else {
                    v
                },
            )
        }
        None => (s, 0),
    };
    let base = session
        .any_symbol_addr(name)
        .ok_or_else(|| Error::Usage(format!("symbol not found: {name}")))?;
    Ok(base.wrapping_add(off))
}

/// Parses hexadecimal, with or without a `0x` prefix.
pub fn parse_hex(s: &str) -> Option<u64> {
    let t = s.trim();
    let h = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    if h.is_empty() || !h.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(h, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_quotes_and_escapes() {
        let w = split_line(r#"ps -m 'a b' "c\"d" e\ f"#).expect("splits");
        assert_eq!(w, vec!["ps", "-m", "a b", "c\"d", "e f"]);
        assert!(split_line("rd 'x").is_err());
    }

    #[test]
    fn parses_options() {
        let args: Vec<String> = ["-64", "-sx", "-o", "8", "addr", "-3"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let o = Opts::parse("rd", &args, "sx", "o", &["64"]).expect("parses");
        assert!(o.has("64") && o.has("s") && o.has("x"));
        assert_eq!(o.value("o"), Some("8"));
        assert_eq!(o.positional, vec!["addr", "-3"]);
        assert!(Opts::parse("rd", &["-z".to_string()], "sx", "", &[]).is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("0x10"), Some(16));
        assert_eq!(parse_number("10"), Some(10));
        assert_eq!(parse_number("ffffffff81000000"), Some(0xffffffff81000000));
        assert_eq!(parse_number("init_task"), None);
        assert_eq!(parse_hex("8000000"), Some(0x800_0000));
        assert_eq!(parse_hex("0xff"), Some(255));
        assert_eq!(parse_hex("beef_"), None);
    }
}
