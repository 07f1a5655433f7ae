//! `list`: walk a linked list as crash does: singly linked `next` chains, `list_head` lists
//! embedded in structures (`-h`) or headed by a standalone `list_head` (`-H`), forwards or
//! backwards (`-r`), printing each entry's address and optionally its members (`-s`).
//!
//! Must not import `script` or `repl`.

use super::struct_cmd::{address_arg, entry_format, offset_arg};
use super::{Command, Opts};
use crate::error::{Error, Result};
use crate::session::Session;
use crate::value::walk::{self, ListOpts, ListStart, Walk};
use std::io::Write;

/// The `list` command.
pub struct List;

const USAGE: &str = "\
list [[-o] OFFSET] [-e END] [-s struct[.member[,member]]] [-x|-d] [-r] [-h|-H] START
  Walks a linked list and prints the address of each entry.
  OFFSET      offset of the next pointer / list_head in each entry: a number or struct.member
  -h START    START is a structure with an embedded list_head at OFFSET (it is listed first)
  -H START    START is a standalone list_head heading the list (not listed)
  (neither)   START is the first structure; the pointer at OFFSET is the next structure
  -r          follow list_head.prev (backwards)
  -e END      stop at this entry address
  -s TYPE[.m,…] print each entry as TYPE (or only the given members)
  -x / -d     integers in hexadecimal / decimal
  -B NUM      stop after NUM entries (default 1000000)
  Loops and bad pointers end the walk with a warning after the entries read.";

/// Walks the list `args` describe (without printing), as `list` would.
pub fn walk_list(session: &Session, args: &[String]) -> Result<Walk<u64>> {
    Ok(parse(session, args)?.0)
}

fn parse(session: &Session, args: &[String]) -> Result<(Walk<u64>, Opts)> {
    let o = Opts::parse("list", args, "hHrxd", "oesSB", &[])?;
    let mut pos = o.positional.clone();
    let Some(start_word) = pos.pop() else {
        return Err(Error::Usage(format!(
            "list: missing start address\nusage: {USAGE}"
        )));
    };
    let offset = match (o.value("o"), pos.first().map(String::as_str)) {
        (Some(v), _) | (None, Some(v)) => offset_arg(session, v)?,
        (None, None) => 0,
    };
    let start_addr = address_arg(session, &start_word)?;
    let start = if o.has("H") {
        ListStart::Head(start_addr)
    } else if o.has("h") {
        ListStart::Embedded(start_addr)
    } else {
        ListStart::Chain(start_addr)
    };
    let opts = ListOpts {
        offset,
        reverse: o.has("r"),
        end: o.value("e").map(|e| address_arg(session, e)).transpose()?,
        bound: match o.value("B") {
            Some(b) => b
                .parse()
                .map_err(|_| Error::Usage(format!("list: invalid bound {b}")))?,
            None => walk::DEFAULT_BOUND,
        },
    };
    if opts.reverse && matches!(start, ListStart::Chain(_)) {
        return Err(Error::Usage(
            "list: -r needs -h or -H (a list_head list)".into(),
        ));
    }
    Ok((walk::list(session, start, &opts), o))
}

impl Command for List {
    fn name(&self) -> &'static str {
        "list"
    }
    fn summary(&self) -> &'static str {
        "linked list"
    }
    fn usage(&self) -> &'static str {
        USAGE
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        let (w, o) = parse(session, args)?;
        let (spec, fo) = entry_format(session, &o)?;
        for a in &w.items {
            writeln!(out, "{a:x}")?;
            if let Some(s) = &spec {
                if let Err(e) = s.print(session, *a, &fo, out) {
                    writeln!(out, "list: {e}")?;
                }
            }
        }
        for warn in &w.warnings {
            writeln!(out, "list: {warn}")?;
        }
        Ok(())
    }
}
