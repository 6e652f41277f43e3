//! The attack matrix, with a count per cell: every credential an attacker can hold × every
//! table, view and function PostgREST exposes (found in the live catalog, so a new object is
//! attacked the day it is added) × every verb, through the stack's gateway with the publishable
//! key; every bad API key the gateway must refuse × the gateway's paths (the tables, views and
//! state functions under `/rest/v1`, paths outside its three prefixes, `..` paths) × every verb;
//! and the same credentials plus a revoked writer token and the API keys × every route of the
//! edge function × every verb.
//!
//! An attempt that should fail must be answered 401, 403 or 404 (405 for a verb the endpoint
//! does not offer at all) and must change nothing in any table. The only attempts allowed to
//! succeed are a signed-in user's reads, listed below, and the writer token's own routes; they
//! are the controls that prove the other refusals come from the credential.
//!
//! Run by `cargo xtask test reliability` on a fresh stack (it starts edge servers of its own).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use vantage_sync_tests::edge::{Edge, EdgeProcess, sha256_hex, stack_server_env};
use vantage_sync_tests::figures::{Figures, Kind};
use vantage_sync_tests::rest::{PATHS_OUTSIDE_THE_GATEWAY, send_raw};
use vantage_sync_tests::tokens::{WRONG_SECRET, legacy_token, one_off};
use vantage_sync_tests::{
    Credential, CredentialKind, Db, Error, Method, Request, Response, Rest, Result, Stack,
};

/// Held by each matrix for its whole run: a matrix checks that no table changed, so the two
/// must not run at the same time (the edge's writes its controls into the database).
static ONE_MATRIX_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What a signed-in user may read: the dashboard's data.
const READABLE_BY_USERS: [&str; 4] = [
    "vantage_sync_state",
    "vantage_sync_schedules",
    "vantage_sync_runs",
    "vantage_sync_health",
];

/// What a signed-in user may call besides the pure rules: a resource's effective schedule and
/// retry policy (read from `vantage_sync_schedules`, which users may read), and the widget's
/// refresh, `vantage_sync_health_changes` (STABLE, invoker: it reads the health view as the
/// caller, so RLS decides what it answers).
const CALLABLE_BY_USERS: [&str; 3] = [
    "vantage_sync_effective_schedule",
    "vantage_sync_retry_policy",
    "vantage_sync_health_changes",
];

/// What anybody with the project's key may call: the pure health rules, which read no table
/// (see migration 20261125020100 for why a REVOKE could not hold for them).
const CALLABLE_BY_ANYONE: [&str; 4] = [
    "vantage_sync_default_schedule",
    "vantage_sync_health_rank_of",
    "vantage_sync_health_name",
    "vantage_sync_alerts_of",
];

/// A table or view in the exposed schema, with a row a writer would send.
struct Relation {
    name: String,
    is_table: bool,
    /// The primary key's columns and a value for each (for PUT).
    key: Vec<(String, Value)>,
    /// A plausible row: every column that needs a value.
    row: serde_json::Map<String, Value>,
}

/// A function in the exposed schema, with arguments it would accept.
struct Function {
    name: String,
    args: serde_json::Map<String, Value>,
}

/// A value of SQL type `ty` for a column or argument called `name`: aimed at real rows
/// (`accounts`), well-formed so that a refusal comes from the credential, not the shape.
fn sample(name: &str, ty: &str) -> Value {
    match ty {
        "text" | "character varying" if name.contains("resource") || name == "depends_on" => {
            json!("accounts")
        }
        "text" | "character varying" | "name" => json!(format!("attack_{name}")),
        "uuid" => json!("00000000-0000-4000-8000-00000000a77a"),
        "integer" | "bigint" | "smallint" | "numeric" | "double precision" | "real" => json!(1),
        "jsonb" | "json" if name.contains("error") => {
            json!([{ "code": "ATTACK", "message": "attack" }])
        }
        "jsonb" | "json" => json!({}),
        "timestamp with time zone" | "timestamp without time zone" => {
            json!("2026-01-01T00:00:00Z")
        }
        "interval" => json!("01:00:00"),
        "boolean" => json!(true),
        t if t.ends_with("[]") => json!([]),
        _ => Value::Null,
    }
}

