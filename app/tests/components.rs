//! Component tests in a real browser (headless Chromium through `wasm-bindgen-test-runner`):
//! mount a view with plain data, then check the DOM a person and a screen reader get.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p vantage-sync-widget --target
//! wasm32-unknown-unknown` (or `cargo xtask test widget`).
#![cfg(target_arch = "wasm32")]
// A test that cannot find the element it checks should stop right there.
#![allow(clippy::expect_used)]

use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use vantage_sync_widget::components::{CardList, Freshness, HealthCard, LocalTimes, SummaryBar};
use vantage_sync_widget::model::{
    Card, Counts, DAY, Filter, HOUR, Health, MINUTE, SECOND, Status, SyncError, SyncRow, Timestamp,
    sort_cards,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

fn now() -> Timestamp {
    Timestamp::parse("2025-11-05T12:00:00Z").expect("now parses")
}

/// A fresh element in the page to mount into.
fn container() -> HtmlElement {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("a document");
    let div = document.create_element("div").expect("a div");
    document
        .body()
        .expect("a body")
        .append_child(&div)
        .expect("appended");
    div.dyn_into().expect("an HTML element")
}

fn row(resource: &str, status: Status) -> SyncRow {
    SyncRow {
        last_sync_time: Some(now().plus(-2 * HOUR)),
        started_at: Some(now().plus(-12 * MINUTE)),
        completed_at: Some(now().plus(-5 * MINUTE)),
        created_at: Some(now().plus(-30 * DAY)),
        duration_ms: Some(3200),
        records_synced: Some(150),
        ..SyncRow::new(resource.to_owned(), status)
    }
}

fn card(resource: &str, status: Status) -> Card {
    Card::from_row(row(resource, status), now())
}

fn failed_with(resource: &str, errors: Vec<SyncError>) -> Card {
    let mut r = row(resource, Status::Failed);
    r.errors = Some(errors);
    Card::from_row(r, now())
}

fn find(root: &Element, selector: &str) -> Element {
    let Some(element) = root.query_selector(selector).ok().flatten() else {
        panic!("no {selector} in {}", root.inner_html())
    };
    element
}

fn text(root: &Element, selector: &str) -> String {
    find(root, selector).text_content().unwrap_or_default()
}

fn texts(root: &Element, selector: &str) -> Vec<String> {
    let list = root.query_selector_all(selector).expect("a valid selector");
    (0..list.length())
        .filter_map(|i| list.item(i))
        .map(|n| n.text_content().unwrap_or_default())
        .collect()
}

fn click(root: &Element, selector: &str) {
    find(root, selector)
        .dyn_into::<HtmlElement>()
        .expect("an HTML element")
        .click();
}

#[wasm_bindgen_test]
fn a_healthy_card_shows_the_specs_line_with_icon_word_and_time() {
    let root = container();
    let c = card("accounts", Status::Success);
    let _mounted = mount_to(
        root.clone(),
        move || view! { <HealthCard card=c now=now()/> },
    );
    assert_eq!(text(&root, ".vss-resource"), "accounts");
    assert_eq!(text(&root, ".vss-word"), "Healthy");
    assert_eq!(text(&root, ".vss-icon"), "\u{2714}");
    assert_eq!(
        find(&root, ".vss-icon")
            .get_attribute("aria-hidden")
            .as_deref(),
        Some("true")
    );
    assert_eq!(
        text(&root, ".vss-line"),
        "Last synced 2 hours ago (150 records in 3.2s)"
    );
    let time = find(&root, ".vss-line time");
    assert_eq!(
        time.get_attribute("datetime").as_deref(),
        Some("2025-11-05T10:00:00.000Z")
    );
    assert!(
        time.get_attribute("title")
            .is_some_and(|t| t.contains("2025")),
        "the tooltip holds the local date"
    );
    assert!(root.query_selector(".vss-errors").ok().flatten().is_none());
}

#[wasm_bindgen_test]
fn running_failed_and_alert_lines() {
    let root = container();
    let running = card("orders", Status::Running);
    let mut stuck_row = row("ledger", Status::Running);
    stuck_row.started_at = Some(now().plus(-35 * MINUTE));
    let stuck = Card::from_row(stuck_row, now());
    let failed = failed_with("payments", vec![SyncError::default(), SyncError::default()]);
    let _mounted = mount_to(root.clone(), move || {
        view! {
            <div class="r"><HealthCard card=running now=now()/></div>
            <div class="s"><HealthCard card=stuck now=now()/></div>
            <div class="f"><HealthCard card=failed now=now()/></div>
        }
    });
    assert_eq!(text(&root, ".r .vss-line"), "Running for 12 minutes");
    assert_eq!(text(&root, ".r .vss-word"), "Running");
    assert_eq!(
        text(&root, ".r .vss-subline"),
        "Last successful sync 2 hours ago"
    );
    assert_eq!(text(&root, ".s .vss-word"), "Stuck");
    assert_eq!(
        texts(&root, ".s .vss-alert"),
        ["Stuck: running 35 min (limit 30 min)"]
    );
    assert_eq!(
        text(&root, ".f .vss-line"),
        "Failed 5 minutes ago \u{b7} 2 errors"
    );
    assert_eq!(text(&root, ".f .vss-word"), "Failing");
}

/// A scheduled job that stopped: yellow, "Late" with its icon, and a badge that says when it
/// was due; stale as well, it still reads "Late" (the cause before the consequence).
#[wasm_bindgen_test]
fn a_late_card_says_late_and_when_it_was_due() {
    let root = container();
    let mut late = row("cashflows", Status::Success);
    late.expected_interval = Some("01:00:00".to_owned());
    late.started_at = Some(now().plus(-30 * HOUR));
    late.last_sync_time = Some(now().plus(-30 * HOUR).plus(MINUTE));
    let c = Card::from_row(late, now());
    let _mounted = mount_to(
        root.clone(),
        move || view! { <HealthCard card=c now=now()/> },
    );
    assert_eq!(text(&root, ".vss-word"), "Late");
    assert_eq!(text(&root, ".vss-icon"), "\u{29D6}");
    assert!(
        find(&root, ".vss-card")
            .class_name()
            .contains("vss-health-yellow vss-state-late"),
        "a yellow card in the late state"
    );
    assert_eq!(
        texts(&root, ".vss-alert"),
        [
            "Stale: last success 29 h ago (allowed 24 h)",
            "Missed schedule: due every 1 h",
            "Late: due 29 h ago (every 1 h, grace 1 h)"
        ]
    );
}

#[wasm_bindgen_test]
fn the_list_is_red_yellow_green_then_name() {
    let root = container();
    let mut never = row("zeta", Status::NeverRun);
    never.created_at = Some(now().plus(-HOUR));
    let mut stale = row("beta", Status::Success);
    stale.last_sync_time = Some(now().plus(-30 * HOUR));
    let mut cards = vec![
        card("gamma", Status::Success),
        Card::from_row(never, now()),
        card("alpha", Status::Success),
        failed_with("omega", Vec::new()),
        Card::from_row(stale, now()),
        card("delta", Status::Failed),
    ];
    sort_cards(&mut cards);
    let _mounted = mount_to(root.clone(), move || {
        view! { <CardList cards=cards now=now()/> }
    });
    assert_eq!(
        texts(&root, ".vss-resource"),
        ["delta", "omega", "beta", "zeta", "alpha", "gamma"]
    );
    assert_eq!(
        texts(&root, ".vss-word"),
        [
            "Failing",
            "Failing",
            "Stale",
            "Never synced",
            "Healthy",
            "Healthy"
        ]
    );
}

#[wasm_bindgen_test]
async fn local_times_wait_for_the_widgets_first_paint() {
    let root = container();
    let mut r = row("funds", Status::Failed);
    r.consecutive_failures = Some(3);
    r.retry_max_attempts = Some(5);
    r.next_attempt_at = Some(now().plus(14 * MINUTE));
    let c = Card::from_row(r, now());
    let times = StoredValue::new(None::<LocalTimes>);
    let _mounted = mount_to(root.clone(), move || {
        times.set_value(Some(LocalTimes::provide_off()));
        view! { <HealthCard card=c now=now()/> }
    });
    let time = find(&root, ".vss-line time");
    assert_eq!(
        time.get_attribute("title"),
        None,
        "no tooltip before the paint"
    );
    assert_eq!(text(&root, ".vss-retry"), "Retry 4 of 5 in 14 minutes");

    times.get_value().expect("provided").turn_on_after_paint();
    sleep_ms(200).await;
    assert!(
        time.get_attribute("title")
            .is_some_and(|t| t.contains("2025")),
        "the tooltip follows the paint"
    );
    let retry = text(&root, ".vss-retry");
    assert!(
        retry.starts_with("Retry 4 of 5 at ") && retry.ends_with("(in 14 minutes)"),
        "the retry line gains its clock time: {retry:?}"
    );
}

#[wasm_bindgen_test]
async fn the_error_expander_is_a_button_with_aria_expanded() {
    let root = container();
    let error = SyncError {
        code: Some("API_TIMEOUT".into()),
        message: Some("Vantage did not answer in 30 s".into()),
        details: vec![("attempt".into(), "3".into())],
    };
    let c = failed_with("accounts", vec![error]);
    let _mounted = mount_to(
        root.clone(),
        move || view! { <HealthCard card=c now=now()/> },
    );
    let button = find(&root, "button.vss-expander");
    assert_eq!(
        button.get_attribute("aria-expanded").as_deref(),
        Some("false")
    );
    assert_eq!(button.text_content().as_deref(), Some("Show 1 error"));
    assert!(
        root.query_selector(".vss-error-list")
            .ok()
            .flatten()
            .is_none()
    );

    click(&root, "button.vss-expander");
    tick().await;
    assert_eq!(
        button.get_attribute("aria-expanded").as_deref(),
        Some("true")
    );
    assert_eq!(button.text_content().as_deref(), Some("Hide 1 error"));
    assert_eq!(text(&root, ".vss-error-code"), "API_TIMEOUT");
    assert_eq!(
        text(&root, ".vss-error-message"),
        "Vantage did not answer in 30 s"
    );
    assert_eq!(texts(&root, ".vss-error-fields dt"), ["attempt"]);
    assert_eq!(texts(&root, ".vss-error-fields dd"), ["3"]);

    click(&root, "button.vss-expander");
    tick().await;
    assert_eq!(
        button.get_attribute("aria-expanded").as_deref(),
        Some("false")
    );
    assert!(
        root.query_selector(".vss-error-list")
            .ok()
            .flatten()
            .is_none()
    );
}

#[wasm_bindgen_test]
async fn an_errors_timestamp_is_shown_in_local_time_with_its_iso_text_kept() {
    const ISO: &str = "2026-12-02T04:49:32.599503+00:00";
    let root = container();
    let error = SyncError {
        code: Some("API_TIMEOUT".into()),
        message: None,
        details: vec![
            ("timestamp".into(), ISO.into()),
            ("note".into(), ISO.into()),
        ],
    };
    let c = failed_with("accounts", vec![error]);
    let _mounted = mount_to(
        root.clone(),
        move || view! { <HealthCard card=c now=now()/> },
    );
    click(&root, "button.vss-expander");
    tick().await;
    let time = find(&root, ".vss-error-fields dd time");
    assert_eq!(time.get_attribute("datetime").as_deref(), Some(ISO));
    let shown = time.text_content().unwrap_or_default();
    assert!(!shown.is_empty() && shown != ISO, "shown as {shown:?}");
    // Only the field named `timestamp` is read as a time; other fields stay as written.
    assert_eq!(texts(&root, ".vss-error-fields dd"), [shown.as_str(), ISO]);
}

#[wasm_bindgen_test]
async fn text_from_the_database_is_shown_as_text_and_runs_nothing() {
    const ATTACK: &str = "<img src=x onerror=window.__pwned=1>";
    let root = container();
    let error = SyncError {
        code: Some("<b>X</b>".into()),
        message: Some(ATTACK.into()),
        details: vec![(ATTACK.into(), ATTACK.into())],
    };
    let mut r = row("<script>window.__pwned=2</script>", Status::Failed);
    r.errors = Some(vec![error]);
    let c = Card::from_row(r, now());
    let _mounted = mount_to(
        root.clone(),
        move || view! { <HealthCard card=c now=now()/> },
    );
    click(&root, "button.vss-expander");
    tick().await;
    // Give an injected image a chance to fail loading and fire its handler.
    sleep_ms(50).await;

    assert_eq!(text(&root, ".vss-error-message"), ATTACK);
    assert_eq!(texts(&root, ".vss-error-fields dt"), [ATTACK]);
    assert_eq!(text(&root, ".vss-error-code"), "<b>X</b>");
    assert_eq!(
        text(&root, ".vss-resource"),
        "<script>window.__pwned=2</script>"
    );
    for tag in ["img", "b", "script"] {
        assert!(
            root.query_selector(tag).ok().flatten().is_none(),
            "a <{tag}> element was created from data"
        );
    }
    let window = web_sys::window().expect("a window");
    let pwned = js_sys::Reflect::get(&window, &JsValue::from_str("__pwned")).expect("readable");
    assert!(pwned.is_undefined(), "injected code ran");
}

#[wasm_bindgen_test]
async fn the_summary_counts_and_filters() {
    let root = container();
    let filter = RwSignal::new(None::<Filter>);
    let name = RwSignal::new(String::new());
    let counts = Counts {
        red: 2,
        yellow: 3,
        green: 1,
        late: 2,
    };
    let _mounted = mount_to(root.clone(), move || {
        view! { <SummaryBar counts=counts filter name/> }
    });
    assert_eq!(
        texts(&root, ".vss-filter"),
        ["All 6", "Action needed 2", "Attention 3", "OK 1", "Late 2"]
    );
    let pressed = || {
        let list = root.query_selector_all(".vss-filter").expect("buttons");
        (0..list.length())
            .filter_map(|i| list.item(i))
            .filter_map(|n| n.dyn_into::<Element>().ok())
            .map(|e| e.get_attribute("aria-pressed").unwrap_or_default())
            .collect::<Vec<_>>()
    };
    assert_eq!(pressed(), ["true", "false", "false", "false", "false"]);

    click(&root, ".vss-filter.vss-health-red");
    tick().await;
    assert_eq!(filter.get_untracked(), Some(Filter::Health(Health::Red)));
    assert_eq!(pressed(), ["false", "true", "false", "false", "false"]);

    click(&root, ".vss-filter.vss-filter-late");
    tick().await;
    assert_eq!(filter.get_untracked(), Some(Filter::Late));
    assert_eq!(pressed(), ["false", "false", "false", "false", "true"]);

    // Pressing the active filter again shows everything.
    click(&root, ".vss-filter.vss-filter-late");
    tick().await;
    assert_eq!(filter.get_untracked(), None);
    assert_eq!(pressed(), ["true", "false", "false", "false", "false"]);

    let input: web_sys::HtmlInputElement = find(&root, ".vss-name-filter")
        .dyn_into()
        .expect("an input");
    input.set_value("acc");
    input
        .dispatch_event(&web_sys::Event::new("input").expect("an event"))
        .expect("dispatched");
    assert_eq!(name.get_untracked(), "acc");
}

#[wasm_bindgen_test]
async fn freshness_ticks_and_the_refresh_button_asks_for_data() {
    let root = container();
    let updated = now().plus(-12 * SECOND);
    let clock = RwSignal::new(now());
    let asked = RwSignal::new(0);
    let on_refresh = Callback::new(move |()| asked.update(|n| *n += 1));
    let _mounted = mount_to(root.clone(), move || {
        view! { <Freshness updated_at=Some(updated) now=clock loading=false on_refresh/> }
    });
    assert_eq!(text(&root, ".vss-updated"), "Updated 12 s ago");
    clock.set(now().plus(3 * MINUTE));
    tick().await;
    assert_eq!(text(&root, ".vss-updated"), "Updated 3 min ago");
    click(&root, "button.vss-refresh");
    assert_eq!(asked.get_untracked(), 1);
}

/// Waits `ms` milliseconds (a browser timer).
async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// `mount()` for a host script: the widget stays until `unmount()`, even when the host drops
/// its handle (the JavaScript handle may be garbage-collected at any time), and `unmount()`
/// empties the element and stops the widget's timers (no clock tick or retry afterwards).
#[wasm_bindgen_test]
async fn a_mounted_widget_stays_until_unmounted() {
    let options = js_sys::Object::new();
    for (name, value) in [
        // Nothing listens there: the reads fail at once and a retry is scheduled.
        ("restUrl", "http://127.0.0.1:9"),
        ("anonKey", "sb_publishable_component_test"),
    ] {
        js_sys::Reflect::set(&options, &name.into(), &value.into()).expect("an option");
    }
    let kept = container();
    // The handle is dropped at once, as a host that does not keep it would.
    let _ = vantage_sync_widget::embed::mount(kept.clone(), &options);
    sleep_ms(100).await;
    assert!(
        kept.query_selector(".vss-root").ok().flatten().is_some(),
        "the widget is still there after its handle was dropped"
    );

    let root = container();
    let mut widget = vantage_sync_widget::embed::mount(root.clone(), &options);
    sleep_ms(100).await;
    assert!(root.query_selector(".vss-root").ok().flatten().is_some());
    widget.unmount();
    assert_eq!(root.child_element_count(), 0, "unmount empties the element");
    // The clock ticks each second and the first retry follows 1 s after the failure: both
    // would have run here, against a widget that is gone, and trapped.
    sleep_ms(1500).await;
    assert_eq!(root.child_element_count(), 0);
}

/// The standalone page's stored session is read again before each read: supabase-js replaces
/// it about hourly, and a token read once at start would expire with the page still open.
#[wasm_bindgen_test]
async fn a_stored_session_is_read_again_each_time() {
    use vantage_sync_widget::session::{Session, TokenSource};
    let storage = web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .expect("localStorage");
    let key = "sb-componenttest-auth-token";
    storage
        .set_item(key, r#"{"access_token":"first"}"#)
        .expect("stored");
    let session = Session::new(TokenSource::Stored);
    assert_eq!(session.token().await.as_deref(), Some("first"));
    storage
        .set_item(key, r#"{"access_token":"refreshed"}"#)
        .expect("stored");
    assert_eq!(session.token().await.as_deref(), Some("refreshed"));
    storage.remove_item(key).expect("removed");
    assert_eq!(session.token().await, None, "signed out: no token");
}

/// Counts the page's `fetch` calls from now on (the widget's requests all go through it).
fn count_fetches() -> js_sys::Function {
    js_sys::Function::new_no_args(
        "const real = window.fetch;
         window.__fetches = 0;
         window.fetch = function (...args) { window.__fetches += 1; return real.apply(this, args); };
         return () => { window.fetch = real; return window.__fetches; };",
    )
    .call0(&JsValue::NULL)
    .expect("fetch wrapped")
    .dyn_into()
    .expect("a function that restores fetch and says how often it ran")
}

/// A widget unmounted while the host's `getAccessToken` is still answering sends nothing:
/// no request leaves after `unmount()` has returned (issue 28, item 5).
#[wasm_bindgen_test]
async fn no_read_leaves_after_unmount() {
    let options = js_sys::Object::new();
    for (name, value) in [
        ("restUrl", "http://127.0.0.1:9"),
        ("anonKey", "sb_publishable_component_test"),
    ] {
        js_sys::Reflect::set(&options, &name.into(), &value.into()).expect("an option");
    }
    // A token that takes a second to come, as a slow session refresh would.
    let slow_token = js_sys::Function::new_no_args(
        "return new Promise((resolve) => setTimeout(() => resolve('slow.token.value'), 1000));",
    );
    js_sys::Reflect::set(&options, &"getAccessToken".into(), &slow_token).expect("an option");
    let restore = count_fetches();
    let root = container();
    let mut widget = vantage_sync_widget::embed::mount(root.clone(), &options);
    sleep_ms(100).await;
    widget.unmount();
    sleep_ms(1500).await;
    let fetches = restore.call0(&JsValue::NULL).expect("restored");
    assert_eq!(fetches.as_f64(), Some(0.0), "requests after unmount()");
}

/// `mount()` and the element never read or change the host page's URL, even when it holds a
/// session: only the standalone page takes one from there (issue 28, item 3).
#[wasm_bindgen_test]
async fn an_embedded_widget_leaves_the_hosts_url_alone() {
    let window = web_sys::window().expect("a window");
    let history = window.history().expect("history");
    let before = window.location().href().expect("href");
    let with_session = format!(
        "{}#access_token=host.page.token&keep=1",
        before.split('#').next().unwrap_or_default()
    );
    history
        .replace_state_with_url(&JsValue::NULL, "", Some(&with_session))
        .expect("replaceState");
    let entries = history.length().expect("history length");
    let options = js_sys::Object::new();
    for (name, value) in [
        ("restUrl", "http://127.0.0.1:9"),
        ("anonKey", "sb_publishable_component_test"),
    ] {
        js_sys::Reflect::set(&options, &name.into(), &value.into()).expect("an option");
    }
    let root = container();
    let mut widget = vantage_sync_widget::embed::mount(root.clone(), &options);
    // Defined once per page (a second call leaves the first definition).
    vantage_sync_widget::embed::define_custom_element();
    let element = container();
    element.set_inner_html(
        r#"<vantage-sync-status rest-url="http://127.0.0.1:9" anon-key="sb_publishable_x"></vantage-sync-status>"#,
    );
    sleep_ms(300).await;
    assert_eq!(window.location().href().expect("href"), with_session);
    assert_eq!(history.length().expect("history length"), entries);
    widget.unmount();
    element.set_inner_html("");
    history
        .replace_state_with_url(&JsValue::NULL, "", Some(&before))
        .expect("replaceState back");
}
