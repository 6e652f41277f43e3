//! The stack's API gateway (`SUPABASE_URL`), as a Supabase project has one, against the running
//! stack with nothing mocked: every way to present a bad API key gets the gateway's documented
//! 401 and changes nothing; the publishable key reads as `anon`, with a user's JWT as that user,
//! the secret key as `service_role` (never from a browser, and never over a user's JWT); the
//! JWKS route holds the public signing key and nothing secret; paths outside `/rest/v1/`,
//! `/functions/v1/` and the JWKS are 404; `..` paths, sent byte for byte, never get past the
//! key check or above the root; the edge's health route and a CORS preflight work through it;
//! JSON and text answers come brotli- or gzip-encoded when the client asks, decoding to what an
//! identity answer holds, as Supabase's gateway sends them.
//!
//! No test here writes, so each can check that no table changed while the others run.

use std::collections::BTreeSet;
use std::io::Read;
use std::time::Duration;

use serde_json::{Value, json};
use vantage_sync_tests::edge::Edge;
use vantage_sync_tests::rest::{PATHS_OUTSIDE_THE_GATEWAY, local_client, send_raw};
use vantage_sync_tests::tokens::{WRONG_SECRET, legacy_token, one_off};
use vantage_sync_tests::{
    Credential, CredentialKind, Db, Error, Method, Request, Response, Rest, Result, Stack, check,
};

/// The gateway's documented 401 messages.
const NO_API_KEY: &str = "No API key found in request";
const INVALID_API_KEY: &str = "Invalid API key";
const SECRET_KEY_IN_BROWSER: &str = "Forbidden use of secret API key in browser";
/// Its 404 for a path outside its three prefixes.
const NO_ROUTE: &str = "no Route matched with those values";

/// Browsers' `User-Agent`s (Chrome, Firefox, Safari).
const BROWSERS: [&str; 3] = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
];

/// Servers' `User-Agent`s: the secret key is theirs to use.
const SERVERS: [&str; 3] = ["supabase-js-node/2.50.0", "curl/8.5.0", "Deno/2.1.4"];

/// The gateway of the stack, a client for it, and the database behind it.
struct Gateway {
    stack: Stack,
    origin: String,
    root: Rest,
    db: Db,
}

impl Gateway {
    fn new() -> Result<Self> {
        let stack = Stack::load()?;
        let origin = stack.supabase_url()?.to_owned();
        Ok(Self {
            root: Rest::with_base_url(&origin)?,
            db: Db::connect(&stack)?,
            origin,
            stack,
        })
    }

    /// Sends `request` (its path from the project URL's root) with exactly `headers` besides
    /// the ones supabase-js always sends.
    fn send(&self, request: &Request, headers: &[(&'static str, String)]) -> Result<Response> {
        let mut request = request.clone();
        for (name, value) in headers {
            request = request.header(name, value.clone());
        }
        self.root.send(&request, &Credential::none())
    }

    /// Sends `method target` byte for byte (nothing normalizes the path on the way).
    fn raw(&self, method: &str, target: &str, headers: &[(&str, &str)]) -> Result<Response> {
        send_raw(&self.origin, method, target, headers, None)
    }

    fn publishable(&self) -> Result<String> {
        Ok(self.stack.publishable_key()?.to_owned())
    }

    fn secret(&self) -> Result<String> {
        Ok(self.stack.secret_key()?.to_owned())
    }

    fn user(&self) -> String {
        format!("Bearer {}", self.stack.authenticated_jwt())
    }

    /// Runs `f`, then checks that no table of the database changed meanwhile.
    fn changing_nothing<T>(&self, what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let before = self.db.checksum_all_tables()?;
        let out = f()?;
        check(self.db.checksum_all_tables()? == before, || {
            format!("{what}: a table CHANGED")
        })?;
        Ok(out)
    }
}

/// `path` with `query` added to its query string.
fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_owned()
    } else if path.contains('?') {
        format!("{path}&{query}")
    } else {
        format!("{path}?{query}")
    }
}

/// `request` sent to `path` instead.
fn at_path(request: &Request, path: String) -> Request {
    let body = || request.body().cloned().unwrap_or_default();
    match request.method() {
        Method::Get => Request::get(path),
        Method::Delete => Request::delete(path),
        Method::Post => Request::post(path, body()),
        Method::Patch => Request::patch(path, body()),
        Method::Put => Request::put(path, body()),
    }
}

/// A read and every way to write that a bad key might try, each well-formed (the service role
/// would succeed with it), aimed at the seeded rows.
fn reads_and_writes() -> Vec<Request> {
    vec![
        Request::get("/rest/v1/vantage_sync_state?select=*"),
        Request::post(
            "/rest/v1/vantage_sync_state",
            json!({ "resource": "it_gateway_insert", "last_sync_status": "success" }),
        ),
        Request::patch(
            "/rest/v1/vantage_sync_state?resource=eq.accounts",
            json!({ "records_synced": 999, "last_sync_status": "failed" }),
        ),
        Request::put(
            "/rest/v1/vantage_sync_state?resource=eq.accounts",
            json!({ "resource": "accounts", "last_sync_status": "failed" }),
        ),
        Request::delete("/rest/v1/vantage_sync_state?resource=eq.funds"),
        Request::post(
            "/rest/v1/rpc/start_vantage_sync",
            json!({ "p_resource": "accounts" }),
        ),
        Request::post("/rest/v1/rpc/sweep_stuck_vantage_syncs", json!({})),
    ]
}

