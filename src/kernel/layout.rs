//! Finds the x86_64 [`Layout`] of a dump, trying in order:
//! 1. VMCOREINFO (`KERNELOFFSET`, `NUMBER(phys_base)`, `SYMBOL(init_top_pgt)`,
//!    `NUMBER(pgtable_l5_enabled)`): what kdump and QEMU with the fw_cfg driver provide;
//! 2. a CPU's saved CR3 (QEMU's CPU-state note): try every 2 MiB KASLR slide and keep the one
//!    where `linux_banner` reads back as in the vmlinux;
//! 3. a scan of physical memory for `linux_banner` at every 2 MiB-aligned `phys_base`, then the
//!    same slide search from the found `init_top_pgt`.

use crate::addr::{Kva, Pa};
use crate::arch::x86_64::{
    Layout, Paging, KASLR_ALIGN, KERNEL_IMAGE_SIZE, PAGE_OFFSET_L4, PAGE_OFFSET_L5,
    START_KERNEL_MAP,
};
use crate::debuginfo::Vmlinux;
use crate::dump::Dump;
use crate::error::{Error, Result};
use crate::memory::PhysReader;

/// How the layout was found (shown by `sys -i`-style diagnostics and in errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutSource {
    /// From the VMCOREINFO note.
    Vmcoreinfo,
    /// From a CPU's CR3 register and a banner match.
    Cr3,
    /// From a physical-memory scan for `linux_banner`.
    BannerScan,
}

/// Bit 12 of CR3 selects the user copy of the PGD under page-table isolation; the kernel
/// copy is the 8 KiB-aligned one. Low bits hold the PCID.
const CR3_KERNEL_PGD_MASK: u64 = !0x1fff;

struct Symbols<'a> {
    vmlinux: &'a Vmlinux,
}

impl Symbols<'_> {
    fn addr(&self, name: &str) -> Result<u64> {
        self.vmlinux
            .symbols()
            .lookup(name)
            .map(|s| s.addr)
            .ok_or_else(|| {
                Error::Kernel(format!(
                    "{}: symbol {name} not found",
                    self.vmlinux.path().display()
                ))
            })
    }
}

/// The bytes of `linux_banner` as built into the vmlinux (up to the first NUL, at most 512).
pub fn vmlinux_banner(vmlinux: &Vmlinux) -> Result<Vec<u8>> {
    let sym = vmlinux
        .symbols()
        .lookup("linux_banner")
        .ok_or_else(|| Error::Kernel("vmlinux has no linux_banner symbol".into()))?;
    let len = if sym.size > 0 { sym.size as usize } else { 256 }.min(512);
    let bytes = vmlinux
        .read_static(sym.addr, len)
        .ok_or_else(|| Error::Kernel("linux_banner is not in the vmlinux file".into()))?;
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    Ok(bytes[..end].to_vec())
}

fn read_u64_phys(phys: &dyn PhysReader, pa: Pa) -> Option<u64> {
    let mut b = [0u8; 8];
    phys.read_phys(pa, &mut b).ok()?;
    Some(u64::from_le_bytes(b))
}

fn phys_matches(phys: &dyn PhysReader, pa: Pa, want: &[u8]) -> bool {
    let mut buf = vec![0u8; want.len()];
    phys.read_phys(pa, &mut buf).is_ok() && buf == want
}

/// Searches the 2 MiB-aligned slides for the one under which `banner_link + slide` maps,
/// through the tables at `pgd`, to memory holding `banner`.
fn find_slide(
    phys: &dyn PhysReader,
    pgd: Pa,
    five_level: bool,
    banner_link: u64,
    banner: &[u8],
) -> Option<(u64, Pa)> {
    (0..KERNEL_IMAGE_SIZE / KASLR_ALIGN).find_map(|i| {
        let slide = i * KASLR_ALIGN;
        let pa = Paging::walk(phys, pgd, five_level, banner_link.wrapping_add(slide)).ok()?;
        phys_matches(phys, pa, banner).then_some((slide, pa))
    })
}