fn relations(db: &Db) -> Result<Vec<Relation>> {
    let rows = db.query(
        "SELECT c.relname::text, c.relkind IN ('r', 'p'),
                coalesce((SELECT array_agg(a.attname::text || ':' || format_type(a.atttypid, NULL) ORDER BY a.attnum)
                            FROM pg_index i JOIN pg_attribute a
                              ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                           WHERE i.indrelid = c.oid AND i.indisprimary), '{}'),
                coalesce((SELECT array_agg(a.attname::text ORDER BY a.attnum)
                            FROM pg_attribute a
                           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                             AND a.attgenerated = '' AND a.attidentity = ''
                             AND (a.attnotnull AND NOT a.atthasdef OR a.attname = 'resource')), '{}'),
                coalesce((SELECT array_agg(format_type(a.atttypid, NULL) ORDER BY a.attnum)
                            FROM pg_attribute a
                           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                             AND a.attgenerated = '' AND a.attidentity = ''
                             AND (a.attnotnull AND NOT a.atthasdef OR a.attname = 'resource')), '{}')
           FROM pg_class c
          WHERE c.relnamespace = 'public'::regnamespace
            AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
          ORDER BY 1",
        &[],
    )?;
    rows.iter()
        .map(|row| {
            let columns: Vec<String> = row.try_get(3)?;
            let types: Vec<String> = row.try_get(4)?;
            let row_values = columns
                .iter()
                .zip(&types)
                .map(|(column, ty)| (column.clone(), sample(column, ty)))
                .collect();
            let key: Vec<String> = row.try_get(2)?;
            Ok(Relation {
                name: row.try_get(0)?,
                is_table: row.try_get(1)?,
                key: key
                    .iter()
                    .filter_map(|column| column.split_once(':'))
                    .map(|(column, ty)| (column.to_owned(), sample(column, ty)))
                    .collect(),
                row: row_values,
            })
        })
        .collect()
}

/// Every function PostgREST can call; with `state_only`, only those that can change state
/// (volatile: the state functions, the sweeps, the delivery functions).
fn functions(db: &Db, state_only: bool) -> Result<Vec<Function>> {
    // The arguments of every function PostgREST can call (not triggers, not an extension's).
    let rows = db.query(
        "SELECT p.proname::text,
                coalesce(p.proargnames[1:p.pronargs], '{}')::text[],
                array(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) AS t)
           FROM pg_proc p
          WHERE p.pronamespace = 'public'::regnamespace AND p.prokind = 'f'
            AND p.prorettype <> 'trigger'::regtype
            AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
            AND (NOT $1 OR p.provolatile = 'v')
          ORDER BY 1",
        &[&state_only],
    )?;
    rows.iter()
        .map(|row| {
            let names: Vec<String> = row.try_get(1)?;
            let types: Vec<String> = row.try_get(2)?;
            Ok(Function {
                name: row.try_get(0)?,
                args: names
                    .iter()
                    .zip(&types)
                    .map(|(name, ty)| (name.clone(), sample(name, ty)))
                    .collect(),
            })
        })
        .collect()
}

/// Every request to `relation`, one per verb; a row inserted is named after `tag`.
fn relation_requests(relation: &Relation, tag: &str) -> Vec<Request> {
    let path = format!("/{}", relation.name);
    let mut row = relation.row.clone();
    if row.contains_key("resource") {
        row.insert("resource".into(), json!(format!("it_attack_{tag}")));
    }
    let mut requests = vec![
        Request::get(format!("{path}?select=*&limit=5")),
        Request::post(&path, Value::Object(row.clone())),
        // Without a filter: every row.
        Request::patch(&path, Value::Object(relation.row.clone())),
        Request::delete(&path),
    ];
    if relation.is_table && !relation.key.is_empty() {
        // PUT names the whole primary key in the filter and the body, with the same values.
        let mut put_row = relation.row.clone();
        let filter: Vec<String> = relation
            .key
            .iter()
            .map(|(column, value)| {
                let value = put_row
                    .get(column)
                    .cloned()
                    .unwrap_or_else(|| value.clone());
                put_row.insert(column.clone(), value.clone());
                let text = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned);
                format!("{column}=eq.{text}")
            })
            .collect();
        requests.push(Request::put(
            format!("{path}?{}", filter.join("&")),
            Value::Object(put_row),
        ));
    }
    requests
}

/// Every request to `function`: `POST` with a JSON body and `GET` with a query string.
fn function_requests(function: &Function) -> Vec<Request> {
    let query: Vec<String> = function
        .args
        .iter()
        .map(|(name, value)| {
            let text = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            format!("{name}={}", url_escape(&text))
        })
        .collect();
    vec![
        Request::rpc(&function.name, Value::Object(function.args.clone())),
        Request::get(format!("/rpc/{}?{}", function.name, query.join("&"))),
    ]
}

fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One cell of the matrix: a credential against one object.
#[derive(Default)]
struct Cell {
    attempts: u64,
    allowed: u64,
    let_in: u64,
}

