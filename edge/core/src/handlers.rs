//! What each route does upstream, once the caller is authenticated and the body validated.
//! Every state change is one call of a SQL function; the database's clock is the only clock.

use bytes::Bytes;
use http::Response;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use postgrest_dialect::{PAGE_ROWS, Pages};
use serde_json::{Value, json};

use crate::answers::{
    self, AbortAnswer, CompleteAnswer, FailAnswer, ProgressAnswer, RetryState, StartAnswer,
    SweepAnswer, SweepCounts,
};
use crate::auth::user_jwt::UserClaims;
use crate::clock::Clock;
use crate::config::Config;
use crate::error::EdgeError;
use crate::health_query::{self, HealthQuery};
use crate::health_rows::{self, HealthRow, SORT_KEY, Summary};
use crate::log::Trace;
use crate::metrics::{self, METRICS_VIEW, ResourceMetrics};
use crate::names::{ResourceName, RunId};
use crate::openmetrics::{self, Format};
use crate::postgrest::{Action, Postgrest, Verb, first_row, map_error};
use crate::request_counts::RequestCounts;
use crate::upstream::Upstream;
use crate::validation::{AbortBody, CompleteBody, FailBody, ProgressBody, RecordCounts, StartBody};
use crate::webhooks;

/// `start`: one call of `start_vantage_sync_run`, which starts the run and returns its id,
/// `started_at` (the database's clock) and `sync_watermark`, the point the job syncs from (the
/// start of the last successful run; null: sync everything), all read in the same transaction.
pub(crate) async fn start<U: Upstream>(
    pg: &Postgrest<'_, U>,
    body: StartBody,
    trace: &mut Trace,
) -> Result<Value, EdgeError> {
    trace.resource = Some(body.resource.to_string());
    let action = Action {
        verb: Verb::Start,
        resource: &body.resource,
        run_id: None,
    };
    let raw = pg
        .call(
            "start_vantage_sync_run",
            &json!({ "p_resource": body.resource }),
            &action,
            trace,
        )
        .await?;
    let run = serde_json::from_slice::<StartedRun>(&raw)
        .map_err(|_| EdgeError::internal("start_vantage_sync_run did not return a run"))?;
    answers::json(&StartAnswer {
        run_id: run.run_id,
        resource: body.resource,
        started_at: run.started_at,
        sync_watermark: run.sync_watermark,
    })
}

/// What `start_vantage_sync_run` returns (PostgREST answers one object for its OUT parameters).
#[derive(serde::Deserialize)]
struct StartedRun {
    run_id: RunId,
    /// As the database wrote it (ISO 8601 with offset); passed on unchanged.
    started_at: String,
    /// The start of the last successful run, or null; passed on unchanged. A database without
    /// migration 20261202100000 does not send it: null.
    #[serde(default)]
    sync_watermark: Option<String>,
}

/// `complete`: `complete_vantage_sync` of the named run, or of the run in progress. Without
/// counts the three are sent as null: the run completes with none reported (the answer's
/// counts are null and `counts_reported` false), never as a sync of 0 records.
pub(crate) async fn complete<U: Upstream>(
    pg: &Postgrest<'_, U>,
    body: CompleteBody,
    trace: &mut Trace,
) -> Result<Value, EdgeError> {
    trace.resource = Some(body.resource.to_string());
    let run_id = match body.run_id {
        Some(id) => Some(id),
        None => running_run(pg, &body.resource, Verb::Complete, trace).await?,
    };
    let action = Action {
        verb: Verb::Complete,
        resource: &body.resource,
        run_id: run_id.as_ref(),
    };
    let count = |read: fn(&RecordCounts) -> u32| body.counts.as_ref().map(read);
    let (synced, created, updated) = (
        count(|c| c.records_synced),
        count(|c| c.records_created),
        count(|c| c.records_updated),
    );
    pg.call(
        "complete_vantage_sync",
        &json!({
            "p_resource": body.resource,
            "p_records_synced": synced,
            "p_records_created": created,
            "p_records_updated": updated,
            "p_run_id": run_id,
        }),
        &action,
        trace,
    )
    .await?;
    answers::json(&CompleteAnswer {
        resource: body.resource,
        run_id,
        status: "success",
        records_synced: synced,
        records_created: created,
        records_updated: updated,
        counts_reported: body.counts.is_some(),
    })
}

/// `progress`: `progress_vantage_sync_run`, a heartbeat of the named run with the records so
/// far; the answer carries the heartbeat's time from the database's clock.
pub(crate) async fn progress<U: Upstream>(
    pg: &Postgrest<'_, U>,
    body: ProgressBody,
    trace: &mut Trace,
) -> Result<Value, EdgeError> {
    trace.resource = Some(body.resource.to_string());
    let action = Action {
        verb: Verb::ReportProgress,
        resource: &body.resource,
        run_id: Some(&body.run_id),
    };
    let raw = pg
        .call(
            "progress_vantage_sync_run",
            &json!({
                "p_resource": body.resource,
                "p_run_id": body.run_id,
                "p_records_synced": body.records_synced,
            }),
            &action,
            trace,
        )
        .await?;
    // A scalar function's answer: the timestamp as a JSON string.
    let heartbeat = serde_json::from_slice::<String>(&raw).map_err(|_| {
        EdgeError::internal("progress_vantage_sync_run did not return the heartbeat's time")
    })?;
    answers::json(&ProgressAnswer {
        resource: body.resource,
        run_id: body.run_id,
        last_heartbeat_at: heartbeat,
        records_synced: body.records_synced,
    })
}

