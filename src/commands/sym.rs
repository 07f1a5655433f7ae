//! `sym`: translate a symbol to its address or an address to `symbol+offset`; list or search.

use super::{args::parse_hex, Command, Opts};
use crate::debuginfo::Symbol;
use crate::error::{Error, Result};
use crate::session::Session;
use std::io::Write;

/// The `sym` command.
pub struct Sym;

const USAGE: &str = "\
sym [-l] [-q STRING] [SYMBOL | ADDRESS]...
  SYMBOL     print its address and type
  ADDRESS    print the symbol containing it, as name+offset
  -l         list every symbol, sorted by address
  -q STRING  list the symbols whose name contains STRING";

fn line(session: &Session, s: &Symbol, off: Option<u64>) -> String {
    let addr = session.runtime_addr(s);
    let letter = s.kind.letter(s.global);
    match off {
        Some(o) if o > 0 => format!("{:016x} ({letter}) {}+{o}", addr + o, s.name),
        _ => format!("{addr:016x} ({letter}) {}", s.name),
    }
}

impl Command for Sym {
    fn name(&self) -> &'static str {
        "sym"
    }
    fn summary(&self) -> &'static str {
        "translate a symbol to its address or vice-versa"
    }
    fn usage(&self) -> &'static str {
        USAGE
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        let o = Opts::parse("sym", args, "l", "q", &[])?;
        let table = session.vmlinux().symbols();
        if o.has("l") {
            let mut all: Vec<&Symbol> = table.iter().collect();
            all.sort_by_key(|s| session.runtime_addr(s));
            for s in all {
                writeln!(out, "{}", line(session, s, None))?;
            }
            return Ok(());
        }
        if let Some(q) = o.value("q") {
            let mut hits: Vec<&Symbol> = table.iter().filter(|s| s.name.contains(q)).collect();
            hits.sort_by_key(|s| session.runtime_addr(s));
            for s in hits {
                writeln!(out, "{}", line(session, s, None))?;
            }
            return Ok(());
        }
        if o.positional.is_empty() {
            return Err(Error::Usage(format!(
                "sym: missing argument\nusage: {USAGE}"
            )));
        }
        let mut errors = Vec::new();
        for word in &o.positional {
            if let Some(s) = table.lookup(word) {
                writeln!(out, "{}", line(session, s, None))?;
            } else if let Some(addr) = parse_hex(word).or_else(|| {
                word.contains(['+', '-'])
                    .then(|| super::parse_address(session, word).ok())
                    .flatten()
            }) {
                match session.symbol_at(addr) {
                    Some((s, off)) => writeln!(out, "{}", line(session, s, Some(off)))?,
                    // A module address: `name+off [module]`, as crash prints it.
                    None => {
                        let hit = session.modules().ok().and_then(|t| {
                            let m = t.containing(addr)?;
                            let (s, off) = m.symbol_at(addr, false)?;
                            let name = if off == 0 {
                                s.name.clone()
                            } else {
                                format!("{}+{off}", s.name)
                            };
                            Some(format!("{addr:016x} ({}) {name} [{}]", s.kind, m.name))
                        });
                        match hit {
                            Some(l) => writeln!(out, "{l}")?,
                            None => errors.push(format!("sym: invalid address: {word}")),
                        }
                    }
                }
            } else {
                errors.push(format!("sym: {word}: no such symbol"));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Usage(errors.join("\n")))
        }
    }
}
