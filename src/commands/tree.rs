//! `tree`: walk an rbtree, xarray/radix tree (IDRs too) or maple tree and print its entries as
//! crash does, optionally as structures (`-s`).
//!
//! Must not import `script` or `repl`.

use super::struct_cmd::{address_arg, entry_format, offset_arg};
use super::{Command, Opts};
use crate::error::{Error, Result};
use crate::session::Session;
use crate::value::walk::{self, Walk};
use std::io::Write;

/// The `tree` command.
pub struct Tree;

const USAGE: &str = "\
tree -t [rbtree|radix|xarray|maple] [-r OFFSET] [-o OFFSET] [-s struct[.member[,member]]]
     [-x|-d] [-N] [-I] [-p] START
  rbtree:  START is a struct rb_root (or, with -N, an rb_node); each node is printed as the
           address of the containing structure: node - OFFSET (-o, a number or
           struct.member), in crash's order (node, left subtree, right subtree);
           -I: in order, smallest first
  radix, xarray: START is a struct xarray / radix_tree_root; entries are the stored pointers
  maple:   START is a struct maple_tree; entries are the stored pointers
  -r OFFSET  START is a structure containing the root at OFFSET
  -p         also print the index (xarray, radix, maple: first-last range)
  -s TYPE[.m,…] print each entry as TYPE (or only the given members)
  -x / -d    integers in hexadecimal / decimal";

/// One tree entry: index (range) where the tree has one, and the entry's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeEntry {
    /// First index (xarray/maple), or the position in order (rbtree).
    pub first: u64,
    /// Last index (maple ranges; equal to `first` otherwise).
    pub last: u64,
    /// The entry: structure address (rbtree, after -o) or stored pointer.
    pub entry: u64,
}

/// Walks the tree `args` describe (without printing), as `tree` would.
pub fn walk_tree(session: &Session, args: &[String]) -> Result<Walk<TreeEntry>> {
    Ok(parse(session, args)?.0)
}

fn parse(session: &Session, args: &[String]) -> Result<(Walk<TreeEntry>, Opts)> {
    let o = Opts::parse("tree", args, "NpxdlI", "trosS", &[])?;
    let Some(start_word) = o.positional.last() else {
        return Err(Error::Usage(format!("tree: missing start\nusage: {USAGE}")));
    };
    let mut start = address_arg(session, start_word)?;
    if let Some(r) = o.value("r") {
        start = start.wrapping_add(offset_arg(session, r)?);
    }
    let off = o
        .value("o")
        .map(|v| offset_arg(session, v))
        .transpose()?
        .unwrap_or(0);
    let bound = walk::DEFAULT_BOUND;
    let w = match o.value("t").unwrap_or("rbtree") {
        "rbtree" | "rb" => {
            let order = if o.has("I") {
                walk::RbOrder::InOrder
            } else {
                walk::RbOrder::PreOrder
            };
            let w = walk::rbtree_ordered(session, start, o.has("N"), order, bound)?;
            Walk {
                items: w
                    .items
                    .iter()
                    .enumerate()
                    .map(|(i, n)| TreeEntry {
                        first: i as u64,
                        last: i as u64,
                        entry: n.wrapping_sub(off),
                    })
                    .collect(),
                warnings: w.warnings,
            }
        }
        "radix" | "xarray" | "ra" | "x" => {
            let w = walk::xarray(session, start, bound)?;
            Walk {
                items: w
                    .items
                    .iter()
                    .map(|(i, e)| TreeEntry {
                        first: *i,
                        last: *i,
                        entry: e.wrapping_sub(off),
                    })
                    .collect(),
                warnings: w.warnings,
            }
        }
        "maple" | "m" => {
            let w = walk::maple(session, start, bound)?;
            Walk {
                items: w
                    .items
                    .iter()
                    .map(|e| TreeEntry {
                        first: e.first,
                        last: e.last,
                        entry: e.entry.wrapping_sub(off),
                    })
                    .collect(),
                warnings: w.warnings,
            }
        }
        t => {
            return Err(Error::Usage(format!(
                "tree: invalid tree type: {t}\nusage: {USAGE}"
            )))
        }
    };
    Ok((w, o))
}

impl Command for Tree {
    fn name(&self) -> &'static str {
        "tree"
    }
    fn summary(&self) -> &'static str {
        "display radix tree, xarray, red-black tree or maple tree"
    }
    fn usage(&self) -> &'static str {
        USAGE
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        let (w, o) = parse(session, args)?;
        let (spec, fo) = entry_format(session, &o)?;
        let ranges = o.value("t") == Some("maple");
        for e in &w.items {
            match (o.has("p"), ranges) {
                (true, true) => writeln!(out, "{:x}  [{:#x}-{:#x}]", e.entry, e.first, e.last)?,
                (true, false) => writeln!(out, "{:x}  [{}]", e.entry, e.first)?,
                _ => writeln!(out, "{:x}", e.entry)?,
            }
            if let Some(s) = &spec {
                if let Err(err) = s.print(session, e.entry, &fo, out) {
                    writeln!(out, "tree: {err}")?;
                }
            }
        }
        for warn in &w.warnings {
            writeln!(out, "tree: {warn}")?;
        }
        Ok(())
    }
}
