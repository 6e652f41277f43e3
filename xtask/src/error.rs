//! The one error type of `cargo xtask`: every failure says what went wrong and what to do.

use std::path::PathBuf;

/// Everything that can stop an xtask command.
#[derive(Debug, thiserror::Error)]
pub enum XtaskError {
    /// A tool the command needs is not installed and could not be installed here.
    #[error("{tool} is missing: {hint}")]
    MissingTool {
        /// The tool's name.
        tool: String,
        /// What the user can do about it.
        hint: String,
    },
    /// A program ran and failed.
    #[error("`{command}` failed ({status}){detail}")]
    CommandFailed {
        /// The command line, for the user to run by hand.
        command: String,
        /// Its exit status.
        status: String,
        /// Tail of its output or a hint, starting with a newline when present.
        detail: String,
    },
    /// A server did not come up in time.
    #[error("{server} did not become ready within {seconds}s; its log is {}{tail}", log.display())]
    NotReady {
        /// Which server.
        server: &'static str,
        /// How long we waited.
        seconds: u64,
        /// Where its log is.
        log: PathBuf,
        /// The last lines of that log, starting with a newline.
        tail: String,
    },
    /// A program could not be started for another reason than being absent.
    #[error("cannot start `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why (e.g. permission denied on its folder).
        source: std::io::Error,
    },
    /// No loopback port could be had.
    #[error("cannot bind a port on 127.0.0.1: {0}")]
    Port(std::io::Error),
    /// A stack's env file lacks a setting.
    #[error("{} has no {key}: restart the stack (`cargo xtask down`, then `cargo xtask up`)", file.display())]
    MissingSetting {
        /// The env file.
        file: PathBuf,
        /// The missing key.
        key: String,
    },
    /// A file is not what it should be.
    #[error("{} is not {what}: {reason}", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What it should be ("a key file", "a HAR report").
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// `schemas/` has no `.sql` file.
    #[error("{} holds no .sql file: it should hold the current definition of every object", .0.display())]
    NoSchemaFiles(PathBuf),
    /// The schema files do not apply to a fresh database.
    #[error(
        "the schema files do not apply to a fresh database (psql names the file and line):{detail}\nNothing was written."
    )]
    SchemaFiles {
        /// psql's error.
        detail: String,
    },
    /// `schemas/` and `migrations/` build different databases.
    #[error(
        "schemas/ and migrations/ build different databases; migra's statements from the migrations' database to the schema files' one:\n{statements}\nChange schemas/ and write the migration with `cargo xtask db diff <name>`, or bring schemas/ in line with the migration you wrote"
    )]
    SchemaDrift {
        /// What migra says turns one into the other.
        statements: String,
    },
    /// `db diff` found nothing to write.
    #[error(
        "schemas/ and migrations/ build the same database: there is no migration to write (change a file in schemas/ first); nothing was written"
    )]
    NoSchemaDifference,
    /// `db diff` was given a name the migration file cannot have.
    #[error(
        "\"{0}\" cannot name a migration: use lower-case letters, digits and underscores, starting with a letter (e.g. add_progress), not ending in _rollback; nothing was written"
    )]
    BadMigrationName(String),
    /// A migration file is not named as the Supabase CLI expects.
    #[error("{} is not named <timestamp>_<name>.sql as the Supabase CLI expects", .0.display())]
    MigrationName(PathBuf),
    /// `db rollback --to` named a version that is not applied.
    #[error(
        "migration {version} is not applied, so there is nothing to keep it at (applied: {applied}); nothing was rolled back. Give one of the applied versions"
    )]
    NotApplied {
        /// The version asked for.
        version: String,
        /// The applied versions, oldest first, comma-separated.
        applied: String,
    },
    /// An applied migration has no rollback file (or no forward file) in `migrations/`.
    #[error(
        "migration {version} is applied but {} is missing; nothing was rolled back. Check out the branch that added it, or roll it back by hand",
        file.display()
    )]
    MissingRollback {
        /// The applied version.
        version: String,
        /// The file that should be there.
        file: PathBuf,
    },
    /// A command needs a running stack and none runs.
    #[error("no stack is running in {}: start it with `cargo xtask up`", .0.display())]
    StackNotRunning(PathBuf),
    /// A server we started did not stop.
    #[error(
        "{server} (PID {pid}) did not stop; stop it by hand (`kill -9 {pid}`), then run this again"
    )]
    StillRunning {
        /// Which server.
        server: &'static str,
        /// Its PID.
        pid: u32,
    },
    /// A build left something other than what the next step needs.
    #[error("the build's output is not as expected: {0}")]
    BuildOutput(String),
    /// The Supabase bundle is not as the Supabase CLI reads it.
    #[error(
        "the bundle in {} is not as the Supabase CLI reads it:\n{findings}fix the generator (xtask/src/build/supabase.rs), or the check's model of the CLI (xtask/src/build/supabase_check/) if the CLI has changed, and run `cargo xtask bundle supabase` again",
        dir.display()
    )]
    BundleCheck {
        /// The bundle folder.
        dir: PathBuf,
        /// One line per finding, each ending with a newline.
        findings: String,
    },
    /// The widget's bundle holds secrets.
    #[error("{0}")]
    SecretsInBundle(String),
    /// A measuring tool printed no report.
    #[error("{tool} printed no report:\n{output}")]
    NoReport {
        /// The tool.
        tool: &'static str,
        /// What it printed.
        output: String,
    },
    /// A folder that must hold files holds none.
    #[error("no {what} in {}", dir.display())]
    NoFiles {
        /// What was looked for.
        what: &'static str,
        /// Where.
        dir: PathBuf,
    },
    /// Writing JSON failed.
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Ctrl-C could not be handled.
    #[error("cannot handle Ctrl-C: {0}")]
    CtrlC(#[from] ctrlc::Error),
    /// A checksum of a downloaded tool did not match the pinned one.
    #[error("checksum mismatch for {}: expected {expected}, got {actual}; delete it and run again", path.display())]
    Checksum {
        /// The file that was checked.
        path: PathBuf,
        /// The pinned checksum.
        expected: &'static str,
        /// What the file hashes to.
        actual: String,
    },
    /// Reading or writing a file failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done ("reading", "creating", ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A shared local file (the env file, a folder walked or copied) could not be read or
    /// written.
    #[error(transparent)]
    Files(#[from] vantage_dev_files::Error),
    /// Signing a token failed.
    #[error("could not sign a JWT: {0}")]
    Jwt(#[from] jsonwebtoken::errors::Error),
    /// Key generation or encoding failed.
    #[error("could not generate the stack's signing key: {0}")]
    Key(String),
    /// A reliability check saw what must not happen (a 5xx, a crash); the message says what.
    #[error("{0}")]
    Check(String),
    /// Some steps of `cargo xtask test` failed.
    #[error("{failed} of {total} test steps failed: {names}")]
    TestsFailed {
        /// How many failed.
        failed: usize,
        /// How many ran.
        total: usize,
        /// Their names.
        names: String,
    },
}

impl XtaskError {
    /// Wraps an I/O error with what was being done to which path.
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

/// Result alias for xtask.
pub type Result<T, E = XtaskError> = std::result::Result<T, E>;
