//! The crate's one error type.

use std::path::PathBuf;

/// What can go wrong with a shared local file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read, written or copied.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done ("reading", "copying", ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A line of an env file whose value is not single-quoted as the writer quotes it.
    #[error(
        "{} is not a stack env file: the value of {key} is not single-quoted (run `cargo xtask up` to write it again)",
        path.display()
    )]
    NotQuoted {
        /// The env file.
        path: PathBuf,
        /// The key of the line.
        key: String,
    },
}

/// The crate's result.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A `map_err` adapter: the I/O error of `action` ("reading", "creating", ...) on `path`.
    pub fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}
