//! The driver core: a `struct class`'s private part (`struct subsys_private`, through
//! `class->p` before 6.4 or the `class_kset` list since) and the list of the class's devices.

use crate::addr::Kva;
use crate::error::{Error, Result};
use crate::memory::{MemoryReader, ReadExt};
use crate::session::Session;

/// Where a `struct class` keeps its private part (`struct subsys_private`, which holds the
/// `klist_devices` of the class's devices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassLayout {
    /// Before 6.4: the `class->p` pointer.
    ClassP,
    /// 6.4 and later (class made const, `p` removed): class_to_subsys() looks for the
    /// `subsys_private` on `class_kset`'s list whose `class` member points to the class.
    ClassKset,
}

impl ClassLayout {
    /// The layout given what the types have: `struct class` member `p`, `struct
    /// subsys_private` member `class`.
    pub fn select(class_has_p: bool, subsys_has_class: bool) -> Option<Self> {
        match (class_has_p, subsys_has_class) {
            (true, _) => Some(ClassLayout::ClassP),
            (false, true) => Some(ClassLayout::ClassKset),
            (false, false) => None,
        }
    }

    /// The layout of the kernel of `s`.
    pub fn of(s: &Session) -> Option<Self> {
        Self::select(
            s.offset_of("struct class", "p").is_ok(),
            s.offset_of("struct subsys_private", "class").is_ok(),
        )
    }
}

/// Offsets for the 6.4+ class_to_subsys() walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubsysOffsets {
    /// `kobject.entry` (the node on the kset's list).
    pub kobj_entry: u64,
    /// `subsys_private.subsys.kobj`.
    pub subsys_kobj: u64,
    /// `subsys_private.class`.
    pub class: u64,
}

/// 6.4+ class_to_subsys(): the `subsys_private` on the kset list at `head` (`&class_kset->list`)
/// whose `class` is `class`; `None` when no entry matches or the list cannot be read.
pub fn find_class_subsys(
    mem: &dyn MemoryReader,
    head: u64,
    o: &SubsysOffsets,
    class: u64,
) -> Option<u64> {
    let mut node = mem.read_u64(Kva(head)).ok()?;
    let mut seen = 0;
    while node != head && node != 0 && seen < 4096 {
        let sp = node.checked_sub(o.kobj_entry)?.checked_sub(o.subsys_kobj)?;
        if mem.read_u64(crate::memory::field(sp, o.class).ok()?).ok()? == class {
            return Some(sp);
        }
        node = mem.read_u64(Kva(node)).ok()?;
        seen += 1;
    }
    None
}

/// `&subsys_private->klist_devices.k_list` of the class at `class`, on the kernel's layout.
pub fn class_devices_head(s: &Session, class: u64) -> Result<u64> {
    let klist = s.offset_of("struct subsys_private", "klist_devices.k_list")?;
    Ok(class_subsys(s, class, ClassLayout::of(s))? + klist)
}

/// The `struct subsys_private` of the class at `class`, found the way `layout` says. (6.1
/// kernels have both `class->p` and the `class_kset` list, so both ways can be checked there.)
pub fn class_subsys(s: &Session, class: u64, layout: Option<ClassLayout>) -> Result<u64> {
    let sp = match layout {
        Some(ClassLayout::ClassP) => s.read_u64(Kva(class + s.offset_of("struct class", "p")?))?,
        Some(ClassLayout::ClassKset) => {
            let kset_ptr = s
                .symbol_addr("class_kset")
                .ok_or_else(|| Error::Kernel("no class_kset symbol".into()))?;
            let kset = s.read_u64(Kva(kset_ptr))?;
            let head = kset + s.offset_of("struct kset", "list")?;
            let o = SubsysOffsets {
                kobj_entry: s.offset_of("struct kobject", "entry")?,
                subsys_kobj: s.offset_of("struct subsys_private", "subsys.kobj")?,
                class: s.offset_of("struct subsys_private", "class")?,
            };
            find_class_subsys(s, head, &o, class).ok_or_else(|| {
                Error::Kernel(format!(
                    "no subsys_private for the class at {class:#x} on class_kset"
                ))
            })?
        }
        None => {
            return Err(Error::Kernel(
                "struct class has neither p nor a subsys_private.class back-pointer".into(),
            ))
        }
    };
    if sp == 0 {
        return Err(Error::Kernel(format!(
            "the class at {class:#x} has no private part (not registered)"
        )));
    }
    Ok(sp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MockMemory;

    #[test]
    fn class_layout_follows_the_types() {
        assert_eq!(ClassLayout::select(true, false), Some(ClassLayout::ClassP));
        assert_eq!(
            ClassLayout::select(false, true),
            Some(ClassLayout::ClassKset)
        );
        assert_eq!(ClassLayout::select(false, false), None);
    }

    #[test]
    fn class_subsys_is_found_on_the_kset_list() {
        // A kset list head and two subsys_private entries; the second belongs to the class.
        let o = SubsysOffsets {
            kobj_entry: 0x10,
            subsys_kobj: 0x08,
            class: 0x100,
        };
        let (head, sp1, sp2, class) = (0x1000u64, 0x2000u64, 0x3000u64, 0x9000u64);
        let node = |sp: u64| sp + o.subsys_kobj + o.kobj_entry;
        let mut m = MockMemory::new();
        m.write_u64(head, node(sp1));
        m.write_u64(node(sp1), node(sp2));
        m.write_u64(node(sp2), head);
        m.write_u64(sp1 + o.class, 0x8000);
        m.write_u64(sp2 + o.class, class);
        assert_eq!(find_class_subsys(&m, head, &o, class), Some(sp2));
        assert_eq!(find_class_subsys(&m, head, &o, 0x7000), None);
        // A broken link ends the walk without a match.
        m.write_u64(node(sp1), 0xdead_0000);
        assert_eq!(find_class_subsys(&m, head, &o, class), None);
    }
}
