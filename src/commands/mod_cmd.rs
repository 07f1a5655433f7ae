//! `mod`: the loaded modules (crash's MODULE NAME BASE SIZE OBJECT FILE table), loading
//! their debuginfo (`-s`, `-S`) and their taint flags (`-t`).

use super::{Command, Data, Opts};
use crate::error::{Error, Result};
use crate::linux::module::{taint_string, ModuleInfo, ModuleTable};
use crate::session::Session;
use std::io::Write;
use std::path::Path;

/// The `mod` command.
pub struct Mod;

const USAGE: &str = "\
mod [-s MODULE [FILE]] [-S [DIR]] [-t]
  (no option)      the loaded modules: struct module address, name, text base, size, and the
                   debuginfo file loaded for it (module debuginfo also loads by itself when a
                   module symbol or type is first needed)
  -s MODULE [FILE] load MODULE's debuginfo, from FILE or the first one found
  -S [DIR]         load the debuginfo of every module (searching DIR first, when given)
  -t               the modules' taint flags
Debuginfo is searched in: dirs given with -S or --debuginfo, /usr/lib/debug/lib/modules/RELEASE,
/usr/lib/debug/usr/lib/modules/RELEASE, /lib/modules/RELEASE (files NAME.ko or NAME.ko.debug,
with - and _ the same).";

impl Command for Mod {
    fn name(&self) -> &'static str {
        "mod"
    }
    fn summary(&self) -> &'static str {
        "loaded modules, module debuginfo and taints"
    }
    fn usage(&self) -> &'static str {
        USAGE
    }
    fn reads_host_files(&self, args: &[String]) -> Option<String> {
        // The default debuginfo folders are read for any module lookup; a folder or file
        // named here may be anything on the machine.
        let o = Opts::parse("mod", args, "St", "s", &[]).ok()?;
        ((o.has("S") || o.value("s").is_some()) && !o.positional.is_empty())
            .then(|| format!("mod reading {}", o.positional.join(" ")))
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        let o = Opts::parse("mod", args, "St", "s", &[])?;
        let table = session.modules()?;
        let release = session.release_cached();
        for w in &table.warnings {
            writeln!(out, "mod: WARNING: {w}")?;
        }
        if o.has("t") {
            let tainted: Vec<&ModuleInfo> =
                table.modules.iter().filter(|m| m.taints != 0).collect();
            if tainted.is_empty() {
                writeln!(out, "no tainted modules")?;
                return Ok(());
            }
            writeln!(out, "{:<22} TAINTS", "NAME")?;
            for m in sorted(table) {
                if m.taints != 0 {
                    writeln!(out, "{:<22} {}", m.name, taint_string(m.taints))?;
                }
            }
            return Ok(());
        }
        if let Some(name) = o.value("s") {
            let file = o.positional.first().map(Path::new);
            table.load_debuginfo(&release, name, file)?;
            header(session, table, out)?;
            if let Some(m) = table.find(name) {
                row(table, m, out)?;
            }
            return Ok(());
        }
        if o.has("S") {
            if let Some(dir) = o.positional.first() {
                let p = Path::new(dir);
                if !p.is_dir() {
                    return Err(Error::Usage(format!("mod: {dir}: not a directory")));
                }
                table.add_debug_dir(p);
            }
            let (_, missing) = table.load_all(&release);
            header(session, table, out)?;
            for m in sorted(table) {
                row(table, m, out)?;
            }
            for name in missing {
                if let Some(why) = table.debuginfo_problem(&name) {
                    writeln!(out, "mod: {why}")?;
                }
            }
            return Ok(());
        }
        if let Some(w) = o.positional.first() {
            return Err(Error::Usage(format!("mod: unexpected argument '{w}'")));
        }
        header(session, table, out)?;
        for m in sorted(table) {
            row(table, m, out)?;
        }
        Ok(())
    }
    fn data(&self, session: &Session, _args: &[String]) -> Result<Data> {
        let table = session.modules()?;
        Ok(Data::List(
            sorted(table)
                .into_iter()
                .map(|m| {
                    Data::map([
                        ("module", Data::addr(m.addr)),
                        ("name", Data::Str(m.name.clone())),
                        ("base", Data::addr(m.base)),
                        ("size", Data::Int(m.size as i64)),
                        ("text_size", Data::Int(m.text_size as i64)),
                        ("state", Data::Str(m.state_name().into())),
                        ("refcount", Data::Int(m.refcount)),
                        ("taints", Data::Str(taint_string(m.taints))),
                        ("symbols", Data::Int(m.symbols.len() as i64)),
                        (
                            "object_file",
                            Data::opt_str(
                                table
                                    .loaded_debuginfo(&m.name)
                                    .map(|d| d.path.display().to_string())
                                    .as_deref(),
                            ),
                        ),
                    ])
                })
                .collect(),
        ))
    }
}

/// The modules in crash's order: by `struct module` address.
fn sorted(table: &ModuleTable) -> Vec<&ModuleInfo> {
    let mut v: Vec<&ModuleInfo> = table.modules.iter().collect();
    v.sort_by_key(|m| m.addr);
    v
}

/// Column widths of the module table: crash sizes NAME and SIZE to the longest of all modules.
#[derive(Clone, Copy)]
struct Widths {
    name: usize,
    size: usize,
}

impl Widths {
    fn of(table: &ModuleTable) -> Self {
        let name = table
            .modules
            .iter()
            .map(|m| m.name.len())
            .max()
            .unwrap_or(0);
        let size = table
            .modules
            .iter()
            .map(|m| m.size.to_string().len())
            .max()
            .unwrap_or(0);
        Widths { name, size }
    }
}

/// `text` centred in `width` columns, the odd space going right (crash's CENTER|LJUST).
fn center(text: &str, width: usize) -> String {
    let extra = width.saturating_sub(text.len());
    let left = extra / 2;
    format!("{}{text}{}", " ".repeat(left), " ".repeat(extra - left))
}

fn header(s: &Session, table: &ModuleTable, out: &mut dyn Write) -> Result<()> {
    let w = Widths::of(table);
    // Since 6.4 a module's memory is split by kind (`struct module_memory mem[]`) and crash
    // heads the column TEXT_BASE; before, BASE (the core layout's base).
    let base = if s.offset_of("struct module", "mem").is_ok() {
        "TEXT_BASE"
    } else {
        "BASE"
    };
    writeln!(
        out,
        "{}  {:<nw$}  {}  {:>sw$}  OBJECT FILE",
        center("MODULE", 16),
        "NAME",
        center(base, 16),
        "SIZE",
        nw = w.name,
        sw = w.size
    )?;
    Ok(())
}

fn row(table: &ModuleTable, m: &ModuleInfo, out: &mut dyn Write) -> Result<()> {
    let w = Widths::of(table);
    let object = match table.loaded_debuginfo(&m.name) {
        Some(d) => d.path.display().to_string(),
        None => "(not loaded)  [CONFIG_KALLSYMS]".to_string(),
    };
    writeln!(
        out,
        "{:016x}  {:<nw$}  {:016x}  {:>sw$}  {object}",
        m.addr,
        m.name,
        m.base,
        m.size,
        nw = w.name,
        sw = w.size
    )?;
    Ok(())
}
