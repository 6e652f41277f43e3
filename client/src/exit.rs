//! The command's own exit codes, from BSD's `sysexits.h`, as `runitor` and `sentry-cli` users
//! expect them. A wrapped command's own code (or 128 + its signal) is passed through instead.

/// A flag or argument is wrong (clap's usage errors too).
pub const EX_USAGE: u8 = 64;
/// The function refused the request's values (a resource name it does not accept).
pub const EX_DATAERR: u8 = 65;
/// The function could not be reached (network errors, 5xx, 429) for the whole retry time.
pub const EX_UNAVAILABLE: u8 = 69;
/// The function answered something this client does not understand.
pub const EX_SOFTWARE: u8 = 70;
/// A local file, pipe or the command could not be started.
pub const EX_IOERR: u8 = 74;
/// The resource already has a run in progress (or the run is no longer current): try later.
pub const EX_TEMPFAIL: u8 = 75;
/// Bad settings: no URL or token, a URL that is not the function, a refused token.
pub const EX_CONFIG: u8 = 78;
