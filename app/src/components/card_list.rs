//! The list of health cards.

use leptos::prelude::*;

use super::HealthCard;
use crate::model::{Card, Timestamp};

/// Cards in the order given (callers sort them: red, yellow, green, then name).
#[component]
pub fn CardList(
    /// The cards to show.
    #[prop(into)]
    cards: Signal<Vec<Card>>,
    /// The current time by the server's clock.
    #[prop(into)]
    now: Signal<Timestamp>,
) -> impl IntoView {
    view! {
        <ul class="vss-cards" aria-label="Resources">
            // Keyed by the whole card: a card whose data changed is drawn anew, an unchanged
            // one (the common case on refresh) is kept as it is, expanded lists included.
            <For
                each=move || cards.get()
                key=Card::clone
                children=move |card| view! { <li><HealthCard card now/></li> }
            />
        </ul>
    }
}
