//! "Abort run" on a stuck card, for sync admins: asks first, calls the edge function's `abort`
//! route with the user's session, says what happened, and reads the health again. The edge
//! function checks the permission; the button only hides itself from non-admins.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::actions::CardActions;

/// The button and its result line; nothing for non-admins or without [`CardActions`].
#[component]
pub fn AbortButton(
    /// The resource whose run to abort.
    resource: String,
) -> impl IntoView {
    let Some(actions) = use_context::<CardActions>() else {
        return ().into_any();
    };
    if !actions.can_abort() {
        return ().into_any();
    }
    let (admin, refresh) = (actions.admin, actions.refresh);
    // Two signals around `spawn_local` rather than a Leptos `Action`, whose machinery costs
    // the bundle 3.9 KB of brotli (docs/performance.md, "Size levers").
    let busy = RwSignal::new(false);
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let click = move |_| {
        let question = format!("Abort the run of {resource}? It will be recorded as failed.");
        let confirmed = web_sys::window()
            .and_then(|w| w.confirm_with_message(&question).ok())
            .unwrap_or(false);
        if !confirmed || busy.get_untracked() {
            return;
        }
        busy.set(true);
        let (actions, resource) = (actions.clone(), resource.clone());
        spawn_local(async move {
            let result = actions.abort(&resource).await;
            let aborted = result.is_ok();
            // Once the card is gone (a refresh redrew it, or the widget was unmounted) its
            // signals are disposed: nothing is shown, and the health is not read again.
            if outcome.try_set(Some(result)).is_none() {
                busy.set(false);
                if aborted {
                    refresh.run(());
                }
            }
        });
    };
    let line = move || {
        outcome.get().map(|outcome| match outcome {
            Ok(text) => view! { <p class="vss-abort-result" role="status">{text}</p> },
            Err(text) => {
                view! { <p class="vss-abort-result vss-abort-error" role="alert">{text}</p> }
            }
        })
    };
    view! {
        {move || admin.get().then(|| view! {
            <button
                type="button"
                class="vss-abort"
                aria-busy=move || if busy.get() { "true" } else { "false" }
                // Not `disabled`: that would drop the keyboard focus (clicks while busy are
                // ignored above).
                aria-disabled=move || if busy.get() { "true" } else { "false" }
                on:click=click.clone()
            >
                "Abort run"
            </button>
        })}
        {line}
    }
    .into_any()
}