/// Checks the gateway's 401 with `message` (and a hint, and nothing of what was sent).
fn assert_refused(response: &Response, message: &str, what: &str) -> Result<()> {
    let body = response.json().unwrap_or(Value::Null);
    check(
        response.status() == 401 && body["message"] == message && body["hint"].is_string(),
        || format!("{what}: expected 401 {message:?}, got {response}"),
    )
}

/// How a bad key is refused.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// The gateway's 401, with this message.
    Unauthorized(&'static str),
    /// nginx's own 400, before the gateway's check runs: nginx takes `Authorization` as a
    /// header that may come once only.
    BadRequest,
}

/// Checks that `response` is `refusal`.
fn assert_refusal(response: &Response, refusal: Refusal, what: &str) -> Result<()> {
    match refusal {
        Refusal::Unauthorized(message) => assert_refused(response, message, what),
        Refusal::BadRequest => check(
            response.status() == 400 && response.body().contains("400 Bad Request"),
            || format!("{what}: expected nginx's 400, got {response}"),
        ),
    }
}

const NO_KEY: Refusal = Refusal::Unauthorized(NO_API_KEY);
const INVALID: Refusal = Refusal::Unauthorized(INVALID_API_KEY);
const FROM_A_BROWSER: Refusal = Refusal::Unauthorized(SECRET_KEY_IN_BROWSER);