/// The counts of the matrix, by credential and object.
#[derive(Default)]
struct Matrix {
    cells: BTreeMap<(String, String), Cell>,
    problems: Vec<String>,
}

impl Matrix {
    fn attempts(&self) -> u64 {
        self.cells.values().map(|c| c.attempts).sum()
    }

    fn let_in(&self) -> u64 {
        self.cells.values().map(|c| c.let_in).sum()
    }

    fn allowed(&self) -> u64 {
        self.cells.values().map(|c| c.allowed).sum()
    }

    /// Counts one attempt against what is expected of it.
    fn count(
        &mut self,
        credential: &str,
        object: &str,
        attempt: &Attempt,
        expected: Expected,
        what: impl FnOnce() -> String,
    ) {
        let cell = self
            .cells
            .entry((credential.to_owned(), object.to_owned()))
            .or_default();
        cell.attempts += 1;
        let succeeded = (200..300).contains(&attempt.status);
        if expected != Expected::Refused {
            if succeeded && (expected == Expected::Write || !attempt.changed) {
                cell.allowed += 1;
            } else {
                self.problems.push(format!(
                    "{credential} → {object}: the control should succeed ({expected:?}): {} (changed: {})",
                    what(),
                    attempt.changed
                ));
            }
            return;
        }
        if succeeded || attempt.changed {
            cell.let_in += 1;
            self.problems.push(format!(
                "{credential} → {object}: LET IN: {} (changed: {})",
                what(),
                attempt.changed
            ));
        } else if let Some(problem) = &attempt.refusal_problem {
            self.problems
                .push(format!("{credential} → {object}: {problem}: {}", what()));
        }
    }

    fn print(&self, title: &str) {
        println!("  {title}: attempts / let in (allowed controls) per credential × object");
        for ((credential, object), cell) in &self.cells {
            let allowed = if cell.allowed > 0 {
                format!(" ({} allowed)", cell.allowed)
            } else {
                String::new()
            };
            println!(
                "    {credential:<22} {object:<34} {:>3} / {}{allowed}",
                cell.attempts, cell.let_in
            );
        }
    }
}

/// What an attempt should do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    /// Be refused and change nothing (every attempt but the controls).
    Refused,
    /// Succeed and change nothing: a signed-in user's read.
    Read,
    /// Succeed and change the sync state: a sync admin's abort.
    Write,
}

/// How an attempt ended.
struct Attempt {
    status: u16,
    changed: bool,
    /// Why a refusal is not good enough (wrong status, or refused as malformed).
    refusal_problem: Option<String>,
}

/// Why PostgREST's refusal of an attempt is not good enough, if it is not.
fn postgrest_refusal_problem(kind: CredentialKind, response: &Response) -> Option<String> {
    let status = response.status();
    if (200..300).contains(&status) {
        return None;
    }
    let allowed =
        matches!(status, 401 | 403 | 404 | 405) || (status == 400 && kind.is_invalid_token());
    if !allowed {
        return Some(format!("expected 401/403/404/405, got {response}"));
    }
    let code = response
        .json()
        .ok()
        .and_then(|body| body.get("code").and_then(Value::as_str).map(str::to_owned));
    // PGRST1xx (bad request) and PGRST2xx (no such table, column or function) mean the request
    // itself was wrong: such a refusal proves nothing about the credential. 405 (a verb the
    // endpoint does not offer) is decided before any credential is looked at: it is accepted.
    match code {
        Some(code)
            if status != 405 && (code.starts_with("PGRST1") || code.starts_with("PGRST2")) =>
        {
            Some(format!(
                "refused as a malformed request, not for the credential: {response}"
            ))
        }
        _ => None,
    }
}

