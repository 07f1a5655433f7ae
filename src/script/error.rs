//! Errors crossing the script boundary: rkdump errors become catchable Rhai runtime errors
//! carrying a map `{ kind, message, addr }`, and failed runs become a [`ScriptError`] naming
//! the script and line.

use crate::error::Error;
use crate::memory::MemoryError;
use rhai::{Dynamic, EvalAltResult, Map, Position};

/// A failed script run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// The script (file name or `<input>`).
    pub script: String,
    /// What went wrong.
    pub message: String,
    /// The line, when known.
    pub line: Option<usize>,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.script, self.message),
            None => write!(f, "{}: {}", self.script, self.message),
        }
    }
}

impl std::error::Error for ScriptError {}

impl ScriptError {
    /// From a parse error.
    pub fn from_parse(script: &str, e: rhai::ParseError) -> Self {
        Self {
            script: script.to_string(),
            message: e.0.to_string(),
            line: e.1.line(),
        }
    }
    /// From an evaluation error; a thrown map shows its `message`.
    pub fn from_eval(script: &str, e: EvalAltResult) -> Self {
        let line = e.position().line();
        let message = match &e {
            EvalAltResult::ErrorRuntime(v, _) => describe(v),
            EvalAltResult::ErrorTooManyOperations(_) => {
                "operation budget exhausted (the script ran too long)".to_string()
            }
            EvalAltResult::ErrorTerminated(v, _) => describe(v),
            other => other.to_string(),
        };
        Self {
            script: script.to_string(),
            message,
            line,
        }
    }
}

fn describe(v: &Dynamic) -> String {
    if let Some(m) = v.read_lock::<Map>() {
        if let Some(msg) = m.get("message") {
            return msg.to_string();
        }
    }
    v.to_string()
}

/// A catchable runtime error: `catch (e) { e.kind; e.message; e.addr }`.
pub fn runtime(kind: &str, message: String, addr: Option<u64>) -> Box<EvalAltResult> {
    let mut m = Map::new();
    m.insert("kind".into(), Dynamic::from(kind.to_string()));
    m.insert("message".into(), Dynamic::from(message));
    m.insert(
        "addr".into(),
        addr.map(|a| Dynamic::from(a as i64))
            .unwrap_or(Dynamic::UNIT),
    );
    Box::new(EvalAltResult::ErrorRuntime(m.into(), Position::NONE))
}

/// The address a memory error is about.
pub fn memory_error_addr(e: &MemoryError) -> Option<u64> {
    match e {
        MemoryError::NotInDump { pa } | MemoryError::Truncated { pa } => Some(pa.0),
        MemoryError::PageExcluded { pfn } | MemoryError::CorruptPage { pfn, .. } => {
            Some(pfn.0 << 12)
        }
        MemoryError::NotPresent { kva, .. }
        | MemoryError::InvalidAddress { kva }
        | MemoryError::TooLarge { kva, .. } => Some(kva.0),
        MemoryError::AddressOverflow { base, .. } => Some(base.0),
    }
}

/// Converts a memory error into a catchable script error.
pub fn from_memory(e: MemoryError) -> Box<EvalAltResult> {
    let addr = memory_error_addr(&e);
    runtime("memory", e.to_string(), addr)
}

/// Converts a crate error into a catchable script error.
pub fn from_error(e: Error) -> Box<EvalAltResult> {
    match e {
        Error::Memory(m) => from_memory(m),
        Error::Usage(m) => runtime("usage", m, None),
        e @ Error::NoData(_) => runtime("usage", e.to_string(), None),
        Error::Interrupted => runtime("interrupted", "interrupted".into(), None),
        other => runtime("kernel", other.to_string(), None),
    }
}

/// The message of a script error (a thrown map's `message`, else its text).
pub fn describe_eval(e: &EvalAltResult) -> String {
    match e {
        EvalAltResult::ErrorRuntime(v, _) => describe(v),
        other => other.to_string(),
    }
}