/// Reads the runtime layout of the kernel in `dump`.
pub fn discover_layout(dump: &dyn Dump, vmlinux: &Vmlinux) -> Result<(Layout, LayoutSource)> {
    let syms = Symbols { vmlinux };
    let phys: &dyn PhysReader = dump;
    let max_pa = dump
        .ranges()
        .iter()
        .map(|r| r.start.0.saturating_add(r.len))
        .max()
        .unwrap_or(0);

    let (phys_base, kaslr_offset, pgd, mut five_level, source) = if let Some(info) = dump
        .vmcoreinfo()
        .filter(|i| i.kernel_offset().is_some() && i.number("phys_base").is_some())
    {
        let slide = info.kernel_offset().unwrap_or(0);
        let phys_base = info.number("phys_base").unwrap_or(0) as u64;
        let top = match info.symbol("init_top_pgt") {
            Some(a) => a,
            None => syms.addr("init_top_pgt")?.wrapping_add(slide),
        };
        let pgd = Paging::kernel_image_to_pa(phys_base, top)
            .ok_or_else(|| Error::Kernel(format!("bad init_top_pgt address {top:#x}")))?;
        let l5 = info.number("pgtable_l5_enabled").unwrap_or(0) != 0;
        (phys_base, slide, pgd, l5, LayoutSource::Vmcoreinfo)
    } else {
        let banner = vmlinux_banner(vmlinux)?;
        let banner_link = syms.addr("linux_banner")?;
        let top_link = syms.addr("init_top_pgt")?;
        let from_cr3 = dump.cpus().iter().filter_map(|c| c.cr3).find_map(|cr3| {
            let pgd = Pa(cr3 & CR3_KERNEL_PGD_MASK);
            [false, true].into_iter().find_map(|l5| {
                let (slide, pa) = find_slide(phys, pgd, l5, banner_link, &banner)?;
                // pa = runtime address - __START_KERNEL_map + phys_base.
                let runtime = banner_link.wrapping_add(slide);
                let phys_base = pa.0.wrapping_sub(runtime.wrapping_sub(START_KERNEL_MAP));
                Some((phys_base, slide, l5))
            })
        });
        if let Some((phys_base, slide, l5)) = from_cr3 {
            let pgd = Paging::kernel_image_to_pa(phys_base, top_link.wrapping_add(slide))
                .ok_or_else(|| Error::Kernel("init_top_pgt outside the image".into()))?;
            (phys_base, slide, pgd, l5, LayoutSource::Cr3)
        } else {
            let image_off = banner_link.wrapping_sub(START_KERNEL_MAP);
            // `load` = slide + phys_base: how far the image sits physically from its link-time
            // placement; 16 MiB + load is where `_text` is in physical memory (so load ≥ -16 MiB).
            let found = (0..max_pa / KASLR_ALIGN + 1).find_map(|i| {
                let load = (i * KASLR_ALIGN).wrapping_sub(0x100_0000);
                let pa = Pa(image_off.wrapping_add(load));
                if !phys_matches(phys, pa, &banner) {
                    return None;
                }
                let pgd = Pa(top_link.wrapping_sub(START_KERNEL_MAP).wrapping_add(load));
                [false, true].into_iter().find_map(|l5| {
                    let (slide, _) = find_slide(phys, pgd, l5, banner_link, &banner)?;
                    Some((load.wrapping_sub(slide), slide, pgd, l5))
                })
            });
            let (phys_base, slide, pgd, l5) = found.ok_or_else(|| {
                Error::Kernel(format!(
                    "{}: cannot locate the kernel: no VMCOREINFO, no CPU CR3 that maps linux_banner, \
                     and linux_banner of {} not found in physical memory (wrong vmlinux?)",
                    dump.path().display(),
                    vmlinux.path().display()
                ))
            })?;
            (phys_base, slide, pgd, l5, LayoutSource::BannerScan)
        }
    };

    // Variables are read through the image mapping: pa = runtime - __START_KERNEL_map + phys_base.
    let image_var = |name: &str| -> Option<u64> {
        let link = vmlinux.symbols().lookup(name)?.addr;
        let runtime = link.wrapping_add(kaslr_offset);
        read_u64_phys(phys, Paging::kernel_image_to_pa(phys_base, runtime)?)
    };
    if source != LayoutSource::Vmcoreinfo {
        if let Some(v) = image_var("__pgtable_l5_enabled") {
            five_level = v as u32 != 0;
        }
    }
    let default_offset = if five_level {
        PAGE_OFFSET_L5
    } else {
        PAGE_OFFSET_L4
    };
    let page_offset_base = image_var("page_offset_base").unwrap_or(default_offset);
    let layout = Layout {
        pgd,
        five_level,
        phys_base,
        kaslr_offset,
        page_offset_base,
        direct_map_size: max_pa,
        image_end: vmlinux
            .symbols()
            .lookup("_end")
            .map(|e| e.addr.wrapping_add(kaslr_offset))
            // Without `_end`, the image is at most 512 MiB.
            .unwrap_or(
                START_KERNEL_MAP
                    .wrapping_add(kaslr_offset)
                    .wrapping_add(0x2000_0000),
            ),
    };
    Ok((layout, source))
}

/// Checks that `vmlinux` is the kernel that wrote `dump`: the build-id from VMCOREINFO when
/// present, else `linux_banner` in memory against the file's. `read_banner` reads the
/// runtime banner at a kernel address.
pub fn check_match(
    dump: &dyn Dump,
    vmlinux: &Vmlinux,
    read_banner: &dyn Fn(Kva, usize) -> Option<Vec<u8>>,
    kaslr_offset: u64,
) -> Result<()> {
    let mismatch = |detail: String| {
        Error::Kernel(format!(
            "{} and {} do not match: {detail}",
            vmlinux.path().display(),
            dump.path().display()
        ))
    };
    if let (Some(want), Some(have)) = (
        dump.vmcoreinfo().and_then(|i| i.build_id()),
        vmlinux.build_id_hex(),
    ) {
        if !want.eq_ignore_ascii_case(&have) {
            return Err(mismatch(format!(
                "build-id {have} (vmlinux) vs {want} (dump)"
            )));
        }
        return Ok(());
    }
    let banner = vmlinux_banner(vmlinux)?;
    let link = vmlinux
        .symbols()
        .lookup("linux_banner")
        .map(|s| s.addr)
        .unwrap_or(0);
    let runtime = read_banner(Kva(link.wrapping_add(kaslr_offset)), banner.len());
    match runtime {
        Some(r) if r == banner => Ok(()),
        Some(r) => Err(mismatch(format!(
            "vmlinux is \"{}\", dump is \"{}\"",
            String::from_utf8_lossy(&banner).trim_end(),
            String::from_utf8_lossy(&r)
                .trim_end_matches('\0')
                .trim_end()
        ))),
        None => Err(mismatch("linux_banner unreadable in the dump".into())),
    }
}
