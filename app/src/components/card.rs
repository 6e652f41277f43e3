//! One resource's health card.

use std::sync::Arc;

use leptos::prelude::*;

use super::{AbortButton, ErrorList, RunHistory, local_times_on};
use crate::browser::{local_clock_text, local_time_text};

use crate::model::{Card, State, Timestamp};

/// A card: the resource, its health as icon and word, the line that says what happened when
/// (with the absolute time in the user's time zone as a tooltip), the alert badges, and an
/// expandable list of the last failure's errors.
#[component]
pub fn HealthCard(
    /// What to show.
    card: Card,
    /// The current time by the server's clock; the relative times follow it.
    #[prop(into)]
    now: Signal<Timestamp>,
) -> impl IntoView {
    let state = card.state();
    let times = local_times_on();
    // The clock time of a pending retry, once local times may be written.
    let clock = move |t| times.get().then(|| local_clock_text(t));
    let card = Arc::new(card);
    let line = {
        let card = Arc::clone(&card);
        move || card.status_line(now.get())
    };
    let line = match card.line_time() {
        Some(t) => view! {
            <time
                datetime=t.to_rfc3339()
                title=move || times.get().then(|| local_time_text(t))
            >
                {line}
            </time>
        }
        .into_any(),
        None => view! { <span>{line}</span> }.into_any(),
    };
    let last_success = card.last_success_line(now.get_untracked()).map(|_| {
        let card = Arc::clone(&card);
        view! {
            <p class="vss-subline">{move || card.last_success_line(now.get())}</p>
        }
    });
    let retry = card.retry_line(now.get_untracked(), |_| None).map(|_| {
        let card = Arc::clone(&card);
        view! {
            <p class="vss-subline vss-retry">
                {move || card.retry_line(now.get(), clock)}
            </p>
        }
    });
    let alerts = (!card.alerts.is_empty()).then(|| {
        let badges = card
            .alerts
            .iter()
            .map(|&alert| {
                let card = Arc::clone(&card);
                view! {
                    <li class=format!("vss-alert vss-alert-{}", alert.name())>
                        {move || card.alert_text(alert, now.get())}
                    </li>
                }
            })
            .collect_view();
        view! { <ul class="vss-alerts" aria-label="Alerts">{badges}</ul> }
    });
    let errors =
        (!card.errors.is_empty()).then(|| view! { <ErrorList errors=card.errors.clone()/> });
    view! {
        <article class=format!("vss-card vss-health-{} {}", card.health.name(), state.class())>
            <header class="vss-card-head">
                <h3 class="vss-resource">{card.resource.clone()}</h3>
                <span class="vss-state">
                    <span class="vss-icon" aria-hidden="true">{state.icon()}</span>
                    " "
                    <span class="vss-word">{state.word()}</span>
                </span>
            </header>
            <p class="vss-line">{line}</p>
            {last_success}
            {retry}
            {alerts}
            {errors}
            {(state == State::Stuck).then(|| view! { <AbortButton resource=card.resource.clone()/> })}
            <RunHistory resource=card.resource.clone()/>
        </article>
    }
}
