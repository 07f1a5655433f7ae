//! `rd`: read memory and print it as hex words with ASCII, like crash's `rd`.

use super::{parse_address, Command, Opts};
use crate::addr::{Kva, Pa};
use crate::error::{Error, Result};
use crate::memory::{MemoryReader, PhysReader};
use crate::session::Session;
use std::io::Write;

/// The `rd` command.
pub struct Rd;

const USAGE: &str = "\
rd [-8|-16|-32|-64] [-p] [-s] [-x] [-d] [-a] ADDRESS|SYMBOL[+OFF] [COUNT]
  -8 -16 -32 -64  unit size in bits (default 64)
  -p              ADDRESS is physical
  -s              show 64-bit values that point into the kernel image as symbol+offset
  -x              no ASCII column
  -d              print signed decimal instead of hex
  -a              print the memory as a NUL-terminated ASCII string
  COUNT           number of units (default 1; with -a, the maximum string length)";

impl Command for Rd {
    fn name(&self) -> &'static str {
        "rd"
    }
    fn summary(&self) -> &'static str {
        "read memory"
    }
    fn usage(&self) -> &'static str {
        USAGE
    }
    fn run(&self, session: &Session, args: &[String], out: &mut dyn Write) -> Result<()> {
        let o = Opts::parse("rd", args, "psxdau", "", &["8", "16", "32", "64"])?;
        let Some(addr_word) = o.positional.first() else {
            return Err(Error::Usage(format!("rd: missing address\nusage: {USAGE}")));
        };
        let addr = parse_address(session, addr_word)?;
        let count = match o.positional.get(1) {
            Some(c) => super::args::parse_number(c)
                .ok_or_else(|| Error::Usage(format!("rd: invalid count {c}")))?,
            None => 1,
        };
        let physical = o.has("p");
        let read = |at: u64, buf: &mut [u8]| {
            if physical {
                session.read_phys(Pa(at), buf)
            } else {
                session.read_virt(Kva(at), buf)
            }
        };
        if o.has("a") {
            let max = if o.positional.len() > 1 { count } else { 4096 } as usize;
            let mut bytes = Vec::new();
            let mut at = addr;
            while bytes.len() < max {
                let mut b = [0u8; 1];
                read(at, &mut b).map_err(|e| Error::Usage(format!("rd: {e}")))?;
                if b[0] == 0 {
                    break;
                }
                bytes.push(b[0]);
                at = at.wrapping_add(1);
            }
            writeln!(out, "{addr:016x}:  {}", String::from_utf8_lossy(&bytes))?;
            return Ok(());
        }
        let unit: usize = if o.has("8") {
            1
        } else if o.has("16") {
            2
        } else if o.has("32") {
            4
        } else {
            8
        };
        let symbolic = o.has("s") && unit == 8;
        let per_line = if symbolic { 2 } else { 16 / unit };
        let ascii = !o.has("x") && !symbolic && !o.has("d");
        let total = (count as usize)
            .checked_mul(unit)
            .filter(|&t| t <= 64 << 20)
            .ok_or_else(|| Error::Usage("rd: count too large".into()))?;
        let mut data = vec![0u8; total];
        // Read page by page so a failure names the first unreadable address; print what was
        // read before it either way.
        let mut done = 0;
        let mut failure = None;
        while done < total {
            let at = addr.wrapping_add(done as u64);
            let n = ((4096 - (at & 4095)) as usize).min(total - done);
            if let Err(e) = read(at, &mut data[done..done + n]) {
                let kind = if physical { "PHYSADDR" } else { "KVADDR" };
                failure = Some(format!("rd: read error: {kind} {at:x}: {e}"));
                data.truncate(done);
                break;
            }
            done += n;
        }
        let layout = Layout {
            unit,
            per_line,
            symbolic,
            ascii,
            decimal: o.has("d"),
        };
        print_lines(session, out, addr, &data, &layout)?;
        match failure {
            Some(msg) => Err(Error::Usage(msg)),
            None => Ok(()),
        }
    }
}

/// How `rd` lays out its lines.
struct Layout {
    unit: usize,
    per_line: usize,
    symbolic: bool,
    ascii: bool,
    decimal: bool,
}

fn print_lines(
    session: &Session,
    out: &mut dyn Write,
    addr: u64,
    data: &[u8],
    layout: &Layout,
) -> Result<()> {
    let &Layout {
        unit,
        per_line,
        symbolic,
        ascii,
        decimal,
    } = layout;
    for (li, line) in data.chunks(unit * per_line).enumerate() {
        let at = addr.wrapping_add((li * unit * per_line) as u64);
        write!(out, "{at:016x}:  ")?;
        let mut cells = Vec::new();
        for word in line.chunks(unit) {
            let mut b = [0u8; 8];
            b[..word.len()].copy_from_slice(word);
            let v = u64::from_le_bytes(b);
            let cell = if decimal {
                let signed = match unit {
                    1 => v as u8 as i8 as i64,
                    2 => v as u16 as i16 as i64,
                    4 => v as u32 as i32 as i64,
                    _ => v as i64,
                };
                format!("{signed:>w$}", w = unit * 2 + 1)
            } else if symbolic {
                match session.symbolize(v) {
                    Some(s) => format!("{s:<16}"),
                    None => format!("{v:016x}"),
                }
            } else {
                format!("{v:0w$x}", w = unit * 2)
            };
            cells.push(cell);
        }
        write!(out, "{}", cells.join(" "))?;
        if ascii {
            let pad = (per_line - line.len() / unit) * (unit * 2 + 1);
            let text: String = line
                .iter()
                .map(|&c| {
                    if (0x20..0x7f).contains(&c) {
                        c as char
                    } else {
                        '.'
                    }
                })
                .collect();
            write!(out, "{:pad$}   {text}", "")?;
        }
        writeln!(out)?;
    }
    Ok(())
}
