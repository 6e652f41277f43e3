//! "Abort run" on a stuck card, for sync admins: asks first, calls the edge function's `abort`
//! route with the user's session, says what happened, and reads the health again. The edge
//! function checks the permission; the button only hides itself from non-admins.

use leptos::prelude::*;

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
    let abort = Action::new_unsync(move |resource: &String| {
        let (actions, resource) = (actions.clone(), resource.clone());
        async move { actions.abort(&resource).await }
    });
    let busy = abort.pending();
    let outcome = abort.value();
    // After an abort the health is read again. An effect, so nothing is read once the card is
    // gone (a refresh redrew it, or the widget was unmounted).
    Effect::new(move || {
        if outcome.with(|o| matches!(o, Some(Ok(_)))) {
            refresh.run(());
        }
    });
    let click = move |_| {
        let question = format!("Abort the run of {resource}? It will be recorded as failed.");
        let confirmed = web_sys::window()
            .and_then(|w| w.confirm_with_message(&question).ok())
            .unwrap_or(false);
        if confirmed && !busy.get_untracked() {
            abort.dispatch(resource.clone());
        }
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
