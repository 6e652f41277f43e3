//! The local files that `cargo xtask` and the tests library both read or write: the stack's
//! env file ([`env_file`]), files only their owner may read ([`write_private_file`]), and
//! folders copied or walked file by file ([`tree`]). One parser, one writer, one walk, so the
//! two tools can never disagree about them.

pub mod env_file;
mod error;
mod private_file;
pub mod tree;

pub use env_file::EnvFile;
pub use error::{Error, Result};
pub use private_file::write_private_file;
