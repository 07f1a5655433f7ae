//! The ELF symbol table of a vmlinux (link-time addresses), searchable by name and by address.

/// Hash of a symbol name: the multiply-rotate scheme of rustc's FxHash over 8-byte words. The
/// index is built at every start over 100k+ names, where SipHash's DoS resistance buys
/// nothing (the names come from the vmlinux being read).
fn name_hash(name: &str) -> u64 {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let add = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(SEED);
    let mut h = name.len() as u64;
    let mut chunks = name.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = add(h, u64::from_le_bytes(w));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = add(h, u64::from_le_bytes(w));
    }
    h
}

/// Open-addressing index from name to symbol: each slot holds the upper 32 bits of the
/// name's hash and the symbol's position + 1 (0: empty), so a probe rarely touches a name it
/// does not want and the names are never copied.
#[derive(Debug, Default)]
struct NameIndex {
    slots: Vec<u64>,
}

impl NameIndex {
    /// The slot of `name` (holding it, or the empty slot where it would go).
    fn find(&self, symbols: &[Symbol], name: &str, hash: u64) -> Option<usize> {
        let mask = self.slots.len().checked_sub(1)?;
        let tag = hash >> 32;
        let mut i = (hash as usize) & mask;
        loop {
            let slot = *self.slots.get(i)?;
            if slot == 0 {
                return Some(i);
            }
            if slot >> 32 == tag {
                let at = (slot & 0xffff_ffff) as usize - 1;
                if symbols.get(at).is_some_and(|s| s.name == name) {
                    return Some(i);
                }
            }
            i = (i + 1) & mask;
        }
    }
    /// The index of `symbols` (sorted by address) where, for a name used more than once, the
    /// global symbol, then the first, wins.
    fn build(symbols: &[Symbol]) -> Self {
        let mut index = Self {
            slots: vec![0; (symbols.len() * 2).next_power_of_two().max(16)],
        };
        for (i, s) in symbols.iter().enumerate() {
            let hash = name_hash(&s.name);
            let Some(at) = index.find(symbols, &s.name, hash) else {
                continue;
            };
            let slot = index.slots[at];
            let keep = slot != 0 && {
                let j = (slot & 0xffff_ffff) as usize - 1;
                symbols[j].global || !s.global
            };
            if !keep {
                index.slots[at] = (hash >> 32) << 32 | (i as u64 + 1);
            }
        }
        index
    }
    /// The position of the symbol called `name`.
    fn get(&self, symbols: &[Symbol], name: &str) -> Option<usize> {
        let at = self.find(symbols, name, name_hash(name))?;
        match self.slots.get(at)? {
            0 => None,
            slot => Some((slot & 0xffff_ffff) as usize - 1),
        }
    }
}

/// What a symbol names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    /// Code.
    Text,
    /// Initialized or read-only data.
    Data,
    /// Zero-initialized data.
    Bss,
    /// An absolute value, not an address in the image.
    Absolute,
    /// Anything else.
    Other,
}

impl SymbolKind {
    /// The one-letter type `nm` and `/proc/kallsyms` print (upper case for globals).
    pub fn letter(self, global: bool) -> char {
        let c = match self {
            SymbolKind::Text => 't',
            SymbolKind::Data => 'd',
            SymbolKind::Bss => 'b',
            SymbolKind::Absolute => 'a',
            SymbolKind::Other => '?',
        };
        if global {
            c.to_ascii_uppercase()
        } else {
            c
        }
    }
}

/// One symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// Name as in the ELF file.
    pub name: String,
    /// Link-time address.
    pub addr: u64,
    /// Size in bytes (0 when unknown).
    pub size: u64,
    /// What it names.
    pub kind: SymbolKind,
    /// Global (true) or local (false) binding.
    pub global: bool,
}

/// Symbols sorted by address, with a name index.
#[derive(Debug, Default)]
pub struct SymbolTable {
    by_addr: Vec<Symbol>,
    by_name: NameIndex,
}

