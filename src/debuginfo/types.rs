//! The owned type model: `TypeId`, `Type`, `Member`, `MemberInfo`, `Global`, and the C spelling of
//! type names. Everything here is plain data the layers above may hold and clone; no gimli or object
//! type appears in it.
//!
//! Must not import `dump` (nor anything right of `debuginfo` in the layer chain).

/// Identifies one type within one [`TypeIndex`](super::TypeIndex).
///
/// The value is the type's DIE offset in `.debug_info` for types described by DWARF, or a
/// synthetic number (top bit set) for types the index composed itself (`"struct list_head *"`
/// looked up by name, `void`). It is stable for the life of the index and across index rebuilds
/// from the same file, but means nothing in another index.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(pub(crate) u64);

impl TypeId {
    /// The `void` type (no DWARF DIE describes it).
    pub const VOID: TypeId = TypeId(u64::MAX);

    /// Bit that marks a synthetic (index-made) type.
    pub(crate) const SYNTHETIC: u64 = 1 << 63;

    /// The raw number (DIE offset or synthetic number); for diagnostics and caches.
    pub fn raw(self) -> u64 {
        self.0
    }

    /// Whether this type was composed by the index rather than read from a DIE.
    pub fn is_synthetic(self) -> bool {
        self.0 & Self::SYNTHETIC != 0
    }

    /// The `.debug_info` offset of the DIE, if this type has one.
    pub fn die_offset(self) -> Option<u64> {
        if self.is_synthetic() {
            None
        } else {
            Some(self.0)
        }
    }
}

impl std::fmt::Debug for TypeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if *self == TypeId::VOID {
            write!(f, "TypeId(void)")
        } else if self.is_synthetic() {
            write!(f, "TypeId(synthetic #{})", self.0 & !Self::SYNTHETIC)
        } else {
            write!(f, "TypeId({:#x})", self.0)
        }
    }
}

/// How a base type's bits are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BaseEncoding {
    /// Two's complement signed integer.
    Signed,
    /// Unsigned integer.
    Unsigned,
    /// `signed char` (and plain `char` on x86).
    SignedChar,
    /// `unsigned char`.
    UnsignedChar,
    /// `_Bool`.
    Bool,
    /// IEEE floating point (also used for complex and decimal floats).
    Float,
}

/// `struct` or `union`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StructKind {
    /// `struct`.
    Struct,
    /// `union`.
    Union,
}

/// A type qualifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Qualifier {
    /// `const`.
    Const,
    /// `volatile`.
    Volatile,
    /// `restrict`.
    Restrict,
    /// `_Atomic`.
    Atomic,
}

impl Qualifier {
    /// The C keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Qualifier::Const => "const",
            Qualifier::Volatile => "volatile",
            Qualifier::Restrict => "restrict",
            Qualifier::Atomic => "_Atomic",
        }
    }
}

/// One member of a struct or union, as declared (not flattened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Member name; `None` for an anonymous struct/union member.
    pub name: Option<String>,
    /// Member type.
    pub ty: TypeId,
    /// Byte offset from the start of the containing struct. For a bitfield: the byte holding its
    /// lowest bit.
    pub offset: u64,
    /// For a bitfield: bit position of its lowest bit within the byte at `offset`, counting from
    /// the least significant bit (little-endian numbering, 0..=7).
    pub bit_offset: Option<u32>,
    /// For a bitfield: its width in bits.
    pub bit_size: Option<u32>,
}

/// Where a (possibly nested) member lies, as answered by [`TypeIndex::member`](super::TypeIndex::member).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberInfo {
    /// Bytes from the start of the outer type.
    pub offset: u64,
    /// The member's type.
    pub ty: TypeId,
    /// For a bitfield: bits past `offset` (little-endian numbering).
    pub bit_offset: Option<u32>,
    /// For a bitfield: its width in bits.
    pub bit_size: Option<u32>,
}

/// A global (or per-CPU) variable with a fixed address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    /// Variable name.
    pub name: String,
    /// Link-time address from `DW_OP_addr`; for per-CPU variables, the small offset into
    /// `.data..percpu`.
    pub addr: u64,
    /// Its type (`TypeId::VOID` when DWARF gives none).
    pub ty: TypeId,
}

