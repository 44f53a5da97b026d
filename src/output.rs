//! What the command line prints on standard output.
//!
//! `println!` panics when standard output is gone (`quota-levy calc … | head` closes
//! the pipe after ten lines). A reader that stops reading has what it wanted: the
//! command ends at once, quietly and successfully, as `cat` and `grep` do. Any other
//! failure to write is reported on standard error and ends the command with status 1.

use std::io::Write;

/// Exit code for invalid input (the command line's equivalent of 422).
pub const EXIT_INVALID: u8 = 2;

/// Writes formatted text to standard output, ending the process as described above
/// when it cannot be written. Used through [`out!`](crate::out) and
/// [`outln!`](crate::outln).
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        exit_on_write_error(&e);
    }
}

/// Ends the process after a failed write to standard output: 0 for a closed pipe,
/// else 1 with the reason on standard error.
pub fn exit_on_write_error(e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("quota-levy: cannot write to standard output: {e}");
    std::process::exit(1);
}

/// True when `e` was caused by standard output (or another pipe) closing early.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.to_string().contains("Broken pipe")
    })
}

/// `print!` that ends quietly on a closed pipe ([`write_stdout`]).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write_stdout(format_args!($($arg)*)) };
}

/// `println!` that ends quietly on a closed pipe ([`write_stdout`]).
#[macro_export]
macro_rules! outln {
    () => { $crate::output::write_stdout(format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}