/// `fail`: `fail_vantage_sync_run` with the error objects as sent; the answer says whether
/// and when the resource's retry policy allows the next attempt.
pub(crate) async fn fail<U: Upstream>(
    pg: &Postgrest<'_, U>,
    body: FailBody,
    trace: &mut Trace,
) -> Result<Value, EdgeError> {
    trace.resource = Some(body.resource.to_string());
    let run_id = match body.run_id {
        Some(id) => Some(id),
        None => running_run(pg, &body.resource, Verb::Fail, trace).await?,
    };
    let action = Action {
        verb: Verb::Fail,
        resource: &body.resource,
        run_id: run_id.as_ref(),
    };
    let raw = pg
        .call(
            "fail_vantage_sync_run",
            &json!({ "p_resource": body.resource, "p_errors": body.errors, "p_run_id": run_id }),
            &action,
            trace,
        )
        .await?;
    // One object (OUT parameters); read leniently: the failure is recorded either way.
    let retry: RetryState = serde_json::from_slice(&raw).unwrap_or_default();
    answers::json(&FailAnswer {
        resource: body.resource,
        run_id,
        status: "failed",
        error_count: body.errors.len(),
        retry,
    })
}

/// `abort`: `abort_vantage_sync`, recording who aborted.
pub(crate) async fn abort<U: Upstream>(
    pg: &Postgrest<'_, U>,
    body: AbortBody,
    user: &UserClaims,
    trace: &mut Trace,
) -> Result<Value, EdgeError> {
    trace.resource = Some(body.resource.to_string());
    let action = Action {
        verb: Verb::Abort,
        resource: &body.resource,
        run_id: body.run_id.as_ref(),
    };
    let raw = pg
        .call(
            "abort_vantage_sync",
            &json!({
                "p_resource": body.resource,
                "p_reason": body.reason,
                "p_aborted_by": user.display_name(),
                "p_run_id": body.run_id,
            }),
            &action,
            trace,
        )
        .await?;
    // The aborted run's id (null when the function says none).
    let run_id = serde_json::from_slice::<Option<RunId>>(&raw).unwrap_or_default();
    answers::json(&AbortAnswer {
        resource: body.resource,
        run_id,
        status: "failed",
        aborted_by: user.display_name().to_owned(),
    })
}

/// Every row of `path` (a PostgREST read with its `select` and `order`), page by page.
async fn read_pages<U: Upstream, T: serde::de::DeserializeOwned>(
    pg: &Postgrest<'_, U>,
    path: &str,
    action: &Action<'_>,
    trace: &mut Trace,
) -> Result<Vec<T>, EdgeError> {
    let mut pages = Pages::default();
    let mut rows: Vec<T> = Vec::new();
    loop {
        let raw = pg
            .get(&pages.url(path), trace)
            .await
            .map_err(|e| map_error(e, action))?;
        let page_rows: Vec<T> = serde_json::from_slice(&raw).map_err(|e| {
            EdgeError::internal(format!(
                "the answer to {} is not its rows: {e}",
                action.verb
            ))
        })?;
        let more = pages.advance(page_rows.len());
        rows.extend(page_rows);
        if !more {
            return Ok(rows);
        }
    }
}

/// `health`: the health view's rows in its order (red, yellow, green, then name), filtered in
/// PostgREST as `query` asks, and a count per colour of the rows answered. Without a `limit`
/// every matching row, page by page; with one, a single read and, when rows may follow,
/// `next_cursor` (present, `null` on the last page, whenever the caller paged).
pub(crate) async fn health<U: Upstream>(
    pg: &Postgrest<'_, U>,
    query: &HealthQuery,
    trace: &mut Trace,
) -> Result<Value, EdgeError> {
    let action = Action {
        verb: Verb::ReadHealth,
        resource: "",
        run_id: None,
    };
    // The sort key is read only to make the next cursor; callers never see it.
    let path = format!(
        "/vantage_sync_health?select={}&order={SORT_KEY}{}",
        health_rows::select(query.is_paged()),
        query.filters()
    );
    let (rows, next_cursor) = match query.limit {
        None => (read_pages(pg, &path, &action, trace).await?, None),
        Some(limit) => read_one_page(pg, &path, limit, &action, trace).await?,
    };
    answers::json(&answers::HealthAnswer {
        summary: Summary::of(&rows),
        resources: rows,
        next_cursor: query.is_paged().then_some(next_cursor),
    })
}