#[test]
#[ignore = "attacks the stack and starts edge servers: run by `cargo xtask test reliability`"]
fn nobody_gets_into_postgrest() -> Result<()> {
    let _alone = ONE_MATRIX_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let stack = Stack::load()?;
    // Through the gateway, with the publishable key: what an attacker holds on Supabase.
    let rest = Rest::new(&stack)?;
    let db = Db::connect(&stack)?;
    let relations = relations(&db)?;
    let functions = functions(&db, false)?;
    let mut matrix = Matrix::default();
    for kind in CredentialKind::CANNOT_WRITE {
        let credential = Credential::new(kind, &stack)?;
        let user = matches!(
            kind,
            CredentialKind::Authenticated | CredentialKind::AuthenticatedLegacy
        );
        // The gateway refuses a request without a key, and PostgREST an invalid token, before
        // any query: only these reach a function.
        let valid = user || kind == CredentialKind::Anon;
        let targets = relations
            .iter()
            .map(|r| (r.name.as_str(), relation_requests(r, kind.name())))
            .chain(
                functions
                    .iter()
                    .map(|f| (f.name.as_str(), function_requests(f))),
            );
        for (object, requests) in targets {
            for request in requests {
                let before = db.checksum_all_tables()?;
                let response = rest.send(&request, &credential)?;
                let changed = db.checksum_all_tables()? != before;
                let is_read = request.method() == Method::Get;
                let readable = (is_read && READABLE_BY_USERS.contains(&object))
                    || CALLABLE_BY_USERS.contains(&object);
                let expected =
                    if (user && readable) || (valid && CALLABLE_BY_ANYONE.contains(&object)) {
                        Expected::Read
                    } else {
                        Expected::Refused
                    };
                let attempt = Attempt {
                    status: response.status(),
                    changed,
                    refusal_problem: postgrest_refusal_problem(kind, &response),
                };
                matrix.count(kind.name(), object, &attempt, expected, || {
                    format!("{request}: {response}")
                });
            }
        }
    }
    matrix.print("PostgREST");
    report(
        &matrix,
        "PostgREST through the gateway: 8 credentials (publishable key) × every table, view and function × every verb",
    )
}

/// Records the matrix's figures, then fails on any problem.
fn report(matrix: &Matrix, name: &str) -> Result<()> {
    let figures = Figures {
        kind: Kind::Attack,
        name: name.to_owned(),
        tried: matrix.attempts(),
        bad: matrix.let_in(),
        runs_lost: 0,
        detail: format!(
            "{} cells, {} attempts, {} let in; {} allowed controls succeeded",
            matrix.cells.len(),
            matrix.attempts(),
            matrix.let_in(),
            matrix.allowed()
        ),
    };
    println!("  {name}: {}", figures.detail);
    figures.record()?;
    if matrix.problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Check(format!(
            "{} problems in the attack matrix:\n  {}",
            matrix.problems.len(),
            matrix.problems.join("\n  ")
        )))
    }
}

/// A writer token that was valid until it was rotated out.
const REVOKED_WRITER_TOKEN: &str = "vantage-writer-token-rotated-out-0123456789abcdef";

/// The edge's credentials: the PostgREST ones as bearer tokens (the anon one being the legacy
/// anon key), the legacy service-role key, the revoked writer token, and the publishable and
/// secret API keys (which are not tokens at all).
fn edge_credentials(stack: &Stack) -> Result<Vec<(String, Option<String>)>> {
    let mut credentials = Vec::new();
    for kind in CredentialKind::CANNOT_WRITE {
        let credential = Credential::legacy(kind, stack)?;
        credentials.push((
            kind.name().to_owned(),
            credential.bearer().map(|token| format!("Bearer {token}")),
        ));
    }
    credentials.push((
        "service_role_key".to_owned(),
        Some(format!("Bearer {}", stack.service_role_key())),
    ));
    credentials.push((
        "revoked_writer_token".to_owned(),
        Some(format!("Bearer {REVOKED_WRITER_TOKEN}")),
    ));
    credentials.push((
        "publishable_key".to_owned(),
        Some(format!("Bearer {}", stack.publishable_key()?)),
    ));
    credentials.push((
        "secret_key".to_owned(),
        Some(format!("Bearer {}", stack.secret_key()?)),
    ));
    Ok(credentials)
}

/// The resource whose run the sync admin's abort (the one allowed write) ends.
const ABORT_TARGET: &str = "it_attack_abort";

/// A body each route would accept, aimed at a real resource.
fn edge_body(route: &str) -> Value {
    match route {
        "complete" => json!({ "resource": "accounts", "records_synced": 1,
                              "records_created": 1, "records_updated": 0 }),
        "fail" => json!({ "resource": "accounts",
                          "errors": [{ "code": "ATTACK", "message": "attack" }] }),
        "abort" => json!({ "resource": ABORT_TARGET, "reason": "attack matrix control" }),
        "progress" => {
            json!({ "resource": ABORT_TARGET, "run_id": "00000000-0000-4000-8000-00000000a77a",
                              "records_synced": 1 })
        }
        _ => json!({ "resource": "accounts" }),
    }
}

