//! x86_64 virtual → physical translation: the direct map and the kernel image by arithmetic,
//! everything else (vmalloc, modules, vmemmap, cpu_entry_area, fixmap) by walking the kernel's
//! 4- or 5-level page tables, with 1 GiB and 2 MiB pages. A small cache keeps recent walks.

use super::START_KERNEL_MAP;
use crate::addr::{Kva, Pa};
use crate::arch::Arch;
use crate::memory::{MemoryError, PhysReader};
use std::collections::HashMap;
use std::sync::Mutex;

const PTE_PRESENT: u64 = 1 << 0;
const PTE_PSE: u64 = 1 << 7;
/// Physical-address bits of a page-table entry (bits 12..51; NX and software bits cleared).
const PTE_ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;
const LEVEL_NAMES: [&str; 5] = ["pgd", "p4d", "pud", "pmd", "pte"];
const TLB_ENTRIES: usize = 4096;

/// Where the kernel put things on this boot (KASLR randomizes the bases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Physical address of the kernel's top-level page table (`init_top_pgt`).
    pub pgd: Pa,
    /// Whether 5-level paging (LA57) is on.
    pub five_level: bool,
    /// `phys_base`: physical load address minus the link-time offset.
    pub phys_base: u64,
    /// KASLR slide of the kernel image (`KERNELOFFSET`).
    pub kaslr_offset: u64,
    /// Base of the direct map (`page_offset_base`).
    pub page_offset_base: u64,
    /// Bytes of physical memory covered by the direct map (an upper bound is fine).
    pub direct_map_size: u64,
    /// Runtime end of the kernel image (`_end` + slide): image addresses below it translate
    /// by arithmetic; above it (modules, fixmap) the page tables are walked.
    pub image_end: u64,
}

/// Address translation for one dump.
pub struct Paging {
    layout: Layout,
    tlb: Mutex<HashMap<u64, u64>>,
}

impl std::fmt::Debug for Paging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paging")
            .field("layout", &self.layout)
            .finish()
    }
}

impl Paging {
    /// Translation for the given layout.
    pub fn new(layout: Layout) -> Self {
        Self {
            layout,
            tlb: Mutex::new(HashMap::new()),
        }
    }
    /// The layout in use.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Translates a runtime kernel-image address (`__START_KERNEL_map` + …) without page
    /// tables: `kva - __START_KERNEL_map + phys_base` (`phys_base` may be negative, as two's
    /// complement, when KASLR moved the image virtually further than physically).
    pub fn kernel_image_to_pa(phys_base: u64, kva: u64) -> Option<Pa> {
        Some(Pa(kva
            .checked_sub(START_KERNEL_MAP)?
            .wrapping_add(phys_base)))
    }

    /// Walks the page tables rooted at `root` for `va`.
    pub fn walk(
        phys: &dyn PhysReader,
        root: Pa,
        five_level: bool,
        va: u64,
    ) -> Result<Pa, MemoryError> {
        let kva = Kva(va);
        let levels: &[usize] = if five_level {
            &[0, 1, 2, 3, 4]
        } else {
            &[0, 2, 3, 4]
        };
        let mut table = root.0 & PTE_ADDR_MASK;
        for &level in levels {
            // Shift for this level: pgd 48 (5-level) or 39, p4d 39, pud 30, pmd 21, pte 12.
            let shift = match level {
                0 if five_level => 48,
                0 | 1 => 39,
                2 => 30,
                3 => 21,
                _ => 12,
            };
            let index = (va >> shift) & 0x1ff;
            let mut raw = [0u8; 8];
            phys.read_phys(Pa(table + index * 8), &mut raw)?;
            let entry = u64::from_le_bytes(raw);
            if entry & PTE_PRESENT == 0 {
                return Err(MemoryError::NotPresent {
                    kva,
                    level: LEVEL_NAMES[level],
                });
            }
            let base = entry & PTE_ADDR_MASK;
            let huge = entry & PTE_PSE != 0;
            if huge && (level == 2 || level == 3) {
                let size = 1u64 << shift;
                return Ok(Pa((base & !(size - 1)) | (va & (size - 1))));
            }
            if level == 4 {
                return Ok(Pa(base | (va & 0xfff)));
            }
            table = base;
        }
        Err(MemoryError::InvalidAddress { kva })
    }

    fn translate_cached(&self, phys: &dyn PhysReader, va: u64) -> Result<Pa, MemoryError> {
        let page = va & !0xfff;
        if let Ok(tlb) = self.tlb.lock() {
            if let Some(&pa_page) = tlb.get(&page) {
                return Ok(Pa(pa_page | (va & 0xfff)));
            }
        }
        let pa = Self::walk(phys, self.layout.pgd, self.layout.five_level, va)?;
        if let Ok(mut tlb) = self.tlb.lock() {
            if tlb.len() >= TLB_ENTRIES {
                tlb.clear();
            }
            tlb.insert(page, pa.0 & !0xfff);
        }
        Ok(pa)
    }
}

impl Arch for Paging {
    fn translate(&self, phys: &dyn PhysReader, kva: Kva) -> Result<Pa, MemoryError> {
        let va = kva.0;
        let l = &self.layout;
        let canonical_kernel = if l.five_level {
            va >= 0xff00_0000_0000_0000
        } else {
            va >= 0xffff_8000_0000_0000
        };
        if !canonical_kernel {
            return Err(MemoryError::InvalidAddress { kva });
        }
        if va >= l.page_offset_base && va - l.page_offset_base < l.direct_map_size {
            return Ok(Pa(va - l.page_offset_base));
        }
        let image_start = START_KERNEL_MAP.wrapping_add(l.kaslr_offset);
        // Only the image itself is mapped linearly; the module area starts right after the
        // 1 GiB image window and may lie close above a large KASLR slide.
        if va >= image_start && va < l.image_end {
            if let Some(pa) = Self::kernel_image_to_pa(l.phys_base, va) {
                return Ok(pa);
            }
        }
        self.translate_cached(phys, va)
    }

