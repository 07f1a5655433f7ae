//! Source lines: code address → file, line and column from `.debug_line`, with the chain of
//! inlined functions (`DW_TAG_inlined_subroutine`) that cover the address.
//!
//! Nothing is parsed when a table is made besides locating the sections. The first lookup
//! reads `.debug_aranges` (address range → compilation unit); each unit's line program and
//! function tree are parsed on first need and cached, so a `bt -l` reads only the units its
//! frames fall in. A module's `.ko` is relocated to the module's runtime section addresses,
//! so its lookups take runtime addresses as they are.
//!
//! gimli and object types stay inside this file. Must not import `dump`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use gimli::{constants as dw, AttributeValue, EndianSlice, LittleEndian, SectionId};
use object::{Object, ObjectSection, ObjectSymbol};

use super::reader::{load_section, SectionBytes};
use super::DebugInfoError;

type R<'a> = EndianSlice<'a, LittleEndian>;

/// Where an address comes from in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLoc {
    /// The file's full path (the unit's `DW_AT_comp_dir` joined with a relative name).
    pub file: String,
    /// Line number (1-based; 0 when the compiler gave none).
    pub line: u64,
    /// Column (0 = unknown or the start of the line).
    pub column: u64,
}

/// One function level at an address: the innermost inlined function first, the function
/// that holds the code (the out-of-line `DW_TAG_subprogram`) last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineFrame {
    /// The function's name (`DW_AT_name`, through `DW_AT_abstract_origin` for inlines);
    /// `None` when the unit has no function DIE there.
    pub function: Option<String>,
    /// Whether this level is an inlined copy (all but the last of the chain).
    pub inlined: bool,
    /// The source position in this function: for the innermost level the line-table row of
    /// the address, for the outer levels the call site of the next inner inline.
    pub location: Option<SourceLoc>,
}

/// One row run of a line program: addresses `start..end` and their rows in order.
#[derive(Debug)]
struct Sequence {
    start: u64,
    end: u64,
    rows: Vec<Row>,
}

#[derive(Debug, Clone, Copy)]
struct Row {
    addr: u64,
    file: u32,
    line: u32,
    column: u32,
}

/// A function DIE's address range (one entry per range of a `DW_AT_ranges` list).
#[derive(Debug)]
struct FuncRange {
    lo: u64,
    hi: u64,
    /// Nesting depth in the DIE tree (deeper = more inner).
    depth: isize,
    name: Option<Arc<str>>,
    inlined: bool,
    call_file: u32,
    call_line: u32,
    call_column: u32,
}

/// What one compilation unit contributes: its line sequences, file names and functions.
#[derive(Debug, Default)]
struct UnitLines {
    sequences: Vec<Sequence>,
    files: Vec<String>,
    funcs: Vec<FuncRange>,
}

/// The DWARF sections line lookups read.
const LINE_SECTIONS: [SectionId; 10] = [
    SectionId::DebugInfo,
    SectionId::DebugAbbrev,
    SectionId::DebugAranges,
    SectionId::DebugLine,
    SectionId::DebugStr,
    SectionId::DebugLineStr,
    SectionId::DebugStrOffsets,
    SectionId::DebugRanges,
    SectionId::DebugRngLists,
    SectionId::DebugAddr,
];

/// Address → source line lookups for one ELF file (vmlinux or a module's `.ko`).
pub struct LineTable {
    elf: Arc<dyn AsRef<[u8]> + Send + Sync>,
    sections: Vec<(SectionId, SectionBytes)>,
    /// `(lo, hi, unit offset)` sorted by `lo`, read on first lookup.
    units: OnceLock<Vec<(u64, u64, usize)>>,
    cache: Mutex<HashMap<usize, Arc<UnitLines>>>,
}

impl std::fmt::Debug for LineTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineTable")
            .field(
                "units_cached",
                &self.cache.lock().map(|c| c.len()).unwrap_or(0),
            )
            .finish()
    }
}

impl LineTable {
    /// A table over a linked file (vmlinux, or any executable): addresses are link-time.
    pub fn new(elf: Arc<dyn AsRef<[u8]> + Send + Sync>) -> Result<Self, DebugInfoError> {
        Self::with_placement(elf, &|_| None)
    }