/// A bad way to present an API key: what it is, its headers, its query string, and how it is
/// refused.
struct BadKey {
    what: &'static str,
    headers: Vec<(&'static str, String)>,
    query: String,
    refusal: Refusal,
}

fn bad(
    what: &'static str,
    headers: &[(&'static str, &str)],
    query: &str,
    refusal: Refusal,
) -> BadKey {
    BadKey {
        what,
        headers: headers
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned()))
            .collect(),
        query: query.to_owned(),
        refusal,
    }
}

/// No key, an empty, malformed or unknown one.
fn missing_and_unknown_keys(gw: &Gateway) -> Result<Vec<BadKey>> {
    let publishable = gw.publishable()?;
    let secret = gw.secret()?;
    let user = gw.user();
    let (unknown_publishable, unknown_secret) = (one_off(&publishable), one_off(&secret));
    let bearer = |token: &str| format!("Bearer {token}");
    let wrong_key_jwt = legacy_token(WRONG_SECRET, "service_role", 3600)?;
    let user_jwt = gw.stack.authenticated_jwt();
    Ok(vec![
        bad("no apikey", &[], "", NO_KEY),
        bad("an empty apikey", &[("apikey", "")], "", NO_KEY),
        bad("an empty ?apikey=", &[], "apikey=", NO_KEY),
        bad("only a user's JWT", &[("authorization", &user)], "", NO_KEY),
        bad(
            "a malformed apikey",
            &[("apikey", "not an API key")],
            "",
            INVALID,
        ),
        bad(
            "a malformed apikey with a user's JWT",
            &[("apikey", "sb_"), ("authorization", &user)],
            "",
            INVALID,
        ),
        bad(
            "an unknown publishable key",
            &[
                ("apikey", &unknown_publishable),
                ("authorization", &bearer(&unknown_publishable)),
            ],
            "",
            INVALID,
        ),
        bad(
            "an unknown secret key",
            &[
                ("apikey", &unknown_secret),
                ("authorization", &bearer(&unknown_secret)),
            ],
            "",
            INVALID,
        ),
        bad(
            "an unknown secret key in ?apikey=",
            &[],
            &format!("apikey={unknown_secret}"),
            INVALID,
        ),
        bad(
            "a legacy service-role JWT signed with a wrong key",
            &[
                ("apikey", &wrong_key_jwt),
                ("authorization", &bearer(&wrong_key_jwt)),
            ],
            "",
            INVALID,
        ),
        bad(
            "a user's JWT as the apikey",
            &[("apikey", user_jwt), ("authorization", &user)],
            "",
            INVALID,
        ),
    ])
}

/// Repeated keys and tokens, and the secret key from a browser.
fn repeated_keys_and_browsers(gw: &Gateway) -> Result<Vec<BadKey>> {
    let publishable = gw.publishable()?;
    let secret = gw.secret()?;
    let user = gw.user();
    let service_jwt = format!("Bearer {}", gw.stack.service_role_key());
    let bearer = |token: &str| format!("Bearer {token}");
    Ok(vec![
        bad(
            "the publishable key twice",
            &[("apikey", &publishable), ("apikey", &publishable)],
            "",
            INVALID,
        ),
        bad(
            "the publishable and the secret key",
            &[("apikey", &publishable), ("apikey", &secret)],
            "",
            INVALID,
        ),
        bad(
            "two Authorization headers",
            &[
                ("apikey", &publishable),
                ("authorization", &user),
                ("authorization", &service_jwt),
            ],
            "",
            Refusal::BadRequest,
        ),
        bad(
            "the secret key from a browser",
            &[
                ("apikey", &secret),
                ("authorization", &bearer(&secret)),
                ("user-agent", BROWSERS[0]),
            ],
            "",
            FROM_A_BROWSER,
        ),
        bad(
            "the secret key in ?apikey= from a browser",
            &[("user-agent", BROWSERS[1])],
            &format!("apikey={secret}"),
            FROM_A_BROWSER,
        ),
    ])
}

#[test]
fn bad_api_keys_get_the_gateways_401_and_change_nothing() -> Result<()> {
    let gw = Gateway::new()?;
    let publishable = gw.publishable()?;
    let secret = gw.secret()?;
    let mut cases = missing_and_unknown_keys(&gw)?;
    cases.extend(repeated_keys_and_browsers(&gw)?);
    let mut answered = 0;
    for BadKey {
        what,
        headers,
        query,
        refusal,
    } in &cases
    {
        gw.changing_nothing(what, || {
            for request in reads_and_writes() {
                let request = at_path(&request, with_query(request.path(), query));
                let response = gw.send(&request, headers)?;
                assert_refusal(&response, *refusal, &format!("{what}: {request}"))?;
                check(!response.contains(&secret), || {
                    format!("{what}: {request}: the answer holds the secret key")
                })?;
                answered += 1;
            }
            Ok(())
        })?;
    }
    // Header names in another case are the same header: `apikey` and `APIKEY` are two keys.
    let mixed = gw.changing_nothing("apikey and APIKEY", || {
        gw.raw(
            "POST",
            "/rest/v1/rpc/sweep_stuck_vantage_syncs",
            &[("apikey", &secret), ("APIKEY", &publishable)],
        )
    })?;
    assert_refused(&mixed, INVALID_API_KEY, "apikey and APIKEY")?;
    println!(
        "  {} bad keys × {} requests, and apikey + APIKEY: each refused as documented, nothing changed",
        cases.len(),
        answered / cases.len()
    );
    Ok(())
}

/// The resources a read answered (`select=resource`).
fn resources_of(response: &Response) -> Result<BTreeSet<String>> {
    let Value::Array(rows) = response.json()? else {
        return Err(Error::Check(format!("not an array: {response}")));
    };
    Ok(rows
        .iter()
        .filter_map(|row| row["resource"].as_str().map(str::to_owned))
        .collect())
}

#[test]
fn the_publishable_key_alone_reads_as_anon() -> Result<()> {
    let gw = Gateway::new()?;
    let publishable = gw.publishable()?;
    let direct = Rest::direct(&gw.stack)?;
    let legacy_anon = Credential::legacy(CredentialKind::Anon, &gw.stack)?;
    let state = "/vantage_sync_state?select=resource";
    let rule = ("/rpc/vantage_sync_health_name", json!({ "p_rank": 1 }));
    // As the widget sends it before sign-in (supabase-js puts the key in Authorization too),
    // and the key alone.
    for headers in [
        vec![
            ("apikey", publishable.clone()),
            ("authorization", format!("Bearer {publishable}")),
        ],
        vec![("apikey", publishable.clone())],
    ] {
        gw.changing_nothing("the publishable key", || {
            let through = gw.send(&Request::get(format!("/rest/v1{state}")), &headers)?;
            let legacy = direct.send(&Request::get(state), &legacy_anon)?;
            check(
                matches!(through.status(), 401 | 403) && through.status() == legacy.status(),
                || format!("anon must not read the state: {through} (the legacy anon key directly: {legacy})"),
            )?;
            // What anon may do: call the pure rules.
            let through = gw.send(
                &Request::post(format!("/rest/v1{}", rule.0), rule.1.clone()),
                &headers,
            )?;
            let legacy = direct.send(&Request::post(rule.0, rule.1.clone()), &legacy_anon)?;
            check(
                through.status() == 200 && through.body() == legacy.body(),
                || format!("anon calls the pure rules: {through} (directly: {legacy})"),
            )
        })?;
    }
    Ok(())
}

#[test]
fn the_publishable_key_with_a_user_jwt_reads_as_the_user() -> Result<()> {
    let gw = Gateway::new()?;
    let headers = [("apikey", gw.publishable()?), ("authorization", gw.user())];
    gw.changing_nothing("the publishable key with a user's JWT", || {
        let read = gw.send(
            &Request::get("/rest/v1/vantage_sync_state?select=resource"),
            &headers,
        )?;
        check(read.status() == 200, || format!("the user's read: {read}"))?;
        let held = gw.db.resources()?;
        check(resources_of(&read)? == held, || {
            format!("the user must read every row the database holds ({held:?}): {read}")
        })?;
        // Subscriptions (with their signing secrets) are the service's alone.
        let webhooks = gw.send(
            &Request::get("/rest/v1/vantage_sync_webhooks?select=*"),
            &headers,
        )?;
        check(matches!(webhooks.status(), 401 | 403), || {
            format!("a user must not read the webhooks: {webhooks}")
        })
    })
}

#[test]
fn the_secret_key_reads_as_the_service_role_from_a_server() -> Result<()> {
    let gw = Gateway::new()?;
    let secret = gw.secret()?;
    let held: i64 = gw
        .db
        .query_one("SELECT count(*) FROM public.vantage_sync_webhooks", &[])?
        .try_get(0)?;
    let mut user_agents: Vec<Option<&str>> = vec![None];
    user_agents.extend(SERVERS.map(Some));
    for agent in user_agents {
        let mut headers = vec![
            ("apikey", secret.clone()),
            ("authorization", format!("Bearer {secret}")),
        ];
        if let Some(agent) = agent {
            headers.push(("user-agent", agent.to_owned()));
        }
        gw.changing_nothing("the secret key", || {
            let webhooks = gw.send(
                &Request::get("/rest/v1/vantage_sync_webhooks?select=webhook_id"),
                &headers,
            )?;
            let rows = webhooks
                .json()
                .ok()
                .and_then(|v| v.as_array().map(Vec::len));
            check(
                webhooks.status() == 200 && rows.and_then(|n| i64::try_from(n).ok()) == Some(held),
                || format!("the service role reads the webhooks ({agent:?}): {webhooks}"),
            )
        })?;
    }
    Ok(())
}

#[test]
fn the_secret_key_from_a_browser_is_refused() -> Result<()> {
    let gw = Gateway::new()?;
    let secret = gw.secret()?;
    for agent in BROWSERS {
        let headers = [
            ("apikey", secret.clone()),
            ("authorization", format!("Bearer {secret}")),
            ("user-agent", agent.to_owned()),
        ];
        gw.changing_nothing(agent, || {
            for request in reads_and_writes() {
                let response = gw.send(&request, &headers)?;
                assert_refused(
                    &response,
                    SECRET_KEY_IN_BROWSER,
                    &format!("{agent}: {request}"),
                )?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

#[test]
fn a_secret_key_next_to_a_user_jwt_runs_as_the_user() -> Result<()> {
    let gw = Gateway::new()?;
    let user = gw.user();
    let with_secret = [("apikey", gw.secret()?), ("authorization", user.clone())];
    let with_publishable = [("apikey", gw.publishable()?), ("authorization", user)];
    gw.changing_nothing("the secret key with a user's JWT", || {
        // What the user reads, and only that.
        for path in [
            "/rest/v1/vantage_sync_state?select=resource&order=resource",
            "/rest/v1/vantage_sync_webhooks?select=*",
        ] {
            let request = Request::get(path);
            let secret = gw.send(&request, &with_secret)?;
            let publishable = gw.send(&request, &with_publishable)?;
            check(
                secret.status() == publishable.status() && secret.body() == publishable.body(),
                || format!("{path}: with the secret key {secret}, as the user {publishable}"),
            )?;
        }
        // No write: the user has none.
        for request in reads_and_writes().into_iter().skip(1) {
            let response = gw.send(&request, &with_secret)?;
            check(matches!(response.status(), 401 | 403), || {
                format!("{request} with the secret key and a user's JWT: {response}")
            })?;
        }
        Ok(())
    })
}

#[test]
fn an_api_key_as_the_bearer_is_not_a_session() -> Result<()> {
    // `Authorization: Bearer sb_…` is supabase-js's way of sending no session: the apikey
    // decides the role, so the secret key there lends the publishable key nothing.
    let gw = Gateway::new()?;
    let headers = [
        ("apikey", gw.publishable()?),
        ("authorization", format!("Bearer {}", gw.secret()?)),
    ];
    gw.changing_nothing("the secret key as the bearer", || {
        for request in reads_and_writes()
            .into_iter()
            .chain([Request::get("/rest/v1/vantage_sync_webhooks?select=*")])
        {
            let response = gw.send(&request, &headers)?;
            check(matches!(response.status(), 401 | 403), || {
                format!("{request} as anon with the secret key as bearer: {response}")
            })?;
        }
        Ok(())
    })
}

#[test]
fn legacy_keys_pass_the_gateway_as_they_are() -> Result<()> {
    let gw = Gateway::new()?;
    let anon = [("apikey", gw.stack.anon_key().to_owned())];
    let service = [("apikey", gw.stack.service_role_key().to_owned())];
    gw.changing_nothing("the legacy keys", || {
        let webhooks = Request::get("/rest/v1/vantage_sync_webhooks?select=webhook_id");
        let as_anon = gw.send(&webhooks, &anon)?;
        check(matches!(as_anon.status(), 401 | 403), || {
            format!("the legacy anon key reads as anon: {as_anon}")
        })?;
        let as_service = gw.send(&webhooks, &service)?;
        check(as_service.status() == 200, || {
            format!("the legacy service-role key reads as the service role: {as_service}")
        })?;
        let rule = gw.send(
            &Request::post(
                "/rest/v1/rpc/vantage_sync_health_name",
                json!({ "p_rank": 1 }),
            ),
            &anon,
        )?;
        check(rule.status() == 200, || {
            format!("the legacy anon key calls the pure rules: {rule}")
        })
    })
}

#[test]
fn the_jwks_route_holds_exactly_the_public_signing_key() -> Result<()> {
    let gw = Gateway::new()?;
    let file = gw.stack.jwks_file().to_path_buf();
    let text = std::fs::read_to_string(&file).map_err(Error::io(&file))?;
    let full: Value = serde_json::from_str(&text)?;
    let keys = full["keys"].as_array().cloned().unwrap_or_default();
    let secret_keys: Vec<&Value> = keys.iter().filter(|k| k["kty"] == "oct").collect();
    // The file PostgREST reads holds the legacy secret: the route must leave it out.
    check(!secret_keys.is_empty(), || {
        format!(
            "{} holds no oct key: the test proves nothing",
            file.display()
        )
    })?;
    let public: Vec<Value> = keys.iter().filter(|k| k["kty"] == "EC").cloned().collect();
    check(public.len() == 1 && public[0].get("d").is_none(), || {
        format!("{} should hold one public EC key", file.display())
    })?;
    let response = gw.send(&Request::get("/auth/v1/.well-known/jwks.json"), &[])?;
    check(response.status() == 200, || {
        format!("the JWKS route: {response}")
    })?;
    let served = response.json()?;
    check(served == json!({ "keys": public }), || {
        format!("the JWKS route must serve exactly the public EC key: {response}")
    })?;
    for key in served["keys"].as_array().into_iter().flatten() {
        for private in ["d", "k", "p", "q", "dp", "dq", "qi"] {
            check(key.get(private).is_none(), || {
                format!("the served key has a private member {private:?}: {response}")
            })?;
        }
    }
    for oct in secret_keys {
        let k = oct["k"].as_str().unwrap_or_default();
        check(!k.is_empty() && !response.contains(k), || {
            "the JWKS route serves the legacy secret".to_owned()
        })?;
    }
    check(!response.contains(gw.stack.jwt_secret()), || {
        "the JWKS route serves the JWT secret".to_owned()
    })
}

#[test]
fn paths_outside_the_three_prefixes_are_404() -> Result<()> {
    let gw = Gateway::new()?;
    let secret = gw.secret()?;
    // Even the secret key opens nothing there.
    let headers = [
        ("apikey", secret.clone()),
        ("authorization", format!("Bearer {secret}")),
    ];
    gw.changing_nothing("paths outside the prefixes", || {
        for path in PATHS_OUTSIDE_THE_GATEWAY {
            let body = json!({ "resource": "accounts", "p_resource": "accounts" });
            for request in [
                Request::get(path),
                Request::post(path, body.clone()),
                Request::patch(path, body.clone()),
                Request::put(path, body),
                Request::delete(path),
            ] {
                let response = gw.send(&request, &headers)?;
                check(
                    response.status() == 404 && response.message().as_deref() == Some(NO_ROUTE),
                    || format!("{request}: expected 404 {NO_ROUTE:?}, got {response}"),
                )?;
            }
        }
        Ok(())
    })
}

#[test]
fn a_prefix_without_its_slash_redirects_to_it() -> Result<()> {
    // nginx's answer for a proxied prefix asked without its slash: a redirect to the prefix,
    // whose own checks then apply. Nothing is served from the bare name.
    let gw = Gateway::new()?;
    for (path, to) in [
        ("/rest/v1", "/rest/v1/"),
        ("/functions/v1", "/functions/v1/"),
    ] {
        let response = gw.raw("GET", path, &[])?;
        let location = response.header("location").unwrap_or_default();
        check(response.status() == 301 && location.ends_with(to), || {
            format!("GET {path}: {response} (Location {location:?})")
        })?;
    }
    Ok(())
}

/// `..` paths that come back into `/rest/v1/` from elsewhere, the dots plain or encoded (nginx
/// resolves both before it picks a route), each with the plain path it resolves to.
const INTO_REST: [(&str, &str); 8] = [
    (
        "/functions/v1/../../rest/v1/vantage_sync_webhooks?select=webhook_id",
        "/rest/v1/vantage_sync_webhooks?select=webhook_id",
    ),
    (
        "/functions/v1/vantage-sync/../../../rest/v1/vantage_sync_webhooks?select=webhook_id",
        "/rest/v1/vantage_sync_webhooks?select=webhook_id",
    ),
    (
        "/functions/v1/vantage-sync/%2e%2e/%2e%2e/%2e%2e/rest/v1/vantage_sync_webhooks?select=webhook_id",
        "/rest/v1/vantage_sync_webhooks?select=webhook_id",
    ),
    (
        "/auth/v1/.well-known/../../../rest/v1/vantage_sync_webhooks?select=webhook_id",
        "/rest/v1/vantage_sync_webhooks?select=webhook_id",
    ),
    (
        "/auth/v1/.well-known/%2E%2E/%2E%2E/%2E%2E/rest/v1/vantage_sync_webhooks?select=webhook_id",
        "/rest/v1/vantage_sync_webhooks?select=webhook_id",
    ),
    (
        "/x/../rest/v1/vantage_sync_webhooks?select=webhook_id",
        "/rest/v1/vantage_sync_webhooks?select=webhook_id",
    ),
    (
        "/rest/v1/../../rest/v1/vantage_sync_webhooks?select=webhook_id",
        "/rest/v1/vantage_sync_webhooks?select=webhook_id",
    ),
    (
        "/rest/v1/..%2F..%2Frest/v1/vantage_sync_webhooks?select=webhook_id",
        "/rest/v1/vantage_sync_webhooks?select=webhook_id",
    ),
];

#[test]
fn dot_dot_paths_into_rest_meet_the_key_check() -> Result<()> {
    let gw = Gateway::new()?;
    let publishable = gw.publishable()?;
    let secret = gw.secret()?;
    let unknown = one_off(&secret);
    gw.changing_nothing("`..` paths into /rest/v1", || {
        for (target, plain) in INTO_REST {
            let keyless = gw.raw("GET", target, &[])?;
            assert_refused(&keyless, NO_API_KEY, &format!("GET {target} without a key"))?;
            let unknown = gw.raw("GET", target, &[("apikey", &unknown)])?;
            assert_refused(
                &unknown,
                INVALID_API_KEY,
                &format!("GET {target}, an unknown key"),
            )?;
            for method in ["GET", "DELETE"] {
                let anon = gw.raw(method, target, &[("apikey", &publishable)])?;
                check(matches!(anon.status(), 401 | 403), || {
                    format!("{method} {target} with the publishable key must stay anon: {anon}")
                })?;
            }
            // With a key that may read it, the answer is the plain path's: the same place.
            let dotted = gw.raw("GET", target, &[("apikey", &secret)])?;
            let plain = gw.raw("GET", plain, &[("apikey", &secret)])?;
            check(
                dotted.status() == 200 && dotted.body() == plain.body(),
                || format!("GET {target} with the secret key: {dotted}; plainly: {plain}"),
            )?;
        }
        Ok(())
    })
}

#[test]
fn dot_dot_paths_reach_no_route_of_the_edge() -> Result<()> {
    // nginx routes these to /functions/v1/ once resolved, but passes the path on as sent: the
    // edge knows no such route, whoever asks. Nothing gets to the edge's routes by `..`.
    let gw = Gateway::new()?;
    let writer = format!("Bearer {}", gw.stack.setting("WRITER_TOKEN")?);
    let user = gw.user();
    gw.changing_nothing("`..` paths into /functions/v1", || {
        for target in [
            "/rest/v1/../../functions/v1/vantage-sync/health",
            "/rest/v1/%2e%2e/%2e%2e/functions/v1/vantage-sync/health",
            "/rest/v1/%2E%2E/%2E%2E/functions/v1/vantage-sync/sweep",
            "/rest/v1/..%2f..%2ffunctions/v1/vantage-sync/start",
            "/functions/v1/vantage-sync/x/../health",
            "/functions/v1/vantage-sync/%2e%2e/vantage-sync/abort",
        ] {
            for authorization in [None, Some(writer.as_str()), Some(user.as_str())] {
                for method in ["GET", "POST"] {
                    let mut headers = vec![("content-type", "application/json")];
                    headers.extend(authorization.map(|a| ("authorization", a)));
                    let body = (method == "POST").then_some(r#"{"resource":"accounts"}"#);
                    let response = send_raw(&gw.origin, method, target, &headers, body)?;
                    let code = response.json().ok().map(|b| b["error"]["code"].clone());
                    check(
                        response.status() == 404 && code == Some(json!("not_found")),
                        || format!("{method} {target}: expected the edge's 404, got {response}"),
                    )?;
                }
            }
        }
        let plain = gw.raw(
            "GET",
            "/functions/v1/vantage-sync/health",
            &[("authorization", &writer)],
        )?;
        check(plain.status() == 200, || {
            format!("the plain health route with the writer token: {plain}")
        })
    })
}

#[test]
fn dot_dot_paths_within_a_prefix_and_above_the_root_go_nowhere() -> Result<()> {
    let gw = Gateway::new()?;
    let secret = gw.secret()?;
    let headers = [("apikey", secret.as_str())];
    gw.changing_nothing("`..` paths that go nowhere", || {
        // One `..` leaves only the version: /rest/functions/…, /functions/rest/…: no route.
        for target in [
            "/rest/v1/../functions/v1/vantage-sync/health",
            "/rest/v1/%2e%2e/functions/v1/vantage-sync/sweep",
            "/functions/v1/../rest/v1/vantage_sync_webhooks",
            "/auth/v1/.well-known/../../rest/v1/vantage_sync_webhooks",
        ] {
            let response = gw.raw("GET", target, &headers)?;
            check(
                response.status() == 404 && response.message().as_deref() == Some(NO_ROUTE),
                || format!("GET {target}: expected 404 {NO_ROUTE:?}, got {response}"),
            )?;
        }
        // Above the root: nginx refuses the request itself.
        for target in [
            "/../rest/v1/vantage_sync_webhooks",
            "/%2e%2e/rest/v1/vantage_sync_webhooks",
            "/rest/v1/../../../etc/passwd",
            "/rest/v1/%2e%2e/%2e%2e/%2e%2e/rest/v1/vantage_sync_webhooks",
            "/functions/v1/../../../rest/v1/vantage_sync_webhooks",
            "/auth/v1/.well-known/../../../../auth/v1/.well-known/jwks.json",
        ] {
            for method in ["GET", "DELETE"] {
                let response = gw.raw(method, target, &headers)?;
                check(
                    response.status() == 400 && response.body().contains("400 Bad Request"),
                    || format!("{method} {target}: expected nginx's 400, got {response}"),
                )?;
            }
        }
        Ok(())
    })
}

#[test]
fn the_edge_health_route_works_through_the_gateway() -> Result<()> {
    let gw = Gateway::new()?;
    let edge = Edge::load(&gw.stack)?;
    let through = edge.through_gateway(&gw.stack)?;
    check(through.base_url().starts_with(&gw.origin), || {
        format!("EDGE_URL is not under SUPABASE_URL: {}", through.base_url())
    })?;
    gw.changing_nothing("the edge's health route", || {
        let answer = through.get("health", Some(&edge.writer_auth()))?;
        let direct = edge.get("health", Some(&edge.writer_auth()))?;
        check(
            answer.status == 200 && answer.json().is_object() && direct.status == 200,
            || format!("health through the gateway: {answer} (directly: {direct})"),
        )?;
        // No API key needed on /functions/v1, and none accepted instead of the function's own
        // credential: the function answers for itself.
        let keyless = through.get("health", None)?;
        let direct = edge.get("health", None)?;
        check(
            keyless.status == 401 && keyless.code() == direct.code(),
            || {
                format!(
                    "health without a token through the gateway: {keyless} (directly: {direct})"
                )
            },
        )?;
        let secret = format!("Bearer {}", gw.secret()?);
        let with_secret = through.get("health", Some(&secret))?;
        check(with_secret.status == 401, || {
            format!("health with the secret key as bearer: {with_secret}")
        })
    })
}

#[test]
fn a_cors_preflight_to_rest_is_answered_without_a_key() -> Result<()> {
    let gw = Gateway::new()?;
    let http = local_client(Duration::from_secs(15))?;
    let origin = "https://admin.example.com";
    for (path, method) in [
        ("/rest/v1/vantage_sync_health?select=*", "GET"),
        ("/rest/v1/vantage_sync_state?select=resource", "GET"),
        ("/rest/v1/rpc/vantage_sync_health_name", "POST"),
    ] {
        let url = format!("{}{path}", gw.origin);
        let response = http
            .request(reqwest::Method::OPTIONS, &url)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", method)
            .header("Access-Control-Request-Headers", "apikey, authorization")
            .send()
            .map_err(|source| Error::Http {
                what: format!("OPTIONS {path}"),
                source,
            })?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_ascii_lowercase()
        };
        let allow_origin = header("access-control-allow-origin");
        let allow_headers = header("access-control-allow-headers");
        let allow_methods = header("access-control-allow-methods");
        check(
            matches!(status, 200 | 204)
                && (allow_origin == origin || allow_origin == "*")
                && allow_headers.contains("apikey")
                && allow_headers.contains("authorization")
                && allow_methods.contains(&method.to_ascii_lowercase()),
            || {
                format!(
                    "OPTIONS {path}: {status}, allow-origin {allow_origin:?}, allow-headers \
                     {allow_headers:?}, allow-methods {allow_methods:?}"
                )
            },
        )?;
    }
    Ok(())
}

/// One answer of the gateway as it came over the wire: status, headers (lower-case names) and
/// the body's bytes, still encoded.
struct Encoded {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

impl Encoded {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The body decoded as its `Content-Encoding` says (identity when there is none).
    fn decoded(&self, what: &str) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let read = match self.header("content-encoding") {
            "" => {
                out.clone_from(&self.body);
                Ok(0)
            }
            "gzip" => flate2::read::GzDecoder::new(self.body.as_slice()).read_to_end(&mut out),
            "br" => brotli_decompressor::Decompressor::new(self.body.as_slice(), 4096)
                .read_to_end(&mut out),
            other => return Err(Error::Check(format!("{what}: unknown encoding {other:?}"))),
        };
        read.map_err(|e| Error::Check(format!("{what}: the body does not decode: {e}")))?;
        Ok(out)
    }
}

/// `GET url` with `headers` and, when given, `Accept-Encoding: accept` (the client here never
/// adds one of its own, nor decodes anything).
fn get_encoded(
    http: &reqwest::blocking::Client,
    url: &str,
    headers: &[(&str, &str)],
    accept: Option<&str>,
) -> Result<Encoded> {
    let what = format!("GET {url} (Accept-Encoding {accept:?})");
    let mut request = http.get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(accept) = accept {
        request = request.header("accept-encoding", accept);
    }
    let http_error = |source| Error::Http {
        what: what.clone(),
        source,
    };
    let response = request.send().map_err(http_error)?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().map_err(http_error)?.to_vec();
    Ok(Encoded {
        status,
        headers,
        body,
    })
}

/// JSON without the members that change from one second to the next (`running_seconds`), so
/// that two reads of the same rows compare equal.
fn without_clock(mut value: Value) -> Value {
    match &mut value {
        Value::Object(map) => {
            map.remove("running_seconds");
            for member in map.values_mut() {
                *member = without_clock(member.take());
            }
        }
        Value::Array(items) => {
            for item in items {
                *item = without_clock(item.take());
            }
        }
        _ => {}
    }
    value
}

/// Reads `url` without `Accept-Encoding`, then with each way of asking for compression: each
/// compressed answer must be the encoding asked for, keep the identity answer's `Content-Type`
/// and `Content-Range`, carry `Vary: Accept-Encoding`, be smaller, and decode to the same JSON.
fn check_encodings(
    http: &reqwest::blocking::Client,
    what: &str,
    url: &str,
    headers: &[(&str, &str)],
) -> Result<()> {
    let identity = get_encoded(http, url, headers, None)?;
    check(
        identity.status == 200
            && identity.header("content-encoding").is_empty()
            && identity.header("vary").contains("Accept-Encoding")
            && identity.body.len() >= 100,
        || {
            format!(
                "{what} without Accept-Encoding: {} {:?}, Vary {:?} ({} bytes)",
                identity.status,
                identity.header("content-encoding"),
                identity.header("vary"),
                identity.body.len()
            )
        },
    )?;
    let expected = without_clock(serde_json::from_slice(&identity.body)?);
    for (accept, encoding) in [
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, deflate, br, zstd", "br"),
        ("br;q=0, gzip", "gzip"),
    ] {
        let answer = get_encoded(http, url, headers, Some(accept))?;
        let context = format!("{what} with Accept-Encoding {accept:?}");
        check(
            answer.status == 200
                && answer.header("content-encoding") == encoding
                && answer.header("vary").contains("Accept-Encoding")
                && answer.header("content-type") == identity.header("content-type")
                && answer.header("content-range") == identity.header("content-range"),
            || {
                format!(
                    "{context}: {} with Content-Encoding {:?} (expected {encoding:?}), Vary {:?}, \
                     Content-Type {:?}, Content-Range {:?} (identity: {:?}, {:?})",
                    answer.status,
                    answer.header("content-encoding"),
                    answer.header("vary"),
                    answer.header("content-type"),
                    answer.header("content-range"),
                    identity.header("content-type"),
                    identity.header("content-range"),
                )
            },
        )?;
        let decoded = answer.decoded(&context)?;
        // A short body of random key material may not shrink; a page of rows always does.
        check(
            decoded.len() < 1000 || decoded.len() > answer.body.len(),
            || {
                format!(
                    "{context}: {} bytes on the wire for {} decoded",
                    answer.body.len(),
                    decoded.len()
                )
            },
        )?;
        check(
            without_clock(serde_json::from_slice(&decoded)?) == expected,
            || format!("{context}: decodes to other JSON than the identity answer"),
        )?;
    }
    Ok(())
}

#[test]
fn json_answers_are_brotli_or_gzip_when_asked_and_decode_to_the_identity_answer() -> Result<()> {
    let gw = Gateway::new()?;
    let edge = Edge::load(&gw.stack)?;
    let http = local_client(Duration::from_secs(30))?;
    let secret = gw.secret()?;
    let apikey = [("apikey", secret.as_str())];
    let writer = edge.writer_auth();
    let writer = [("authorization", writer.as_str())];
    let one: String = gw
        .db
        .query_one(
            "SELECT resource FROM public.vantage_sync_state ORDER BY resource LIMIT 1",
            &[],
        )?
        .try_get(0)?;
    let rows = "/rest/v1/vantage_sync_state?select=resource,last_sync_status,records_synced,created_at&order=resource";
    let url = |path: &str| format!("{}{path}", gw.origin);
    check_encodings(&http, "PostgREST's rows", &url(rows), &apikey)?;
    check_encodings(
        &http,
        "PostgREST's single object",
        &url(&format!(
            "/rest/v1/vantage_sync_state?select=*&resource=eq.{one}"
        )),
        &[
            ("apikey", secret.as_str()),
            ("accept", "application/vnd.pgrst.object+json"),
        ],
    )?;
    let health = "/functions/v1/vantage-sync/health";
    check_encodings(&http, "the edge's health", &url(health), &writer)?;
    check_encodings(
        &http,
        "a page of the edge's health",
        &url(&format!("{health}?limit=3")),
        &writer,
    )?;
    check_encodings(
        &http,
        "the JWKS",
        &url("/auth/v1/.well-known/jwks.json"),
        &[],
    )?;
    // PostgREST's list answers keep their Content-Range through the compressor.
    let listed = get_encoded(&http, &url(rows), &apikey, Some("gzip"))?;
    check(listed.header("content-range").starts_with("0-"), || {
        format!(
            "PostgREST's rows, gzip: Content-Range {:?}",
            listed.header("content-range")
        )
    })
}

#[test]
fn metrics_text_is_compressed_for_prometheus_and_short_answers_are_not() -> Result<()> {
    let gw = Gateway::new()?;
    let edge = Edge::load(&gw.stack)?;
    let http = local_client(Duration::from_secs(30))?;
    let writer = edge.writer_auth();
    let url = format!("{}/functions/v1/vantage-sync/metrics", gw.origin);
    // Prometheus's own scrape headers.
    let accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    for (accept_type, media) in [
        (accept, "application/openmetrics-text"),
        ("*/*", "text/plain"),
    ] {
        let answer = get_encoded(
            &http,
            &url,
            &[("authorization", &writer), ("accept", accept_type)],
            Some("gzip"),
        )?;
        let context = format!("metrics as {media}");
        check(
            answer.status == 200
                && answer.header("content-encoding") == "gzip"
                && answer.header("content-type").starts_with(media),
            || {
                format!(
                    "{context}: {} {:?} {:?}",
                    answer.status,
                    answer.header("content-encoding"),
                    answer.header("content-type")
                )
            },
        )?;
        let text = String::from_utf8(answer.decoded(&context)?)
            .map_err(|e| Error::Check(format!("{context}: not UTF-8 once decoded: {e}")))?;
        check(text.contains("# TYPE vantage_sync_"), || {
            format!("{context}: no metric families in {text:.200}")
        })?;
    }
    // Under 100 bytes (the gateway's own 404) nothing is gained: sent as it is.
    let short = get_encoded(
        &http,
        &format!("{}/nowhere", gw.origin),
        &[],
        Some("gzip, br"),
    )?;
    check(
        short.status == 404
            && short.header("content-encoding").is_empty()
            && short.body.len() < 100,
        || {
            format!(
                "a short answer: {} {:?}, {} bytes",
                short.status,
                short.header("content-encoding"),
                short.body.len()
            )
        },
    )
}
