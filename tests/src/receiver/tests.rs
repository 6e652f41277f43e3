//! The receiver on its own, without the stack: what it records and how it answers.

use std::time::{Duration, Instant};

use super::Receiver;
use crate::error::{Error, Result, check};

const PATIENCE: Duration = Duration::from_secs(5);

fn client(proxy: Option<&str>) -> Result<reqwest::blocking::Client> {
    let http = |source| Error::Http {
        what: "building a client".to_owned(),
        source,
    };
    let mut builder = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(PATIENCE);
    if let Some(proxy) = proxy {
        builder = builder.proxy(reqwest::Proxy::http(proxy).map_err(http)?);
    }
    builder.build().map_err(http)
}

fn post(url: &str, proxy: Option<&str>) -> Result<reqwest::blocking::Response> {
    client(proxy)?
        .post(url)
        .header("content-type", "application/json")
        .header("x-test", "one")
        .body(r#"{"event":"failed"}"#)
        .send()
        .map_err(|source| Error::Http {
            what: format!("POST {url}"),
            source,
        })
}

#[test]
fn records_each_request_and_answers_the_status_set() -> Result<()> {
    let receiver = Receiver::start()?;
    check(receiver.url().starts_with("http://127.0.0.1:"), || {
        receiver.url()
    })?;
    let answer = post(&receiver.url(), None)?;
    check(answer.status() == 200, || format!("{answer:?}"))?;
    receiver.answer_with(503)?;
    let answer = post(&receiver.url(), None)?;
    check(answer.status() == 503, || format!("{answer:?}"))?;
    let got = receiver.wait_for(2, PATIENCE);
    check(got.len() == 2, || format!("{got:?}"))?;
    let first = &got[0];
    check(
        first.path == "/hook"
            && first.header("x-test") == Some("one")
            && first.header("content-type") == Some("application/json")
            && first.json()["event"] == "failed",
        || format!("{first:?}"),
    )
}

#[test]
fn redirects_delays_and_requests_made_as_to_a_proxy() -> Result<()> {
    let receiver = Receiver::start()?;
    receiver.redirect_to("http://127.0.0.1:9/elsewhere")?;
    receiver.delay_answers(Duration::from_millis(200));
    let started = Instant::now();
    // A client with the receiver as its proxy sends the whole URL of a host named otherwise.
    let proxy = receiver.url().replace("/hook", "");
    let answer = post("http://hooks.example.com/hook", Some(&proxy))?;
    check(
        answer.status() == 302
            && answer
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                == Some("http://127.0.0.1:9/elsewhere")
            && started.elapsed() >= Duration::from_millis(200),
        || format!("{answer:?} after {:?}", started.elapsed()),
    )?;
    let got = receiver.received();
    check(
        got.len() == 1 && got[0].path == "http://hooks.example.com/hook",
        || format!("{got:?}"),
    )
}

#[test]
fn a_stopped_receiver_refuses_connections_until_it_resumes_on_its_port() -> Result<()> {
    let mut receiver = Receiver::start_on_a_reserved_port()?;
    let url = receiver.url();
    receiver.stop();
    check(post(&url, None).is_err(), || {
        "a stopped receiver answered".into()
    })?;
    receiver.resume()?;
    check(receiver.url() == url, || receiver.url())?;
    let answer = post(&url, None)?;
    check(answer.status() == 200, || format!("{answer:?}"))?;
    check(receiver.received().len() == 1, || {
        format!("{:?}", receiver.received())
    })
}

#[test]
fn as_pagerduty_it_checks_the_event_and_answers_as_pagerduty() -> Result<()> {
    let receiver = Receiver::start_pagerduty()?;
    let send = |body: &str| {
        client(None)?
            .post(receiver.url())
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .map_err(|source| Error::Http {
                what: "POST to the PagerDuty receiver".to_owned(),
                source,
            })
    };
    let resolve = r#"{"routing_key":"abcdefghijklmnopqrstuvwxyz012345","event_action":"resolve","dedup_key":"funds"}"#;
    let answer = send(resolve)?;
    let status = answer.status();
    let body: serde_json::Value = answer.json().unwrap_or_default();
    check(
        status == 202 && body["message"] == "Event processed" && body["dedup_key"] == "funds",
        || format!("{status} {body}"),
    )?;
    let answer = send(r#"{"routing_key":"short","event_action":"resolve","dedup_key":"funds"}"#)?;
    let status = answer.status();
    let body: serde_json::Value = answer.json().unwrap_or_default();
    check(
        status == 400
            && body["status"] == "invalid event"
            && body["errors"][0]
                == "Length of 'routing_key' is incorrect (should be 32 characters)",
        || format!("{status} {body}"),
    )?;
    receiver.answer_with(429)?;
    let answer = send(resolve)?;
    check(answer.status() == 429, || format!("{answer:?}"))?;
    check(receiver.received().len() == 3, || {
        format!("{:?}", receiver.received())
    })
}
