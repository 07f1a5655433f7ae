//! `sym`: translate a symbol to its address or an address to `symbol+offset`; list or search.

use super::{args::parse_hex, Command, Data, Opts};
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

/// A symbol found for a name or an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymHit {
    /// The address asked about (the symbol's own address for a name).
    pub address: u64,
    /// The symbol.
    pub name: String,
    /// `address` minus the symbol's start.
    pub offset: u64,
    /// `nm`-style type letter.
    pub kind: char,
    /// The module, `None` for the kernel image.
    pub module: Option<String>,
}

impl SymHit {
    fn kernel(session: &Session, s: &Symbol, off: u64) -> Self {
        Self {
            address: session.runtime_addr(s) + off,
            name: s.name.clone(),
            offset: off,
            kind: s.kind.letter(s.global),
            module: None,
        }
    }

    /// crash's line: `ADDRESS (T) name+off [module]`.
    fn line(&self) -> String {
        let name = if self.offset > 0 {
            format!("{}+{}", self.name, self.offset)
        } else {
            self.name.clone()
        };
        let module = self
            .module
            .as_deref()
            .map(|m| format!(" [{m}]"))
            .unwrap_or_default();
        format!("{:016x} ({}) {name}{module}", self.address, self.kind)
    }

    fn data(&self) -> Data {
        Data::map([
            ("address", Data::addr(self.address)),
            ("name", Data::Str(self.name.clone())),
            ("offset", Data::uint(self.offset)),
            ("type", Data::Str(self.kind.to_string())),
            ("module", Data::opt_str(self.module.as_deref())),
        ])
    }
}

/// What `sym ARGS` finds: every symbol for `-l`, the matches for `-q`, else one hit per word
/// (or the error for that word).
fn lookup(session: &Session, args: &[String]) -> Result<Vec<std::result::Result<SymHit, String>>> {
    let o = Opts::parse("sym", args, "l", "q", &[])?;
    let table = session.vmlinux().symbols();
    if o.has("l") || o.value("q").is_some() {
        let q = o.value("q");
        let mut hits: Vec<&Symbol> = table
            .iter()
            .filter(|s| q.is_none_or(|q| s.name.contains(q)))
            .collect();
        hits.sort_by_key(|s| session.runtime_addr(s));
        return Ok(hits
            .into_iter()
            .map(|s| Ok(SymHit::kernel(session, s, 0)))
            .collect());
    }
    if o.positional.is_empty() {
        return Err(Error::Usage(format!(
            "sym: missing argument\nusage: {USAGE}"
        )));
    }
    Ok(o.positional
        .iter()
        .map(|w| lookup_word(session, w))
        .collect())
}

fn lookup_word(session: &Session, word: &str) -> std::result::Result<SymHit, String> {
    if let Some(s) = session.vmlinux().symbols().lookup(word) {
        return Ok(SymHit::kernel(session, s, 0));
    }
    // A module symbol by name (its kallsyms): `ADDRESS (d) name [module]`.
    if let Some(hit) = session.modules().ok().and_then(|t| {
        t.modules.iter().find_map(|m| {
            let s = m.symbols.iter().find(|s| s.name == word)?;
            Some(SymHit {
                address: s.addr,
                name: s.name.clone(),
                offset: 0,
                kind: s.kind,
                module: Some(m.name.clone()),
            })
        })
    }) {
        return Ok(hit);
    }
    let Some(addr) = parse_hex(word).or_else(|| {
        word.contains(['+', '-'])
            .then(|| super::parse_address(session, word).ok())
            .flatten()
    }) else {
        return Err(format!("sym: {word}: no such symbol"));
    };
    if let Some((s, off)) = session.symbol_at(addr) {
        return Ok(SymHit::kernel(session, s, off));
    }
    // A module address: `name+off [module]`, as crash prints it.
    session
        .modules()
        .ok()
        .and_then(|t| {
            let m = t.containing(addr)?;
            let (s, off) = m.symbol_at(addr, false)?;
            Some(SymHit {
                address: addr,
                name: s.name.clone(),
                offset: off,
                kind: s.kind,
                module: Some(m.name.clone()),
            })
        })
        .ok_or_else(|| format!("sym: invalid address: {word}"))
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
        let mut errors = Vec::new();
        for hit in lookup(session, args)? {
            match hit {
                Ok(h) => writeln!(out, "{}", h.line())?,
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Usage(errors.join("\n")))
        }
    }
    /// One word gives a map `{address, name, offset, type, module}`; several words, `-l` or
    /// `-q` a list of them. A word that matches nothing is an error.
    fn data(&self, session: &Session, args: &[String]) -> Result<Data> {
        let listing = args.iter().any(|a| a.starts_with('-') && a.len() > 1);
        let hits = lookup(session, args)?
            .into_iter()
            .map(|h| h.map(|h| h.data()))
            .collect::<std::result::Result<Vec<_>, String>>()
            .map_err(Error::Usage)?;
        Ok(if listing {
            Data::List(hits)
        } else {
            Data::one_or_list(hits)
        })
    }
}
