//! When views may write instants in the user's locale and time zone.
//!
//! Why wait at all: the first `Intl` formatting of a page loads the locale's data, which took
//! about 30 ms in headless Chromium on the 2-core development machine, longer than drawing
//! every card. So the widget draws its first cards without local times (no tooltip yet,
//! "Retry 4 of 5 in 14 minutes") and adds them just after that first paint. Views mounted
//! without the widget around them (component tests, a host's own layout) write them at once.

use std::time::Duration;

use leptos::prelude::*;

/// The widget's switch, shared by context: off until its first cards are on screen.
#[derive(Clone, Copy)]
pub struct LocalTimes(RwSignal<bool>);

impl LocalTimes {
    /// A switch that is off, provided to the views below the current owner.
    pub fn provide_off() -> Self {
        let times = Self(RwSignal::new(false));
        provide_context(times);
        times
    }

    /// Turns local times on after the next paint (a frame, then a task: the frame's callback
    /// runs before it is painted).
    pub fn turn_on_after_paint(self) {
        let ready = self.0;
        if ready.get_untracked() {
            return;
        }
        request_animation_frame(move || {
            set_timeout(move || ready.set(true), Duration::ZERO);
        });
    }
}

/// Whether local times may be written now (reactive): the widget's switch, or always when
/// there is no widget around.
pub fn local_times_on() -> Signal<bool> {
    match use_context::<LocalTimes>() {
        Some(LocalTimes(ready)) => ready.into(),
        None => Signal::stored(true),
    }
}
