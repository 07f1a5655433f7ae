//! `whatis`: the C definition of a type (`whatis task_struct`, `whatis enum pid_type`,
//! `whatis pid_t`) or the declaration of a global variable (`whatis jiffies`), with `-o`
//! offsets, as crash prints them.
//!
//! Must not import `script` or `repl`.

use super::struct_cmd::lookup_type;
use super::{Command, Opts};
use crate::error::{Error, Result};
use crate::session::Session;
use crate::value::decl::{declare, definition};
use std::io::Write;

/// The `whatis` command.
pub struct Whatis;

const USAGE: &str = "\
whatis [-o] struct|union|typedef|enum|SYMBOL
  Prints the definition of a type, or the declaration of a global variable.
  -o   show member offsets in struct and union definitions";

/// What `whatis NAME` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WhatIs {
    /// A global variable: its C declaration (`struct task_struct init_task;`).
    Variable {
        /// The declaration.
        declaration: String,
        /// Its runtime address.
        address: u64,
    },
    /// A type: its C definition (with `SIZE: n` for sized types).
    Type {
        /// The definition text.
        definition: String,
    },
    /// An ELF symbol without debug info (a function).
    Symbol {
        /// The symbol.
        name: String,
        /// Its runtime address.
        address: u64,
    },
}

/// Looks up `name` as a global variable, then as a type, then as a bare symbol.
pub fn whatis(session: &Session, name: &str, offsets: bool) -> Result<WhatIs> {
    let types = session.types()?;
    if !name.contains(' ') {
        if let Ok((address, ty)) = session.global(name) {
            return Ok(WhatIs::Variable {
                declaration: format!("{};", declare(types, ty, name)),
                address,
            });
        }
    }
    if !name.contains(' ') {
        // Linker-script aliases (`jiffies`) take the type of the variable at their address.
        if let Ok(v) = crate::value::expr::eval(
            session,
            &crate::value::expr::Expr::Ident(name.to_string()),
            None,
        ) {
            if let Some(address) = v.address() {
                return Ok(WhatIs::Variable {
                    declaration: format!("{};", declare(types, v.ty(), name)),
                    address,
                });
            }
        }
    }
    if let Ok(st) = lookup_type(session, "struct", name) {
        return Ok(WhatIs::Type {
            definition: definition(st.types(session)?, st.id, offsets)?,
        });
    }
    if let Some(found) = module_whatis(session, name, offsets)? {
        return Ok(found);
    }
    if let Some(address) = session.symbol_addr(name) {
        return Ok(WhatIs::Symbol {
            name: name.to_string(),
            address,
        });
    }
    Err(Error::Usage(format!(
        "whatis: '{name}' is neither a type nor a symbol"
    )))
}

/// `whatis` of a module global variable (`_minor_idr`), its debuginfo loaded on first need.
fn module_whatis(session: &Session, name: &str, _offsets: bool) -> Result<Option<WhatIs>> {
    let Ok(table) = session.modules() else {
        return Ok(None);
    };
    if !name.contains(' ') && session.symbol_addr(name).is_none() {
        if let Some((address, d, ty)) = table.global(&session.release_cached(), name) {
            return Ok(Some(WhatIs::Variable {
                declaration: format!("{};", declare(&d.types, ty, name)),
                address,
            }));
        }
    }
    Ok(None)
}

impl Command for Whatis {
    fn name(&self) -> &'static str {
        "whatis"
    }
    fn summary(&self) -> &'static str {
        "search symbol table for data or type information"
    }
    fn usage(&self) -> &'static str {
        USAGE
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        let o = Opts::parse("whatis", args, "o", "", &[])?;
        if o.positional.is_empty() {
            return Err(Error::Usage(format!(
                "whatis: missing name\nusage: {USAGE}"
            )));
        }
        let name = o.positional.join(" ");
        match whatis(session, &name, o.has("o"))? {
            WhatIs::Variable { declaration, .. } => writeln!(out, "{declaration}")?,
            WhatIs::Type { definition } => out.write_all(definition.as_bytes())?,
            WhatIs::Symbol { name, address } => {
                writeln!(out, "{name}: text symbol at {address:x} (no debug type)")?
            }
        }
        Ok(())
    }
}