/// Up to `limit` rows of `path`, and the cursor after the last of them when more may follow.
/// One more row than asked is read to tell; a page that came back full at PostgREST's own cap
/// (its `db-max-rows`, [`PAGE_ROWS`] on Supabase) may also have more behind it, so it gets a
/// cursor too (the page after it may then be empty).
async fn read_one_page<U: Upstream>(
    pg: &Postgrest<'_, U>,
    path: &str,
    limit: u32,
    action: &Action<'_>,
    trace: &mut Trace,
) -> Result<(Vec<HealthRow>, Option<String>), EdgeError> {
    let limit = usize::try_from(limit).unwrap_or(PAGE_ROWS);
    let asked = (limit + 1).min(PAGE_ROWS);
    let raw = pg
        .get(&format!("{path}&limit={asked}"), trace)
        .await
        .map_err(|e| map_error(e, action))?;
    let mut rows: Vec<HealthRow> = serde_json::from_slice(&raw).map_err(|e| {
        EdgeError::internal(format!(
            "the answer to {} is not its rows: {e}",
            action.verb
        ))
    })?;
    let more = rows.len() > limit || rows.len() >= PAGE_ROWS;
    rows.truncate(limit);
    let next = if more {
        let key = rows
            .last()
            .and_then(|row| row.sort_key.as_deref())
            .ok_or_else(|| EdgeError::internal("the health view's rows carry no sort_key"))?;
        Some(health_query::cursor_after(key))
    } else {
        None
    };
    Ok((rows, next))
}

/// `metrics`: the rows of the `vantage_sync_metrics_by_resource` view by resource name, page by page, and the
/// edge's request counters, as text in `format`.
pub(crate) async fn metrics<U: Upstream>(
    pg: &Postgrest<'_, U>,
    requests: &RequestCounts,
    format: Format,
    trace: &mut Trace,
) -> Result<Response<Bytes>, EdgeError> {
    let action = Action {
        verb: Verb::ReadMetrics,
        resource: "",
        run_id: None,
    };
    let rows: Vec<ResourceMetrics> = read_pages(
        pg,
        &format!("/{METRICS_VIEW}?order=resource"),
        &action,
        trace,
    )
    .await?;
    let text = openmetrics::render(&metrics::families(&rows, &requests.snapshot()), format);
    let mut response = Response::new(Bytes::from(text));
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `sweep` (a cron's call): `sweep_vantage_syncs` fails stuck runs and queues `stale` and `late` events,
/// then the due webhook deliveries are sent before answering (nobody waits on a cron).
pub(crate) async fn sweep<U: Upstream, C: Clock>(
    pg: &Postgrest<'_, U>,
    upstream: &U,
    clock: &C,
    config: &Config,
    trace: &mut Trace,
) -> Result<Value, EdgeError> {
    let action = Action {
        verb: Verb::Sweep,
        resource: "",
        run_id: None,
    };
    let raw = pg
        .call("sweep_vantage_syncs", &json!({}), &action, trace)
        .await?;
    let swept = first_row(&raw)
        .ok_or_else(|| EdgeError::internal("sweep_vantage_syncs returned no row"))?;
    let counts: SweepCounts = serde_json::from_value(swept).map_err(|e| {
        EdgeError::internal(format!("sweep_vantage_syncs returned another row: {e}"))
    })?;
    let deliveries = webhooks::deliver_due(pg, upstream, clock, config, None, trace).await?;
    // Sent here: the adapter must not start them again.
    trace.webhooks_pending = false;
    answers::json(&SweepAnswer { counts, deliveries })
}

/// The id of the run in progress of `resource`, so that an unnamed `complete` or `fail` still
/// finishes exactly that run (a run started in between is never finished by mistake). `None`
/// when nothing runs: the SQL function then answers with the right 409.
async fn running_run<U: Upstream>(
    pg: &Postgrest<'_, U>,
    resource: &ResourceName,
    verb: Verb,
    trace: &mut Trace,
) -> Result<Option<RunId>, EdgeError> {
    let action = Action {
        verb,
        resource,
        run_id: None,
    };
    let raw = pg
        .get(
            &format!(
                "/vantage_sync_state?select=last_sync_status,current_run_id&resource=eq.{resource}"
            ),
            trace,
        )
        .await
        .map_err(|e| map_error(e, &action))?;
    let row = first_row(&raw).ok_or_else(|| EdgeError::UnknownResource {
        resource: resource.to_string(),
    })?;
    let state: StateRow = serde_json::from_value(row).map_err(|e| {
        EdgeError::internal(format!("the state row of {resource} did not read: {e}"))
    })?;
    Ok(state
        .current_run_id
        .filter(|_| state.last_sync_status.as_deref() == Some("running")))
}

/// What [`running_run`] reads of a state row.
#[derive(serde::Deserialize)]
struct StateRow {
    last_sync_status: Option<String>,
    current_run_id: Option<RunId>,
}
