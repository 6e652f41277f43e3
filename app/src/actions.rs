//! What a card may do beyond showing its row: load its run history, and for an admin abort a
//! stuck run. The widget gives them to its cards as a Leptos context (absent, as in component
//! tests: neither button shows).

use std::sync::Arc;

use leptos::prelude::{Callback, ReadSignal};

use crate::api;
use crate::config::Config;
use crate::model::RunSummary;
use crate::session::Session;

/// The card actions of one widget: its settings and session, whether the user is a sync
/// admin, and how to read the health again.
#[derive(Clone, Debug)]
pub struct CardActions {
    config: Arc<Config>,
    session: Session,
    /// Whether the last read's token marks a sync admin.
    pub admin: ReadSignal<bool>,
    /// Reads the health again (after an abort).
    pub refresh: Callback<()>,
}

impl CardActions {
    /// Actions with `config` as the user of `session`.
    pub fn new(
        config: Arc<Config>,
        session: Session,
        admin: ReadSignal<bool>,
        refresh: Callback<()>,
    ) -> Self {
        Self {
            config,
            session,
            admin,
            refresh,
        }
    }

    /// Whether an abort can be sent at all (an edge function URL is configured).
    pub fn can_abort(&self) -> bool {
        self.config.functions_url.is_some()
    }

    /// The last 20 runs of `resource`, newest first, or why not in words.
    pub async fn load_runs(&self, resource: &str) -> Result<Vec<RunSummary>, String> {
        let token = self.session.token().await;
        api::fetch_runs(&self.config, token.as_deref(), resource)
            .await
            .map_err(|e| e.to_string())
    }

    /// Asks the edge function to abort the run of `resource` in progress; what happened, in
    /// words.
    pub async fn abort(&self, resource: &str) -> Result<String, String> {
        let base = self
            .config
            .functions_url
            .as_deref()
            .ok_or("No edge function URL is configured (functions-url).")?;
        let token = self
            .session
            .token()
            .await
            .ok_or("Sign in to abort a run.")?;
        api::abort_run(base, &token, resource).await
    }
}
