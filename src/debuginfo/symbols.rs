//! The ELF symbol table of a vmlinux (link-time addresses), searchable by name and by address.

use std::collections::HashMap;

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
    by_name: HashMap<String, usize>,
}

impl SymbolTable {
    /// Builds the table; for duplicate names the global symbol, then the first, wins the name index.
    pub fn new(mut symbols: Vec<Symbol>) -> Self {
        symbols.sort_by(|a, b| a.addr.cmp(&b.addr).then_with(|| b.global.cmp(&a.global)));
        let mut by_name: HashMap<String, usize> = HashMap::with_capacity(symbols.len());
        for (i, s) in symbols.iter().enumerate() {
            match by_name.get(&s.name) {
                Some(&j) if symbols[j].global || !s.global => {}
                _ => {
                    by_name.insert(s.name.clone(), i);
                }
            }
        }
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
        self.by_name.get(name).and_then(|&i| self.by_addr.get(i))
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
            .by_name
            .keys()
            .filter(|n| n.starts_with(prefix))
            .map(String::as_str)
            .collect();
        v.sort_unstable();
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
}
