//! The module's entry: defines `<vantage-sync-status>` and mounts the standalone page (see
//! `vantage_sync_widget::start`).

fn main() {
    vantage_sync_widget::start();
}
