//! The VMCOREINFO note: `KEY=value` lines the kernel exports for dump tools
//! (`OSRELEASE`, `PAGESIZE`, `SYMBOL(name)`, `OFFSET(struct.member)`, `SIZE(struct)`,
//! `NUMBER(name)`, `KERNELOFFSET`, `BUILD-ID`, `CRASHTIME`).

use std::collections::HashMap;

/// Parsed VMCOREINFO.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VmcoreInfo {
    entries: HashMap<String, String>,
    raw: String,
}

impl VmcoreInfo {
    /// Parses the note's text; lines without `=` are ignored, trailing NULs dropped.
    pub fn parse(text: &[u8]) -> Self {
        let raw = String::from_utf8_lossy(text)
            .trim_end_matches('\0')
            .to_string();
        let entries = raw
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        Self { entries, raw }
    }
    /// The raw text.
    pub fn raw(&self) -> &str {
        &self.raw
    }
    /// The value of `key`, as written.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(String::as_str)
    }
    /// A hexadecimal value (`SYMBOL(x)`, `KERNELOFFSET`), with or without `0x`.
    pub fn hex(&self, key: &str) -> Option<u64> {
        let v = self.get(key)?;
        u64::from_str_radix(v.trim_start_matches("0x"), 16).ok()
    }
    /// A decimal value (`OFFSET`, `SIZE`, `NUMBER`, `PAGESIZE`, `CRASHTIME`).
    pub fn dec(&self, key: &str) -> Option<i64> {
        self.get(key)?.parse().ok()
    }
    /// `SYMBOL(name)`: the runtime address of a symbol.
    pub fn symbol(&self, name: &str) -> Option<u64> {
        self.hex(&format!("SYMBOL({name})"))
    }
    /// `OFFSET(struct.member)`.
    pub fn offset(&self, struct_member: &str) -> Option<i64> {
        self.dec(&format!("OFFSET({struct_member})"))
    }
    /// `SIZE(name)`.
    pub fn size(&self, name: &str) -> Option<i64> {
        self.dec(&format!("SIZE({name})"))
    }
    /// `NUMBER(name)`.
    pub fn number(&self, name: &str) -> Option<i64> {
        self.dec(&format!("NUMBER({name})"))
    }
    /// `OSRELEASE`.
    pub fn osrelease(&self) -> Option<&str> {
        self.get("OSRELEASE")
    }
    /// `KERNELOFFSET`: the KASLR slide of the kernel image.
    pub fn kernel_offset(&self) -> Option<u64> {
        self.hex("KERNELOFFSET")
    }
    /// `BUILD-ID` as lowercase hex.
    pub fn build_id(&self) -> Option<&str> {
        self.get("BUILD-ID")
    }
    /// `CRASHTIME` (seconds since the epoch).
    pub fn crash_time(&self) -> Option<i64> {
        self.dec("CRASHTIME")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys() {
        let v = VmcoreInfo::parse(
            b"OSRELEASE=6.1.0-37-cloud-amd64\nPAGESIZE=4096\nSYMBOL(init_uts_ns)=ffffffff82a14420\n\
              OFFSET(list_head.next)=0\nKERNELOFFSET=1c000000\nBUILD-ID=abcd\nno equals\n\0\0",
        );
        assert_eq!(v.osrelease(), Some("6.1.0-37-cloud-amd64"));
        assert_eq!(v.dec("PAGESIZE"), Some(4096));
        assert_eq!(v.symbol("init_uts_ns"), Some(0xffffffff82a14420));
        assert_eq!(v.offset("list_head.next"), Some(0));
        assert_eq!(v.kernel_offset(), Some(0x1c000000));
        assert_eq!(v.build_id(), Some("abcd"));
        assert_eq!(v.symbol("missing"), None);
    }
}
