//! What scripts may touch outside the dump. By default nothing: Rhai itself has no file,
//! process or network access, and rkdump registers such functions only behind a capability
//! the user grants with `--allow`.

use std::collections::BTreeSet;
use std::fmt;

/// A capability a script can be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    /// Read files (`read_file`, `file_exists`, `list_dir`).
    FsRead,
    /// Write files (`write_file`, `append_file`, redirections in `exec`).
    FsWrite,
    /// Run processes (`run_process`).
    Exec,
}

impl Capability {
    /// The name used with `--allow`.
    pub fn name(self) -> &'static str {
        match self {
            Capability::FsRead => "fs-read",
            Capability::FsWrite => "fs-write",
            Capability::Exec => "exec",
        }
    }
    /// Parses an `--allow` value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "fs-read" => Some(Capability::FsRead),
            "fs-write" => Some(Capability::FsWrite),
            "exec" => Some(Capability::Exec),
            _ => None,
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The capabilities granted to a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities(BTreeSet<Capability>);

impl Capabilities {
    /// No capability.
    pub fn none() -> Self {
        Self::default()
    }
    /// Parses `--allow` values; an unknown name is an error naming it.
    pub fn parse_all<S: AsRef<str>>(names: &[S]) -> Result<Self, String> {
        let mut set = BTreeSet::new();
        for n in names {
            for part in n.as_ref().split(',') {
                let c = Capability::parse(part.trim()).ok_or_else(|| {
                    format!("unknown capability '{part}' (fs-read, fs-write, exec)")
                })?;
                set.insert(c);
            }
        }
        Ok(Self(set))
    }
    /// Grants `c`.
    pub fn grant(&mut self, c: Capability) {
        self.0.insert(c);
    }
    /// Whether `c` is granted.
    pub fn has(&self, c: Capability) -> bool {
        self.0.contains(&c)
    }
    /// `Ok` when `c` is granted, else the message a script sees.
    pub fn check(&self, c: Capability, what: &str) -> Result<(), String> {
        if self.has(c) {
            Ok(())
        } else {
            Err(format!(
                "{what} needs the '{c}' capability; scripts are sandboxed (run rkdump with --allow {c})"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks() {
        let c = Capabilities::parse_all(&["fs-read,exec"]).expect("parses");
        assert!(c.has(Capability::FsRead) && c.has(Capability::Exec));
        assert!(!c.has(Capability::FsWrite));
        assert!(c
            .check(Capability::FsWrite, "write_file")
            .unwrap_err()
            .contains("--allow fs-write"));
        assert!(Capabilities::parse_all(&["net"]).is_err());
    }
}
