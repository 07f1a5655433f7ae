//! The ELF symbol table of a vmlinux (link-time addresses), searchable by name and by address.

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

/// Placeholder table.
#[derive(Debug, Default)]
pub struct SymbolTable {
    by_addr: Vec<Symbol>,
}

impl SymbolTable {
    /// Number of symbols.
    pub fn len(&self) -> usize {
        self.by_addr.len()
    }
    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.by_addr.is_empty()
    }
}