    /// A table over a relocatable `.ko` whose sections were loaded at the addresses
    /// `section_addr(name)` gives (`None` for sections not loaded: relocations against them
    /// keep their link values). Lookups then take runtime addresses.
    pub fn with_placement(
        elf: Arc<dyn AsRef<[u8]> + Send + Sync>,
        section_addr: &dyn Fn(&str) -> Option<u64>,
    ) -> Result<Self, DebugInfoError> {
        let data = (*elf).as_ref();
        let file = object::File::parse(data).map_err(|e| DebugInfoError::BadElf {
            path: "<ELF image>".into(),
            reason: e.to_string(),
        })?;
        let placed = |s: &object::Symbol<'_, '_>| -> u64 {
            let base = match s.section() {
                object::SymbolSection::Section(i) => file
                    .section_by_index(i)
                    .ok()
                    .and_then(|sec| sec.name().ok().and_then(section_addr)),
                _ => None,
            };
            base.unwrap_or(0).wrapping_add(s.address())
        };
        let mut sections = Vec::new();
        for id in LINE_SECTIONS {
            let (bytes, _) = load_section(&file, data, id.name(), &placed)?;
            sections.push((id, bytes));
        }
        Ok(Self {
            elf,
            sections,
            units: OnceLock::new(),
            cache: Mutex::new(HashMap::new()),
        })
    }

    fn dwarf(&self) -> gimli::Dwarf<R<'_>> {
        let data = (*self.elf).as_ref();
        let get = |id: SectionId| -> R<'_> {
            let bytes = self
                .sections
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, b)| b.get(data))
                .unwrap_or(&[]);
            EndianSlice::new(bytes, LittleEndian)
        };
        match gimli::Dwarf::load(|id| Ok::<_, std::convert::Infallible>(get(id))) {
            Ok(d) => d,
            Err(never) => match never {},
        }
    }

    /// The units' address ranges, from `.debug_aranges` when present, else from each unit's
    /// own `DW_AT_low_pc`/`DW_AT_ranges`.
    fn units(&self) -> &[(u64, u64, usize)] {
        self.units.get_or_init(|| {
            let dw = self.dwarf();
            let mut v = Vec::new();
            let mut headers = dw.debug_aranges.headers();
            while let Ok(Some(h)) = headers.next() {
                let off = h.debug_info_offset().0;
                let mut entries = h.entries();
                while let Ok(Some(e)) = entries.next() {
                    let r = e.range();
                    if r.end > r.begin && r.begin != 0 {
                        v.push((r.begin, r.end, off));
                    }
                }
            }
            if v.is_empty() {
                let mut it = dw.units();
                while let Ok(Some(h)) = it.next() {
                    let Some(off) = h.debug_info_offset() else {
                        continue;
                    };
                    let Ok(unit) = dw.unit(h) else { continue };
                    let Ok(mut ranges) = dw.unit_ranges(&unit) else {
                        continue;
                    };
                    while let Ok(Some(r)) = ranges.next() {
                        if r.end > r.begin && r.begin != 0 {
                            v.push((r.begin, r.end, off.0));
                        }
                    }
                }
            }
            v.sort_unstable();
            v
        })
    }

    /// The unit whose ranges hold `addr`.
    fn unit_for(&self, addr: u64) -> Option<usize> {
        let units = self.units();
        let i = units.partition_point(|u| u.0 <= addr);
        units[..i]
            .iter()
            .rev()
            .take(64)
            .find(|u| addr < u.1)
            .map(|u| u.2)
    }

    fn unit_lines(&self, off: usize) -> Result<Arc<UnitLines>, DebugInfoError> {
        if let Some(u) = self.cache.lock().ok().and_then(|c| c.get(&off).cloned()) {
            return Ok(u);
        }
        let u = Arc::new(parse_unit(&self.dwarf(), off)?);
        if let Ok(mut c) = self.cache.lock() {
            c.insert(off, Arc::clone(&u));
        }
        Ok(u)
    }

    /// The source position of `addr` and the inline chain there, innermost first. Empty when
    /// no unit covers the address. For a return address, pass `pc - 1` (the call).
    pub fn lookup(&self, addr: u64) -> Result<Vec<LineFrame>, DebugInfoError> {
        let Some(off) = self.unit_for(addr) else {
            return Ok(Vec::new());
        };
        let u = self.unit_lines(off)?;
        let file = |i: u32| u.files.get(i as usize).cloned().unwrap_or_default();
        let row = find_row(&u.sequences, addr).map(|r| SourceLoc {
            file: file(r.file),
            line: u64::from(r.line),
            column: u64::from(r.column),
        });
        let mut chain: Vec<&FuncRange> = u
            .funcs
            .iter()
            .filter(|f| f.lo <= addr && addr < f.hi)
            .collect();
        // Innermost first; at one depth keep one.
        chain.sort_by_key(|f| std::cmp::Reverse(f.depth));
        chain.dedup_by_key(|f| f.depth);
        // Only the levels from the innermost up to the first out-of-line function.
        if let Some(last) = chain.iter().position(|f| !f.inlined) {
            chain.truncate(last + 1);
        }
        if chain.is_empty() {
            return Ok(vec![LineFrame {
                function: None,
                inlined: false,
                location: row,
            }]);
        }
        let mut out = Vec::with_capacity(chain.len());
        let mut loc = row;
        for f in chain {
            out.push(LineFrame {
                function: f.name.as_deref().map(str::to_string),
                inlined: f.inlined,
                location: loc.take(),
            });
            if f.inlined {
                loc = Some(SourceLoc {
                    file: file(f.call_file),
                    line: u64::from(f.call_line),
                    column: u64::from(f.call_column),
                });
            }
        }
        Ok(out)
    }

    /// The innermost source position of `addr` (no inline chain).
    pub fn location(&self, addr: u64) -> Result<Option<SourceLoc>, DebugInfoError> {
        Ok(self.lookup(addr)?.into_iter().find_map(|f| f.location))
    }

    /// How many units have been parsed (for tests of laziness).
    pub fn parsed_units(&self) -> usize {
        self.cache.lock().map(|c| c.len()).unwrap_or(0)
    }
}