#[test]
#[ignore = "attacks the stack and starts edge servers: run by `cargo xtask test reliability`"]
fn nobody_gets_into_the_edge_function() -> Result<()> {
    let _alone = ONE_MATRIX_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let stack = Stack::load()?;
    let db = Db::connect(&stack)?;
    let edge = Edge::load(&stack)?;
    let mut env = stack_server_env(&stack, &edge)?;
    let hashes = |list: &[&str]| {
        list.iter()
            .map(|t| sha256_hex(t))
            .collect::<Vec<_>>()
            .join(",")
    };
    let set_hashes = |env: &mut Vec<(&'static str, String)>, value: String| {
        env.retain(|(name, _)| *name != "VANTAGE_WRITER_TOKEN_SHA256");
        env.push(("VANTAGE_WRITER_TOKEN_SHA256", value));
    };

    // Before the rotation both tokens work; after it (the old hash removed), only the new one.
    set_hashes(
        &mut env,
        hashes(&[REVOKED_WRITER_TOKEN, edge.writer_token()]),
    );
    let before_rotation = EdgeProcess::start(edge.binary(), &env)?;
    let old = edge.at(&before_rotation.base_url())?;
    let accepted = old.get("health", Some(&format!("Bearer {REVOKED_WRITER_TOKEN}")))?;
    drop(before_rotation);
    set_hashes(&mut env, hashes(&[edge.writer_token()]));
    let process = EdgeProcess::start(edge.binary(), &env)?;
    let own = edge.at(&process.base_url())?;

    // A run for the one write the matrix allows: the stack's user is a sync admin.
    let started = own.post_as_writer("start", &json!({ "resource": ABORT_TARGET }))?;
    let mut matrix = Matrix::default();
    if started.status != 200 {
        matrix
            .problems
            .push(format!("start of {ABORT_TARGET}: {started}"));
    }
    if accepted.status != 200 {
        matrix.problems.push(format!(
            "the writer token to be revoked did not work before the rotation: {accepted}"
        ));
    }
    let verbs = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    let routes = [
        "start", "complete", "fail", "progress", "abort", "health", "sweep", "metrics",
    ];
    for (credential, authorization) in edge_credentials(&stack)? {
        for route in routes {
            for verb in verbs {
                let mut headers = vec![("content-type", "application/json")];
                if let Some(auth) = &authorization {
                    headers.push(("authorization", auth.as_str()));
                }
                let body = (verb != "GET").then(|| edge_body(route).to_string().into());
                let path = format!("/functions/v1/vantage-sync/{route}");
                let before = db.checksum_all_tables()?;
                let response = own.send(verb, &path, &headers, body)?;
                let changed = db.checksum_all_tables()? != before;
                // A signed-in user may read the health summary, and the stack's user (a sync
                // admin, unlike the legacy token's) may abort; nothing else is allowed.
                let expected = match (credential.as_str(), route, verb) {
                    ("authenticated" | "authenticated_legacy", "health", "GET") => Expected::Read,
                    ("authenticated", "abort", "POST") => Expected::Write,
                    _ => Expected::Refused,
                };
                let refusal_problem =
                    (!matches!(response.status, 200..=299 | 401 | 403 | 404 | 405))
                        .then(|| format!("expected 401/403/404/405, got {response}"));
                let attempt = Attempt {
                    status: response.status,
                    changed,
                    refusal_problem,
                };
                matrix.count(&credential, route, &attempt, expected, || {
                    format!("{verb} {path}: {response}")
                });
            }
        }
    }
    matrix.print("edge function");
    report(
        &matrix,
        "edge: 12 credentials (incl. a revoked writer token and the two API keys) × 8 routes × 5 verbs",
    )
}

// ---- the gateway -------------------------------------------------------------------------

/// The gateway's documented 401 messages.
const NO_API_KEY: &str = "No API key found in request";
const INVALID_API_KEY: &str = "Invalid API key";
const SECRET_KEY_IN_BROWSER: &str = "Forbidden use of secret API key in browser";
/// Its 404 for a path outside its three prefixes.
const NO_ROUTE: &str = "no Route matched with those values";

/// A browser's `User-Agent`.
const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                       Chrome/131.0.0.0 Safari/537.36";

/// What the gateway does with a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    /// Its 401 with this message, on `/rest/v1/` (other paths answer as they do for anyone).
    Refuses(&'static str),
    /// nginx's own 400 on every path, before any route or check: it takes `Authorization` as
    /// a header that may come once only.
    BadRequest,
    /// Passes it on to PostgREST as the user whose JWT it carries.
    AsTheUser,
}

