//! Command lines with pipes and redirections, done inside rkdump (no shell):
//! `ps | grep UN`, `log | tail 20`, `sym -l | wc -l`, `bt -a > bt.txt`, `log >> all.txt`.
//! Filters: `grep [-v] [-i] [-c] [-w] [-e] PATTERN` (regular expression), `head [-n] N`,
//! `tail [-n] N`, `wc [-l|-w|-c]`, `sort [-r] [-n] [-u]`, `uniq [-c]`.

use crate::error::{Error, Result};
use std::io::Write;

/// One stage after the command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// A filter command with its arguments.
    Filter(Vec<String>),
    /// `> FILE` (append = false) or `>> FILE`.
    Redirect {
        /// The file.
        path: String,
        /// Append instead of truncating.
        append: bool,
    },
}

/// Splits a line at unquoted `|`, `>` and `>>`: the command part and the stages after it.
pub fn split_pipeline(line: &str) -> Result<(String, Vec<Stage>)> {
    let mut parts: Vec<(char, String)> = vec![(' ', String::new())];
    let mut quote: Option<char> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let cur = &mut parts.last_mut().expect("never empty").1;
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                cur.push(c);
            }
            (None, '|') => parts.push(('|', String::new())),
            // `->` is a member access in an expression (`p ((struct x *)a)->m`).
            (None, '>') if cur.ends_with('-') => cur.push(c),
            (None, '>') => {
                if chars.peek() == Some(&'>') {
                    chars.next();
                    parts.push(('a', String::new()));
                } else {
                    parts.push(('>', String::new()));
                }
            }
            (None, c) => cur.push(c),
        }
    }
    let mut it = parts.into_iter();
    let command = it.next().map(|p| p.1).unwrap_or_default();
    let mut stages = Vec::new();
    for (kind, text) in it {
        let words = super::split_line(&text)?;
        match kind {
            '|' => {
                if words.is_empty() {
                    return Err(Error::Usage("empty command after '|'".into()));
                }
                stages.push(Stage::Filter(words));
            }
            _ => {
                let [path] = words.as_slice() else {
                    return Err(Error::Usage("redirection needs one file name".into()));
                };
                stages.push(Stage::Redirect {
                    path: path.clone(),
                    append: kind == 'a',
                });
            }
        }
    }
    Ok((command, stages))
}

/// Applies the filter stages to `text` and writes the result to `out` or the redirect file.
pub fn apply(text: &[u8], stages: &[Stage], out: &mut dyn Write) -> Result<()> {
    let mut lines: Vec<String> = String::from_utf8_lossy(text)
        .lines()
        .map(str::to_string)
        .collect();
    let mut redirect: Option<(&str, bool)> = None;
    for st in stages {
        match st {
            Stage::Filter(words) => lines = filter(words, lines)?,
            Stage::Redirect { path, append } => redirect = Some((path, *append)),
        }
    }
    let mut body = String::new();
    for l in &lines {
        body.push_str(l);
        body.push('\n');
    }
    match redirect {
        None => out.write_all(body.as_bytes())?,
        Some((path, append)) => {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(append)
                .truncate(!append)
                .open(path)
                .map_err(|e| Error::Usage(format!("{path}: {e}")))?;
            f.write_all(body.as_bytes())?;
        }
    }
    Ok(())
}

fn count_arg(cmd: &str, args: &[String], default: usize) -> Result<usize> {
    let mut n = default;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = if a == "-n" {
            it.next().map(String::as_str).unwrap_or("")
        } else {
            a.trim_start_matches('-')
        };
        n = v
            .parse()
            .map_err(|_| Error::Usage(format!("{cmd}: invalid count '{v}'")))?;
    }
    Ok(n)
}