fn find_row(seqs: &[Sequence], addr: u64) -> Option<Row> {
    let i = seqs.partition_point(|s| s.start <= addr);
    let s = seqs[..i].iter().rev().find(|s| addr < s.end)?;
    let j = s.rows.partition_point(|r| r.addr <= addr);
    j.checked_sub(1).and_then(|j| s.rows.get(j)).copied()
}

fn derr(offset: usize, e: gimli::Error) -> DebugInfoError {
    DebugInfoError::Dwarf {
        offset: offset as u64,
        reason: e.to_string(),
    }
}

fn small(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Reads one unit's line program and function tree.
fn parse_unit(dw: &gimli::Dwarf<R<'_>>, off: usize) -> Result<UnitLines, DebugInfoError> {
    let header = dw
        .debug_info
        .header_from_offset(gimli::DebugInfoOffset(off))
        .map_err(|e| derr(off, e))?;
    let unit = dw.unit(header).map_err(|e| derr(off, e))?;
    let mut out = UnitLines::default();
    let comp_dir = unit
        .comp_dir
        .map(|d| String::from_utf8_lossy(d.slice()).into_owned())
        .unwrap_or_default();
    if let Some(program) = unit.line_program.clone() {
        let header = program.header().clone();
        let attr = |v: AttributeValue<R<'_>>| -> String {
            dw.attr_string(&unit, v)
                .map(|s| String::from_utf8_lossy(s.slice()).into_owned())
                .unwrap_or_default()
        };
        // DWARF 5 numbers files from 0 (the primary file); earlier versions from 1.
        let first = if header.version() >= 5 { 0 } else { 1 };
        let count = header.file_names().len() as u64;
        if first == 1 {
            out.files.push(String::new());
        }
        for i in first..first + count {
            let Some(fe) = header.file(i) else {
                out.files.push(String::new());
                continue;
            };
            let name = attr(fe.path_name());
            let dir = fe.directory(&header).map(attr).unwrap_or_default();
            out.files.push(join_path(&comp_dir, &dir, &name));
        }
        let mut rows = program.rows();
        let mut cur: Vec<Row> = Vec::new();
        while let Some((_, row)) = rows.next_row().map_err(|e| derr(off, e))? {
            let addr = row.address();
            if row.end_sequence() {
                if let Some(first) = cur.first() {
                    if first.addr != 0 && addr > first.addr {
                        out.sequences.push(Sequence {
                            start: first.addr,
                            end: addr,
                            rows: std::mem::take(&mut cur),
                        });
                    }
                }
                cur.clear();
                continue;
            }
            let column = match row.column() {
                gimli::ColumnType::LeftEdge => 0,
                gimli::ColumnType::Column(c) => small(c.get()),
            };
            let r = Row {
                addr,
                file: small(row.file_index()),
                line: row.line().map(|l| small(l.get())).unwrap_or(0),
                column,
            };
            // Several rows at one address: the last one wins (as addr2line reads them).
            match cur.last_mut() {
                Some(last) if last.addr == addr => *last = r,
                _ => cur.push(r),
            }
        }
        out.sequences.sort_by_key(|s| s.start);
    }
    // The function tree: subprograms and their inlined subroutines.
    let mut names: HashMap<usize, Option<Arc<str>>> = HashMap::new();
    let mut entries = unit.entries();
    while let Some(e) = entries.next_dfs().map_err(|e| derr(off, e))? {
        let tag = e.tag();
        if tag != dw::DW_TAG_subprogram && tag != dw::DW_TAG_inlined_subroutine {
            continue;
        }
        let Ok(mut ranges) = dw.die_ranges(&unit, e) else {
            continue;
        };
        let mut rs = Vec::new();
        while let Ok(Some(r)) = ranges.next() {
            if r.end > r.begin && r.begin != 0 {
                rs.push((r.begin, r.end));
            }
        }
        if rs.is_empty() {
            continue;
        }
        let name = die_name(dw, &unit, e, &mut names, 0);
        let num = |at| match e.attr_value(at) {
            Some(AttributeValue::FileIndex(f)) => small(f),
            Some(v) => small(v.udata_value().unwrap_or(0)),
            None => 0,
        };
        let inlined = tag == dw::DW_TAG_inlined_subroutine;
        let (call_file, call_line, call_column) = (
            num(dw::DW_AT_call_file),
            num(dw::DW_AT_call_line),
            num(dw::DW_AT_call_column),
        );
        for (lo, hi) in rs {
            out.funcs.push(FuncRange {
                lo,
                hi,
                depth: e.depth(),
                name: name.clone(),
                inlined,
                call_file,
                call_line,
                call_column,
            });
        }
    }
    Ok(out)
}

