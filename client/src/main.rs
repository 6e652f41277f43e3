//! `vantage-sync`: wraps an ETL job so that its runs are reported (`run`), or reports each
//! step (`start`, `progress`, `complete`, `fail`), or checks health (`health`).

fn main() -> std::process::ExitCode {
    vantage_sync::cli::main_with(std::env::args_os())
}
