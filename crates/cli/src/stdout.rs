//! Standard output that never stops the work: `println!` panics when stdout fails, and a
//! reader that stops reading (`virnucpro models list | head -n 3`) made every command die
//! with a panic message. Through [`outln!`](crate::outln) and [`out!`](crate::out) a closed
//! pipe drops the rest of the output quietly, as a reader that has what it wanted expects;
//! any other failure (a full disk behind `> file`) is said once on stderr and makes the
//! command end with a failure ([`failure`]), and the work itself goes on to its end.
use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Set once stdout failed: nothing more is written to it.
static GONE: AtomicBool = AtomicBool::new(false);
/// The failure that was not a closed pipe, kept for the exit code.
static FAILURE: Mutex<Option<String>> = Mutex::new(None);

/// Write `args` (and a newline) to stdout, unless it failed earlier.
pub fn write(args: fmt::Arguments, newline: bool) {
    if GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut out = io::stdout().lock();
    let written = out.write_fmt(args).and_then(|()| {
        if newline {
            out.write_all(b"\n")
        } else {
            Ok(())
        }
    });
    if let Err(err) = written {
        failed(&err);
    }
}

fn failed(err: &io::Error) {
    if GONE.swap(true, Ordering::Relaxed) {
        return;
    }
    if err.kind() == io::ErrorKind::BrokenPipe {
        tracing::debug!("standard output was closed; the rest of the output is dropped");
        return;
    }
    let message = format!("cannot write to standard output: {err}");
    eprintln!("error: {message}; the command goes on without it");
    if let Ok(mut failure) = FAILURE.lock() {
        *failure = Some(message);
    }
}

/// Why stdout failed, when it did for another reason than a closed pipe.
pub fn failure() -> Option<String> {
    FAILURE.lock().ok().and_then(|failure| failure.clone())
}

/// `println!` to stdout that survives a closed pipe ([`crate::stdout`]).
#[macro_export]
macro_rules! outln {
    () => {
        $crate::stdout::write(format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!($($arg)*), true)
    };
}

/// `print!` to stdout that survives a closed pipe ([`crate::stdout`]).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!($($arg)*), false)
    };
}
