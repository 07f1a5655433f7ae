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

impl Capabilities {
    /// The capabilities both `self` and `other` grant.
    pub fn intersect(&self, other: &Capabilities) -> Capabilities {
        Capabilities(self.0.intersection(&other.0).copied().collect())
    }
}

thread_local! {
    /// The capabilities of the script whose `exec`/`cmd` is running a command on this thread:
    /// a script started from there (`run FILE`, a pack command) gets no more than that.
    static CEILING: std::cell::RefCell<Option<Capabilities>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` (a command started by a script) with the capabilities capped at `caps`.
pub fn with_ceiling<T>(caps: &Capabilities, f: impl FnOnce() -> T) -> T {
    let outer = CEILING.with(|c| c.borrow().clone());
    let inner = outer
        .as_ref()
        .map_or_else(|| caps.clone(), |o| o.intersect(caps));
    CEILING.with(|c| *c.borrow_mut() = Some(inner));
    let r = f();
    CEILING.with(|c| *c.borrow_mut() = outer);
    r
}

/// `caps` capped at the ceiling of the script running the current command, if any.
pub fn effective(caps: &Capabilities) -> Capabilities {
    CEILING.with(|c| match c.borrow().as_ref() {
        Some(ceiling) => caps.intersect(ceiling),
        None => caps.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ceiling_caps_nested_runs() {
        let all = Capabilities::parse_all(&["fs-read,fs-write,exec"]).expect("parses");
        let read = Capabilities::parse_all(&["fs-read"]).expect("parses");
        assert_eq!(effective(&all), all);
        with_ceiling(&read, || {
            assert_eq!(effective(&all), read);
            with_ceiling(&all, || assert_eq!(effective(&all), read));
            with_ceiling(&Capabilities::none(), || {
                assert!(!effective(&all).has(Capability::FsRead))
            });
        });
        assert_eq!(effective(&all), all);
    }

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
