//! What the command says on stderr beside the wrapped command's own output: one line each,
//! prefixed `vantage-sync:`, never holding the token.

/// Prints a warning: something went wrong that does not stop the command.
pub fn warn(message: &str) {
    eprintln!("vantage-sync: warning: {message}");
}

/// Prints an error that stops the command.
pub fn error(message: &str) {
    eprintln!("vantage-sync: error: {message}");
}