impl SymbolTable {
    /// Builds the table; for duplicate names the global symbol, then the first, wins the name index.
    pub fn new(symbols: Vec<Symbol>) -> Self {
        // By address, globals first, then aliases of one address by name from the last (the
        // name gdb, and so crash, gives an address: `__x64_sys_sync` before `__ia32_sys_sync`),
        // then in ELF order. Small keys are sorted, not the symbols.
        let mut keys: Vec<(u64, bool, u32)> = symbols
            .iter()
            .enumerate()
            .map(|(i, s)| (s.addr, !s.global, i as u32))
            .collect();
        let name = |i: u32| symbols.get(i as usize).map_or("", |s| s.name.as_str());
        keys.sort_unstable_by(|a, b| {
            (a.0, a.1)
                .cmp(&(b.0, b.1))
                .then_with(|| name(b.2).cmp(name(a.2)))
                .then(a.2.cmp(&b.2))
        });
        let mut slots: Vec<Option<Symbol>> = symbols.into_iter().map(Some).collect();
        let symbols: Vec<Symbol> = keys
            .iter()
            .filter_map(|&(_, _, i)| slots.get_mut(i as usize).and_then(Option::take))
            .collect();
        let by_name = NameIndex::build(&symbols);
        Self {
            by_addr: symbols,
            by_name,
        }
    }
    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.by_addr.len()
    }
    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.by_addr.is_empty()
    }
    /// The symbol called `name`.
    pub fn lookup(&self, name: &str) -> Option<&Symbol> {
        self.by_name
            .get(&self.by_addr, name)
            .and_then(|i| self.by_addr.get(i))
    }
    /// The symbol containing (or closest below) link-time address `addr`, with the offset into it.
    /// Absolute symbols never match. An address past a sized symbol's end still resolves to it
    /// when no other symbol starts in between (as `crash` does for alignment padding), unless it
    /// lies more than `max_gap` bytes past it.
    pub fn resolve(&self, addr: u64, max_gap: u64) -> Option<(&Symbol, u64)> {
        let idx = self.by_addr.partition_point(|s| s.addr <= addr);
        let mut i = idx;
        while i > 0 {
            i -= 1;
            let s = self.by_addr.get(i)?;
            if s.kind == SymbolKind::Absolute || s.name.is_empty() {
                continue;
            }
            // Several symbols may share this address: take the first (globals sort first).
            let first = self.by_addr[..=i].partition_point(|x| x.addr < s.addr);
            let s = self
                .by_addr
                .get(first..=i)?
                .iter()
                .find(|x| x.kind != SymbolKind::Absolute && !x.name.is_empty())?;
            let off = addr - s.addr;
            if off > s.size.max(1).saturating_add(max_gap) {
                return None;
            }
            return Some((s, off));
        }
        None
    }
    /// All symbols, sorted by address.
    pub fn iter(&self) -> impl Iterator<Item = &Symbol> {
        self.by_addr.iter()
    }
    /// Symbols whose name starts with `prefix` (for completion), sorted by name.
    pub fn names_with_prefix(&self, prefix: &str) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .by_addr
            .iter()
            .map(|s| s.name.as_str())
            .filter(|n| n.starts_with(prefix))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(name: &str, addr: u64, size: u64, global: bool) -> Symbol {
        Symbol {
            name: name.into(),
            addr,
            size,
            kind: SymbolKind::Text,
            global,
        }
    }

    #[test]
    fn lookup_and_resolve() {
        let t = SymbolTable::new(vec![
            sym("b", 0x2000, 0x10, true),
            sym("a", 0x1000, 0x100, true),
            sym("a_local", 0x1000, 0x100, false),
            Symbol {
                kind: SymbolKind::Absolute,
                ..sym("abs", 0x1050, 0, true)
            },
        ]);
        assert_eq!(t.lookup("b").map(|s| s.addr), Some(0x2000));
        let (s, off) = t.resolve(0x1058, 0).expect("resolves");
        assert_eq!((s.name.as_str(), off), ("a", 0x58));
        assert!(t.resolve(0x1800, 0x100).is_none());
        assert!(t.resolve(0x10, 0x1000).is_none());
        assert_eq!(t.names_with_prefix("a"), vec!["a", "a_local", "abs"]);
    }

    #[test]
    fn name_index_finds_every_name_and_prefers_globals() {
        let mut v: Vec<Symbol> = (0..5000u64)
            .map(|i| sym(&format!("sym_{i}"), 0x1000 + i * 16, 16, i % 3 == 0))
            .collect();
        // A local and a later global of the same name: the global wins, wherever it sorts.
        v.push(sym("dup", 0x10, 4, false));
        v.push(sym("dup", 0x99_0000, 4, true));
        v.push(sym("twice_local", 0x20, 4, false));
        v.push(sym("twice_local", 0x30, 4, false));
        let t = SymbolTable::new(v);
        for i in 0..5000u64 {
            let name = format!("sym_{i}");
            assert_eq!(
                t.lookup(&name).map(|s| s.addr),
                Some(0x1000 + i * 16),
                "{name}"
            );
        }
        assert_eq!(
            t.lookup("dup").map(|s| (s.addr, s.global)),
            Some((0x99_0000, true))
        );
        assert_eq!(t.lookup("twice_local").map(|s| s.addr), Some(0x20));
        assert!(t.lookup("sym_5000").is_none());
        assert!(t.lookup("").is_none());
        assert!(SymbolTable::default().lookup("x").is_none());
    }

    #[test]
    fn aliases_of_one_address_resolve_to_the_last_name() {
        let t = SymbolTable::new(vec![
            sym("__ia32_sys_sync", 0x3000, 0x20, true),
            sym("__x64_sys_sync", 0x3000, 0x20, true),
            sym("zz_local", 0x3000, 0x20, false),
        ]);
        let (s, off) = t.resolve(0x3008, 0).expect("resolves");
        assert_eq!((s.name.as_str(), off), ("__x64_sys_sync", 8));
        assert_eq!(t.lookup("__ia32_sys_sync").map(|s| s.addr), Some(0x3000));
    }
}