fn filter(words: &[String], lines: Vec<String>) -> Result<Vec<String>> {
    let (name, args) = words.split_first().expect("checked non-empty");
    match name.as_str() {
        "grep" => {
            let (mut invert, mut icase, mut count, mut word) = (false, false, false, false);
            let mut pattern = None;
            let mut it = args.iter();
            while let Some(a) = it.next() {
                match a.as_str() {
                    "-v" => invert = true,
                    "-i" => icase = true,
                    "-c" => count = true,
                    "-w" => word = true,
                    "-e" => pattern = it.next().cloned(),
                    f if f.starts_with('-') && f.len() > 1 && pattern.is_none() => {
                        for c in f[1..].chars() {
                            match c {
                                'v' => invert = true,
                                'i' => icase = true,
                                'c' => count = true,
                                'w' => word = true,
                                _ => {
                                    return Err(Error::Usage(format!("grep: invalid option -{c}")))
                                }
                            }
                        }
                    }
                    p => pattern = Some(p.to_string()),
                }
            }
            let pattern = pattern.ok_or_else(|| Error::Usage("grep: missing pattern".into()))?;
            let mut src = if word {
                format!(r"\b(?:{pattern})\b")
            } else {
                pattern
            };
            if icase {
                src = format!("(?i){src}");
            }
            let re =
                regex_lite::Regex::new(&src).map_err(|e| Error::Usage(format!("grep: {e}")))?;
            let kept: Vec<String> = lines
                .into_iter()
                .filter(|l| re.is_match(l) != invert)
                .collect();
            Ok(if count {
                vec![kept.len().to_string()]
            } else {
                kept
            })
        }
        "head" => {
            let n = count_arg("head", args, 10)?;
            Ok(lines.into_iter().take(n).collect())
        }
        "tail" => {
            let n = count_arg("tail", args, 10)?;
            let skip = lines.len().saturating_sub(n);
            Ok(lines.into_iter().skip(skip).collect())
        }
        "wc" => {
            let l = lines.len();
            let w: usize = lines.iter().map(|x| x.split_whitespace().count()).sum();
            let c: usize = lines.iter().map(|x| x.len() + 1).sum();
            Ok(vec![match args.first().map(String::as_str) {
                Some("-l") => l.to_string(),
                Some("-w") => w.to_string(),
                Some("-c") => c.to_string(),
                _ => format!("{l:>7} {w:>7} {c:>7}"),
            }])
        }
        "sort" => {
            let mut v = lines;
            let numeric = args.iter().any(|a| a.contains('n'));
            if numeric {
                let key = |s: &String| {
                    s.split_whitespace()
                        .next()
                        .and_then(|t| t.parse::<f64>().ok())
                        .unwrap_or(f64::MIN)
                };
                v.sort_by(|a, b| key(a).total_cmp(&key(b)));
            } else {
                v.sort();
            }
            if args.iter().any(|a| a.contains('u')) {
                v.dedup();
            }
            if args.iter().any(|a| a.contains('r')) {
                v.reverse();
            }
            Ok(v)
        }
        "uniq" => {
            let counted = args.iter().any(|a| a == "-c");
            let mut out: Vec<(usize, String)> = Vec::new();
            for l in lines {
                match out.last_mut() {
                    Some((n, last)) if *last == l => *n += 1,
                    _ => out.push((1, l)),
                }
            }
            Ok(out
                .into_iter()
                .map(|(n, l)| if counted { format!("{n:>7} {l}") } else { l })
                .collect())
        }
        other => Err(Error::Usage(format!(
            "{other}: not a filter (grep, head, tail, wc, sort, uniq)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, line: &str) -> String {
        let (_, stages) = split_pipeline(line).expect("parses");
        let mut out = Vec::new();
        apply(text.as_bytes(), &stages, &mut out).expect("applies");
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn splits_and_filters() {
        let (cmd, st) = split_pipeline("ps -m 'a|b' | grep -v UN | tail 2 > out.txt").unwrap();
        assert_eq!(cmd.trim(), "ps -m 'a|b'");
        assert_eq!(st.len(), 3);
        assert_eq!(
            st[2],
            Stage::Redirect {
                path: "out.txt".into(),
                append: false
            }
        );
        let (cmd, st) = split_pipeline("p ((struct x *)0x10)->next->prev > o.txt").unwrap();
        assert_eq!(cmd.trim(), "p ((struct x *)0x10)->next->prev");
        assert_eq!(st.len(), 1);
        let text = "a RU\nb UN\nc IN\nd UN\ne RU\n";
        assert_eq!(run(text, "x | grep UN"), "b UN\nd UN\n");
        assert_eq!(run(text, "x | grep -vc UN"), "3\n");
        assert_eq!(run(text, "x | grep -i 'ru$' | head -n 1"), "a RU\n");
        assert_eq!(run(text, "x | tail 2"), "d UN\ne RU\n");
        assert_eq!(run(text, "x | wc -l"), "5\n");
        assert_eq!(
            run("b\na\na\n", "x | sort | uniq -c"),
            "      2 a\n      1 b\n"
        );
        assert!(split_pipeline("x |").is_err());
        assert!(split_pipeline("x > a b").is_err());
    }
}