/// A function DIE's name, following `DW_AT_abstract_origin` and `DW_AT_specification`
/// within the unit (memoized by unit offset).
fn die_name(
    dw: &gimli::Dwarf<R<'_>>,
    unit: &gimli::Unit<R<'_>>,
    e: &gimli::DebuggingInformationEntry<R<'_>>,
    memo: &mut HashMap<usize, Option<Arc<str>>>,
    hops: u8,
) -> Option<Arc<str>> {
    if let Some(v) = e.attr_value(dw::DW_AT_name) {
        return dw
            .attr_string(unit, v)
            .ok()
            .map(|s| Arc::from(String::from_utf8_lossy(s.slice()).as_ref()));
    }
    if hops > 4 {
        return None;
    }
    for at in [dw::DW_AT_abstract_origin, dw::DW_AT_specification] {
        let Some(AttributeValue::UnitRef(o)) = e.attr_value(at) else {
            continue;
        };
        if let Some(n) = memo.get(&o.0) {
            return n.clone();
        }
        let n = unit
            .entry(o)
            .ok()
            .and_then(|t| die_name(dw, unit, &t, memo, hops + 1));
        memo.insert(o.0, n.clone());
        return n;
    }
    None
}

/// `comp_dir/dir/name` with the relative parts joined as a compiler sees them.
fn join_path(comp_dir: &str, dir: &str, name: &str) -> String {
    if name.starts_with('/') {
        return name.to_string();
    }
    let dir = if dir.starts_with('/') || comp_dir.is_empty() {
        dir.to_string()
    } else if dir.is_empty() || dir == "." {
        comp_dir.to_string()
    } else {
        format!(
            "{}/{}",
            comp_dir.trim_end_matches('/'),
            dir.trim_start_matches("./")
        )
    };
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{}/{}", dir.trim_end_matches('/'), name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_join_like_a_compiler() {
        assert_eq!(join_path("/b", "", "a.c"), "/b/a.c");
        assert_eq!(join_path("/b", ".", "a.c"), "/b/a.c");
        assert_eq!(
            join_path("/b", "kernel/sched", "core.c"),
            "/b/kernel/sched/core.c"
        );
        assert_eq!(join_path("/b", "/usr/include", "x.h"), "/usr/include/x.h");
        assert_eq!(join_path("/b", "x", "/abs.h"), "/abs.h");
        assert_eq!(join_path("", "", "a.c"), "a.c");
    }

    #[test]
    fn rows_are_found_inside_sequences_only() {
        let seqs = vec![Sequence {
            start: 0x100,
            end: 0x120,
            rows: vec![
                Row {
                    addr: 0x100,
                    file: 1,
                    line: 10,
                    column: 0,
                },
                Row {
                    addr: 0x110,
                    file: 1,
                    line: 12,
                    column: 3,
                },
            ],
        }];
        assert_eq!(find_row(&seqs, 0x10f).map(|r| r.line), Some(10));
        assert_eq!(find_row(&seqs, 0x110).map(|r| r.line), Some(12));
        assert!(find_row(&seqs, 0x120).is_none());
        assert!(find_row(&seqs, 0xff).is_none());
    }
}

#[cfg(test)]
#[path = "lines_tests.rs"]
mod gcc_tests;