/// A type, materialized from DWARF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// `void`.
    Void,
    /// An integer, character, boolean or floating-point type.
    Base {
        /// C spelling, normalized (`"unsigned long"`, not gcc's `"long unsigned int"`).
        name: String,
        /// Size in bytes.
        size: u64,
        /// How to read its bits.
        encoding: BaseEncoding,
    },
    /// A pointer.
    Pointer {
        /// Pointed-to type; `None` for `void *`.
        target: Option<TypeId>,
        /// Size of the pointer in bytes.
        size: u64,
    },
    /// A struct or union. A declaration with no definition anywhere in the file has size 0 and
    /// no members.
    Struct {
        /// Struct or union.
        kind: StructKind,
        /// Tag name; `None` when anonymous.
        name: Option<String>,
        /// Size in bytes.
        size: u64,
        /// Direct members in declaration order.
        members: Vec<Member>,
    },
    /// An enumeration.
    Enum {
        /// Tag name; `None` when anonymous.
        name: Option<String>,
        /// Size in bytes.
        size: u64,
        /// Whether values are read as signed.
        signed: bool,
        /// Enumerators in declaration order.
        enumerators: Vec<(String, i64)>,
    },
    /// A typedef.
    Typedef {
        /// The typedef name.
        name: String,
        /// The aliased type; `None` for `void`.
        target: Option<TypeId>,
    },
    /// An array; a multi-dimensional array is an array of arrays.
    Array {
        /// Element type.
        elem: TypeId,
        /// Number of elements; `None` for a flexible array member or unknown bound.
        count: Option<u64>,
    },
    /// A function type (what a function pointer points to).
    Function {
        /// Return type; `None` for `void`.
        ret: Option<TypeId>,
        /// Parameter types.
        params: Vec<TypeId>,
        /// Whether it ends in `...`.
        variadic: bool,
    },
    /// A qualified type.
    Qualified {
        /// The qualifier.
        qual: Qualifier,
        /// The qualified type; `None` for `void`.
        target: Option<TypeId>,
    },
}

impl Type {
    /// The tag or typedef name, if the type has one.
    pub fn name(&self) -> Option<&str> {
        match self {
            Type::Base { name, .. } | Type::Typedef { name, .. } => Some(name),
            Type::Struct { name, .. } | Type::Enum { name, .. } => name.as_deref(),
            _ => None,
        }
    }
}

/// The words C allows in an integer/float type specifier.
const BASE_WORDS: &[&str] = &[
    "signed", "unsigned", "short", "long", "int", "char", "_Bool", "float", "double", "__int128",
    "_Complex",
];

/// Normalizes a C base type spelling (`"long unsigned int"`, `"unsigned long"`,
/// `"long int unsigned"`) to one form: `[unsigned |signed ]{char|short|int|long|long long}`,
/// `_Bool`, `float`, `double`, `long double`. Returns `None` if `name` is not made only of base-type
/// words.
pub fn normalize_base_name(name: &str) -> Option<String> {
    let words: Vec<&str> = name.split_whitespace().collect();
    if words.is_empty() || !words.iter().all(|w| BASE_WORDS.contains(w)) {
        return None;
    }
    let count = |w: &str| words.iter().filter(|x| **x == w).count();
    let (signed, unsigned) = (count("signed"), count("unsigned"));
    let (short, long) = (count("short"), count("long"));
    let (char_, int) = (count("char"), count("int"));
    let complex = count("_Complex") > 0;
    let mut core = if count("_Bool") > 0 {
        "_Bool".to_string()
    } else if count("float") > 0 {
        "float".to_string()
    } else if count("double") > 0 {
        if long > 0 {
            "long double".to_string()
        } else {
            "double".to_string()
        }
    } else if count("__int128") > 0 {
        if unsigned > 0 {
            "unsigned __int128".to_string()
        } else {
            "__int128".to_string()
        }
    } else if char_ > 0 {
        match (signed > 0, unsigned > 0) {
            (true, _) => "signed char".to_string(),
            (_, true) => "unsigned char".to_string(),
            _ => "char".to_string(),
        }
    } else {
        let size = if short > 0 {
            "short"
        } else if long >= 2 {
            "long long"
        } else if long == 1 {
            "long"
        } else {
            let _ = int;
            "int"
        };
        if unsigned > 0 {
            format!("unsigned {size}")
        } else {
            size.to_string()
        }
    };
    if complex {
        core = format!("complex {core}");
    }
    Some(core)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_names_normalize() {
        let n = |s: &str| normalize_base_name(s);
        assert_eq!(n("long unsigned int").as_deref(), Some("unsigned long"));
        assert_eq!(n("unsigned long").as_deref(), Some("unsigned long"));
        assert_eq!(n("long long int").as_deref(), Some("long long"));
        assert_eq!(n("short unsigned int").as_deref(), Some("unsigned short"));
        assert_eq!(n("signed char").as_deref(), Some("signed char"));
        assert_eq!(n("char").as_deref(), Some("char"));
        assert_eq!(n("unsigned").as_deref(), Some("unsigned int"));
        assert_eq!(n("signed int").as_deref(), Some("int"));
        assert_eq!(n("long double").as_deref(), Some("long double"));
        assert_eq!(n("task_struct"), None);
        assert_eq!(n(""), None);
    }

    #[test]
    fn type_id_debug() {
        assert_eq!(format!("{:?}", TypeId(0x10)), "TypeId(0x10)");
        assert_eq!(format!("{:?}", TypeId::VOID), "TypeId(void)");
        assert!(TypeId(TypeId::SYNTHETIC | 3).is_synthetic());
        assert_eq!(TypeId(5).die_offset(), Some(5));
    }
}
