//! `help`: list the commands, or show one command's usage.

use super::{Command, Registry};
use crate::error::{Error, Result};
use crate::session::Session;
use std::io::Write;

/// The `help` command.
pub struct Help;

impl Command for Help {
    fn name(&self) -> &'static str {
        "help"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["h"]
    }
    fn summary(&self) -> &'static str {
        "list commands or show a command's usage"
    }
    fn usage(&self) -> &'static str {
        "help [COMMAND]"
    }
    fn run(&self, _session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        run_help(&Registry::new(), args, out)
    }
}

/// Prints the command list, or the usage of each command named in `args`.
pub fn run_help(reg: &Registry, args: &[String], out: &mut dyn Write) -> Result<()> {
    if args.is_empty() {
        for c in reg.all() {
            writeln!(out, "{:<10} {}", c.name(), c.summary())?;
        }
        return Ok(());
    }
    for a in args {
        let c = reg
            .find(a)
            .ok_or_else(|| Error::Usage(format!("help: {a}: command not found")))?;
        writeln!(out, "{} - {}\n\n{}", c.name(), c.summary(), c.usage())?;
    }
    Ok(())
}