/// A credential an attacker may send to the gateway: its headers, and what the gateway does
/// with it.
struct GatewayCredential {
    name: &'static str,
    headers: Vec<(&'static str, String)>,
    gate: Gate,
}

/// Every bad way to present an API key, and the secret key next to a user's JWT.
fn gateway_credentials(stack: &Stack) -> Result<Vec<GatewayCredential>> {
    let publishable = stack.publishable_key()?.to_owned();
    let secret = stack.secret_key()?.to_owned();
    let bearer = |token: &str| format!("Bearer {token}");
    let user = bearer(stack.authenticated_jwt());
    let wrong_key_jwt = legacy_token(WRONG_SECRET, "service_role", 3600)?;
    let credential = |name, headers: &[(&'static str, &str)], gate| GatewayCredential {
        name,
        headers: headers
            .iter()
            .map(|(header, value)| (*header, (*value).to_owned()))
            .collect(),
        gate,
    };
    Ok(vec![
        credential("none", &[], Gate::Refuses(NO_API_KEY)),
        credential("empty_apikey", &[("apikey", "")], Gate::Refuses(NO_API_KEY)),
        credential(
            "malformed_apikey",
            &[("apikey", "not an API key")],
            Gate::Refuses(INVALID_API_KEY),
        ),
        credential(
            "unknown_publishable_key",
            &[
                ("apikey", &one_off(&publishable)),
                ("authorization", &bearer(&one_off(&publishable))),
            ],
            Gate::Refuses(INVALID_API_KEY),
        ),
        credential(
            "unknown_secret_key",
            &[
                ("apikey", &one_off(&secret)),
                ("authorization", &bearer(&one_off(&secret))),
            ],
            Gate::Refuses(INVALID_API_KEY),
        ),
        credential(
            "duplicated_apikey",
            &[("apikey", &publishable), ("apikey", &secret)],
            Gate::Refuses(INVALID_API_KEY),
        ),
        credential(
            "duplicated_authorization",
            &[
                ("apikey", &publishable),
                ("authorization", &user),
                ("authorization", &bearer(stack.service_role_key())),
            ],
            Gate::BadRequest,
        ),
        credential(
            "secret_key_from_a_browser",
            &[
                ("apikey", &secret),
                ("authorization", &bearer(&secret)),
                ("user-agent", BROWSER),
            ],
            Gate::Refuses(SECRET_KEY_IN_BROWSER),
        ),
        // The user's JWT passes through: the request runs as the user, not as the service.
        credential(
            "secret_key_with_a_user_jwt",
            &[("apikey", &secret), ("authorization", &user)],
            Gate::AsTheUser,
        ),
        credential(
            "legacy_jwt_signed_with_a_wrong_key",
            &[
                ("apikey", &wrong_key_jwt),
                ("authorization", &bearer(&wrong_key_jwt)),
            ],
            Gate::Refuses(INVALID_API_KEY),
        ),
    ])
}

/// Where a gateway attempt lands, and so what must answer it.
#[derive(Debug, Clone, Copy)]
enum Lands {
    /// PostgREST, after the key check; a signed-in user may read it (`GET`) or not.
    Rest { user_may_read: bool },
    /// Nowhere: the gateway's 404.
    NoRoute,
    /// The edge server, with the path as sent (nginx passes `/functions/v1/…` on unresolved):
    /// no route of the edge's has `..` in it, so its 404.
    EdgeUnknownRoute,
    /// Above the root: nginx's 400.
    AboveRoot,
}

/// One cell's column of the gateway matrix: a path, its requests (one per verb), where they
/// land, and whether they go byte for byte (`..` paths, which an HTTP library would
/// normalize before sending).
struct GatewayTarget {
    object: String,
    /// Put before each request's path (which is relative to `/rest/v1` for `Lands::Rest`).
    prefix: String,
    requests: Vec<Request>,
    lands: Lands,
    raw: bool,
}

/// The five verbs on a function: `GET` with a query string, the others with a JSON body.
fn rpc_requests(function: &Function) -> Vec<Request> {
    let path = format!("/rpc/{}", function.name);
    let args = Value::Object(function.args.clone());
    let mut requests = function_requests(function);
    requests.push(Request::patch(&path, args.clone()));
    requests.push(Request::put(&path, args));
    requests.push(Request::delete(&path));
    requests
}

/// The five verbs on a path from the root, each with a body an endpoint there might take.
fn verbs(path: &str) -> Vec<Request> {
    let body = json!({ "resource": "accounts", "p_resource": "accounts" });
    vec![
        Request::get(path),
        Request::post(path, body.clone()),
        Request::patch(path, body.clone()),
        Request::put(path, body),
        Request::delete(path),
    ]
}

/// Every column of the gateway matrix, from the live catalog.
fn gateway_targets(relations: &[Relation], functions: &[Function]) -> Result<Vec<GatewayTarget>> {
    let mut targets = Vec::new();
    for relation in relations {
        targets.push(GatewayTarget {
            object: format!("/rest/v1/{}", relation.name),
            prefix: "/rest/v1".to_owned(),
            requests: relation_requests(relation, "gateway"),
            lands: Lands::Rest {
                user_may_read: READABLE_BY_USERS.contains(&relation.name.as_str()),
            },
            raw: false,
        });
    }
    for function in functions {
        targets.push(GatewayTarget {
            object: format!("/rest/v1/rpc/{}", function.name),
            prefix: "/rest/v1".to_owned(),
            requests: rpc_requests(function),
            lands: Lands::Rest {
                user_may_read: false,
            },
            raw: false,
        });
    }
    for path in PATHS_OUTSIDE_THE_GATEWAY {
        targets.push(GatewayTarget {
            object: path.to_owned(),
            prefix: String::new(),
            requests: verbs(path),
            lands: Lands::NoRoute,
            raw: false,
        });
    }
    targets.extend(dot_dot_targets(relations, functions)?);
    Ok(targets)
}

/// Paths with `..` (plain, or encoded as `%2e%2e` and `%2F`), sent byte for byte.
fn dot_dot_targets(relations: &[Relation], functions: &[Function]) -> Result<Vec<GatewayTarget>> {
    let relation = |name: &str| {
        relations
            .iter()
            .find(|r| r.name == name)
            .ok_or_else(|| Error::Check(format!("no {name} in the catalog")))
    };
    let function = |name: &str| {
        functions
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| Error::Check(format!("no {name} in the catalog")))
    };
    let webhooks = relation_requests(relation("vantage_sync_webhooks")?, "gateway_dotdot");
    let state = relation_requests(relation("vantage_sync_state")?, "gateway_dotdot");
    let start = rpc_requests(function("start_vantage_sync")?);
    let sweep = verbs("/functions/v1/vantage-sync/sweep");
    let not_readable = Lands::Rest {
        user_may_read: false,
    };
    // nginx resolves `..` (and `%2e%2e`, and `%2f`) before it picks a route: these are the
    // paths they resolve to, checked one by one in tests/gateway.rs.
    let dot_dot = [
        // Out of /rest/v1 into /functions/v1: the edge gets the path as sent.
        ("/rest/v1/../..", sweep.clone(), Lands::EdgeUnknownRoute),
        (
            "/rest/v1/%2e%2e/%2e%2e",
            sweep.clone(),
            Lands::EdgeUnknownRoute,
        ),
        (
            "/rest/v1/..%2F..%2F.",
            sweep.clone(),
            Lands::EdgeUnknownRoute,
        ),
        // One `..` leaves the version behind: /rest/functions/…, /functions/rest/….
        ("/rest/v1/..", sweep, Lands::NoRoute),
        ("/functions/v1/../rest/v1", webhooks.clone(), Lands::NoRoute),
        // Into /rest/v1 from elsewhere: the key check still applies.
        (
            "/functions/v1/../../rest/v1",
            webhooks.clone(),
            not_readable,
        ),
        (
            "/functions/v1/vantage-sync/%2e%2e/%2e%2e/%2e%2e/rest/v1",
            start.clone(),
            not_readable,
        ),
        (
            "/auth/v1/.well-known/../../../rest/v1",
            state.clone(),
            Lands::Rest {
                user_may_read: true,
            },
        ),
        ("/rest/v1/../../rest/v1", webhooks.clone(), not_readable),
        // Above the root.
        ("/../rest/v1", state.clone(), Lands::AboveRoot),
        ("/%2e%2e/rest/v1", start, Lands::AboveRoot),
        ("/functions/v1/../../../rest/v1", webhooks, Lands::AboveRoot),
        (
            "/rest/v1/%2E%2E/%2E%2E/%2E%2E/rest/v1",
            state,
            Lands::AboveRoot,
        ),
    ];
    Ok(dot_dot
        .into_iter()
        .map(|(prefix, requests, lands)| {
            let shown = requests.first().map(Request::path).unwrap_or_default();
            let shown = shown.split('?').next().unwrap_or_default();
            GatewayTarget {
                object: format!("{prefix}{shown}"),
                prefix: prefix.to_owned(),
                requests,
                lands,
                raw: true,
            }
        })
        .collect())
}

/// Why the refusal of `credential`'s attempt landing at `lands` is not the documented one (the
/// gateway's, nginx's, PostgREST's or the edge's), if it is not.
fn gateway_refusal_problem(
    credential: &GatewayCredential,
    lands: Lands,
    response: &Response,
) -> Option<String> {
    let status = response.status();
    if (200..300).contains(&status) {
        return None;
    }
    let message = response.message();
    let want = |ok: bool, what: &str| (!ok).then(|| format!("expected {what}, got {response}"));
    let nginx_400 = || status == 400 && response.body().contains("400 Bad Request");
    match (lands, credential.gate) {
        (_, Gate::BadRequest) | (Lands::AboveRoot, _) => want(nginx_400(), "nginx's 400"),
        (Lands::NoRoute, _) => want(
            status == 404 && message.as_deref() == Some(NO_ROUTE),
            &format!("404 {NO_ROUTE:?}"),
        ),
        (Lands::EdgeUnknownRoute, _) => {
            let code = response.json().ok().map(|b| b["error"]["code"].clone());
            want(
                status == 404 && code == Some(json!("not_found")),
                "the edge's 404 not_found",
            )
        }
        (Lands::Rest { .. }, Gate::Refuses(refusal)) => want(
            status == 401 && message.as_deref() == Some(refusal),
            &format!("401 {refusal:?}"),
        ),
        (Lands::Rest { .. }, Gate::AsTheUser) => {
            postgrest_refusal_problem(CredentialKind::Authenticated, response)
        }
    }
}

#[test]
#[ignore = "attacks the stack through its gateway: run by `cargo xtask test reliability`"]
#[allow(
    clippy::too_many_lines,
    reason = "one scenario against the real stack, step by step: split, its order would be harder to follow"
)]
fn nobody_gets_through_the_gateway() -> Result<()> {
    let _alone = ONE_MATRIX_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let stack = Stack::load()?;
    let origin = stack.supabase_url()?.to_owned();
    let root = Rest::with_base_url(&origin)?;
    let db = Db::connect(&stack)?;
    let relations = relations(&db)?;
    let functions = functions(&db, true)?;
    let targets = gateway_targets(&relations, &functions)?;
    let credentials = gateway_credentials(&stack)?;
    let mut matrix = Matrix::default();
    for credential in &credentials {
        for target in &targets {
            // One cell: every verb, then the check that no table changed (the gateway's
            // refusals come before anything upstream; a change marks each attempt of the cell).
            let before = db.checksum_all_tables()?;
            let mut answers = Vec::new();
            for request in &target.requests {
                let path = format!("{}{}", target.prefix, request.path());
                let response = if target.raw {
                    let profile = if request.method() == Method::Get {
                        "accept-profile"
                    } else {
                        "content-profile"
                    };
                    let mut headers: Vec<(&str, &str)> = credential
                        .headers
                        .iter()
                        .map(|(name, value)| (*name, value.as_str()))
                        .collect();
                    headers.extend([(profile, "public"), ("content-type", "application/json")]);
                    let body = request.body().map(Value::to_string);
                    send_raw(
                        &origin,
                        request.method().as_str(),
                        &path,
                        &headers,
                        body.as_deref(),
                    )?
                } else {
                    let mut sent = match (request.method(), request.body()) {
                        (Method::Get, _) => Request::get(&path),
                        (Method::Delete, _) => Request::delete(&path),
                        (Method::Post, body) => {
                            Request::post(&path, body.cloned().unwrap_or_default())
                        }
                        (Method::Patch, body) => {
                            Request::patch(&path, body.cloned().unwrap_or_default())
                        }
                        (Method::Put, body) => {
                            Request::put(&path, body.cloned().unwrap_or_default())
                        }
                    };
                    for (name, value) in &credential.headers {
                        sent = sent.header(name, value.clone());
                    }
                    root.send(&sent, &Credential::none())?
                };
                answers.push((request.method(), path, response));
            }
            let changed = db.checksum_all_tables()? != before;
            for (method, path, response) in answers {
                let expected = match (target.lands, credential.gate) {
                    (
                        Lands::Rest {
                            user_may_read: true,
                        },
                        Gate::AsTheUser,
                    ) if method == Method::Get => Expected::Read,
                    _ => Expected::Refused,
                };
                let attempt = Attempt {
                    status: response.status(),
                    changed,
                    refusal_problem: gateway_refusal_problem(credential, target.lands, &response),
                };
                matrix.count(credential.name, &target.object, &attempt, expected, || {
                    format!("{} {path}: {response}", method.as_str())
                });
            }
        }
    }
    matrix.print("gateway");
    report(
        &matrix,
        &format!(
            "gateway: {} bad API keys (incl. the secret key next to a user JWT) × {} paths \
             (tables, views, state functions, outside the prefixes, `..`) × 5 verbs",
            credentials.len(),
            targets.len()
        ),
    )
}
