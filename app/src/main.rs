//! The standalone page: mounts the widget (see `start_standalone`).

fn main() {
    vantage_sync_widget::start_standalone();
}