    fn translate_with_root(
        &self,
        phys: &dyn PhysReader,
        root: Pa,
        va: u64,
    ) -> Result<Pa, MemoryError> {
        Self::walk(phys, root, self.layout.five_level, va)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MockMemory;

    /// Builds 4-level tables at 0x1000.. mapping `va` → 0x9000 (4K), plus a 2M and a 1G page.
    fn tables() -> MockMemory {
        let mut m = MockMemory::new();
        let zero = vec![0u8; 4096];
        for t in [0x1000u64, 0x2000, 0x3000, 0x4000] {
            m.write(t, &zero);
        }
        let va: u64 = 0xffff_c900_0012_3000;
        let idx = |shift: u32| (va >> shift) & 0x1ff;
        m.write_u64(0x1000 + idx(39) * 8, 0x2000 | 3);
        m.write_u64(0x2000 + idx(30) * 8, 0x3000 | 3);
        m.write_u64(0x3000 + idx(21) * 8, 0x4000 | 3);
        m.write_u64(0x4000 + idx(12) * 8, 0x9000 | 3 | (1 << 63));
        // A 2 MiB page one PMD slot further, and a 1 GiB page one PUD slot further.
        m.write_u64(0x3000 + (idx(21) + 1) * 8, 0x4020_0000 | PTE_PSE | 1);
        m.write_u64(0x2000 + (idx(30) + 1) * 8, 0x8000_0000 | PTE_PSE | 1);
        m.write(0x9000, b"payload!");
        m
    }

    fn layout() -> Layout {
        Layout {
            pgd: Pa(0x1000),
            five_level: false,
            phys_base: 0x100_0000,
            kaslr_offset: 0x1000_0000,
            page_offset_base: 0xffff_8880_0000_0000,
            direct_map_size: 1 << 30,
            image_end: 0xffff_ffff_9200_0000,
        }
    }

    #[test]
    fn walks_4k_2m_1g_and_misses() {
        let m = tables();
        let p = Paging::new(layout());
        let va = 0xffff_c900_0012_3000u64;
        assert_eq!(p.translate(&m, Kva(va + 0x10)), Ok(Pa(0x9010)));
        // Cached second time.
        assert_eq!(p.translate(&m, Kva(va + 0x18)), Ok(Pa(0x9018)));
        let two_m = (va & !0x1f_ffff) + 0x20_0000 + 0x1234;
        assert_eq!(p.translate(&m, Kva(two_m)), Ok(Pa(0x4020_1234)));
        let one_g = (va & !0x3fff_ffff) + 0x4000_0000 + 0x12_3456;
        assert_eq!(p.translate(&m, Kva(one_g)), Ok(Pa(0x8012_3456)));
        assert!(matches!(
            p.translate(&m, Kva(0xffff_c900_4000_0000 + (1 << 39))),
            Err(MemoryError::NotPresent { level: "pgd", .. })
        ));
        assert!(matches!(
            p.translate(&m, Kva(0x0000_7fff_0000_0000)),
            Err(MemoryError::InvalidAddress { .. })
        ));
    }

    #[test]
    fn direct_map_and_image_by_arithmetic() {
        let m = MockMemory::new();
        let p = Paging::new(layout());
        assert_eq!(
            p.translate(&m, Kva(0xffff_8880_0123_4567)),
            Ok(Pa(0x123_4567))
        );
        assert_eq!(
            p.translate(&m, Kva(0xffff_ffff_9100_0010)),
            Ok(Pa(0x1100_0010 + 0x100_0000))
        );
    }

    #[test]
    fn module_area_above_a_large_slide_is_walked() {
        // KASLR slid the image by 0x38600000: its 1 GiB window then reaches past
        // 0xffffffffc0000000, where modules live; they must go through the page tables.
        let m = MockMemory::new();
        let p = Paging::new(Layout {
            kaslr_offset: 0x3860_0000,
            image_end: 0xffff_ffff_bb80_0000,
            ..layout()
        });
        assert!(matches!(
            p.translate(&m, Kva(0xffff_ffff_c027_7100)),
            Err(MemoryError::NotInDump { .. }) | Err(MemoryError::NotPresent { .. })
        ));
        assert_eq!(
            p.translate(&m, Kva(0xffff_ffff_b900_0000)),
            Ok(Pa(0x3900_0000 + 0x100_0000))
        );
    }

    #[test]
    fn five_level_walk() {
        let mut m = MockMemory::new();
        let va: u64 = 0xff11_2000_0000_5000;
        let idx = |shift: u32| (va >> shift) & 0x1ff;
        let zero = vec![0u8; 4096];
        for t in 1..=5u64 {
            m.write(t * 0x1000, &zero);
        }
        m.write_u64(0x1000 + idx(48) * 8, 0x2001);
        m.write_u64(0x2000 + idx(39) * 8, 0x3001);
        m.write_u64(0x3000 + idx(30) * 8, 0x4001);
        m.write_u64(0x4000 + idx(21) * 8, 0x5001);
        m.write_u64(0x5000 + idx(12) * 8, 0x7_7000 | 1);
        assert_eq!(Paging::walk(&m, Pa(0x1000), true, va + 8), Ok(Pa(0x7_7008)));
    }
}
