//! Address newtypes: kernel virtual (`Kva`), physical (`Pa`) and page frame numbers (`Pfn`).
//!
//! Must not import any other module of the crate.

use std::fmt;

/// Page size on x86_64 (4 KiB).
pub const PAGE_SIZE: u64 = 4096;
/// log2 of [`PAGE_SIZE`].
pub const PAGE_SHIFT: u32 = 12;

macro_rules! addr_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub u64);

        impl $name {
            /// Adds `off`, or `None` on overflow.
            pub fn checked_add(self, off: u64) -> Option<Self> {
                self.0.checked_add(off).map(Self)
            }
            /// Subtracts `off`, or `None` on underflow.
            pub fn checked_sub(self, off: u64) -> Option<Self> {
                self.0.checked_sub(off).map(Self)
            }
            /// Adds `off`, wrapping around on overflow.
            pub fn wrapping_add(self, off: u64) -> Self {
                Self(self.0.wrapping_add(off))
            }
            /// The raw value.
            pub fn value(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:x}", self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:#x})", stringify!($name), self.0)
            }
        }

        impl fmt::LowerHex for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::LowerHex::fmt(&self.0, f)
            }
        }
    };
}

addr_newtype!(
    /// A kernel virtual address.
    Kva
);
addr_newtype!(
    /// A physical address.
    Pa
);
addr_newtype!(
    /// A page frame number (physical address >> `PAGE_SHIFT`).
    Pfn
);

impl Pa {
    /// The page frame holding this address.
    pub fn pfn(self) -> Pfn {
        Pfn(self.0 >> PAGE_SHIFT)
    }
    /// Offset of this address inside its page.
    pub fn page_offset(self) -> u64 {
        self.0 & (PAGE_SIZE - 1)
    }
}

impl Pfn {
    /// First physical address of this frame, or `None` on overflow.
    pub fn pa(self) -> Option<Pa> {
        self.0.checked_mul(PAGE_SIZE).map(Pa)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pfn_round_trip_and_display() {
        let pa = Pa(0x1234_5678);
        assert_eq!(pa.pfn(), Pfn(0x12345));
        assert_eq!(pa.page_offset(), 0x678);
        assert_eq!(Pfn(0x12345).pa(), Some(Pa(0x1234_5000)));
        assert_eq!(Pfn(u64::MAX).pa(), None);
        assert_eq!(
            format!("{}", Kva(0xffff_ffff_8100_0000)),
            "ffffffff81000000"
        );
        assert_eq!(Kva(u64::MAX).checked_add(1), None);
    }
}
