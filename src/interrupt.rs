//! Ctrl-C: a process-wide flag set by the SIGINT handler and polled by long-running work
//! (commands, list walks, scripts), so an interrupt stops the work, never the session.
//!
//! Must not import any other module of the crate.

use std::sync::atomic::{AtomicBool, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Marks the current work as interrupted (called from the signal handler).
pub fn request() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Clears the flag before new work starts.
pub fn clear() {
    INTERRUPTED.store(false, Ordering::SeqCst);
}

/// Whether Ctrl-C was pressed since the last [`clear`].
pub fn requested() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Installs the SIGINT handler once; later calls do nothing.
pub fn install_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // An error here means another handler is installed already; work then simply
        // cannot be interrupted, which is not worth failing over.
        let _ = ctrlc::set_handler(request);
    });
}
