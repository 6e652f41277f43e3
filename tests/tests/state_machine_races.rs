//! The state machine under races, through real connections acting as `service_role` (as
//! PostgREST does): exactly one winner, and the state row and its history always agree.

// A race test that cannot reach the stack should stop right there, loudly.
#![allow(clippy::expect_used)]

use std::sync::Arc;

use tokio::sync::Barrier;
use tokio_postgres::{Client, NoTls};
use vantage_sync_tests::Stack;
use vantage_sync_tests::spec::flow_resource;

const RACERS: usize = 50;
const START_ROUNDS: usize = 20;
const FINISH_ROUNDS: usize = 100;

/// `n` connections, each switched to `service_role` like PostgREST switches per request.
async fn service_connections(n: usize) -> Vec<Arc<Client>> {
    let url = Stack::load().expect("stack").database_url().to_owned();
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let (client, connection) = tokio_postgres::connect(&url, NoTls).await.expect("connect");
        tokio::spawn(connection);
        client
            .batch_execute("SET ROLE service_role")
            .await
            .expect("set role");
        clients.push(Arc::new(client));
    }
    clients
}

/// The SQLSTATE of a failed call, or "ok".
fn outcome<T>(result: &Result<T, tokio_postgres::Error>) -> String {
    match result {
        Ok(_) => "ok".to_owned(),
        Err(e) => e
            .code()
            .map_or_else(|| format!("no sqlstate: {e}"), |c| c.code().to_owned()),
    }
}

/// The state row and the history rows of `resource` agree: the same current run, status,
/// times and counts; exactly `runs` history rows.
async fn assert_consistent(client: &Client, resource: &str, runs: i64) {
    let row = client
        .query_one(
            "SELECT (SELECT count(*) FROM public.vantage_sync_runs WHERE resource = $1),
                    s.last_sync_status = r.status AND s.started_at = r.started_at
                      AND s.completed_at IS NOT DISTINCT FROM r.completed_at
                      AND s.duration_ms IS NOT DISTINCT FROM r.duration_ms
                      AND (s.last_sync_status <> 'success' OR (s.records_synced = r.records_synced
                           AND s.records_created = r.records_created AND s.records_updated = r.records_updated))
                      AND s.errors = r.errors
               FROM public.vantage_sync_state s
               JOIN public.vantage_sync_runs r ON r.run_id = s.current_run_id
              WHERE s.resource = $1",
            &[&resource],
        )
        .await
        .expect("state and current run");
    let count: i64 = row.get(0);
    let agree: bool = row.get(1);
    assert_eq!(count, runs, "{resource}: history rows");
    assert!(
        agree,
        "{resource}: the state row and its current run's history row disagree"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_starts_yield_exactly_one_run() {
    let clients = service_connections(RACERS).await;
    for round in 0..START_ROUNDS {
        let resource = flow_resource("race_start");
        // Even rounds race on a resource nobody has seen (the upsert path), odd rounds on one
        // that has finished a run before.
        let mut earlier_runs = 0;
        if round % 2 == 1 {
            let run = start(&clients[0], &resource).await.expect("first start");
            clients[0]
                .execute(
                    "SELECT public.complete_vantage_sync($1, 1, 1, 0, $2::text::uuid)",
                    &[&resource, &run],
                )
                .await
                .expect("first complete");
            earlier_runs = 1;
        }
        let barrier = Arc::new(Barrier::new(RACERS));
        let tasks: Vec<_> = clients
            .iter()
            .map(|client| {
                let (client, barrier, resource) =
                    (Arc::clone(client), Arc::clone(&barrier), resource.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    start(&client, &resource).await
                })
            })
            .collect();
        let mut winners = Vec::new();
        let mut others = Vec::new();
        for task in tasks {
            match task.await.expect("task") {
                Ok(run) => winners.push(run),
                Err(e) => others.push(outcome::<()>(&Err(e))),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one start wins, got {winners:?}"
        );
        assert!(
            others.iter().all(|code| code == "PT409"),
            "round {round}: the others get 409: {others:?}"
        );
        let current: String = clients[0]
            .query_one(
                "SELECT current_run_id::text FROM public.vantage_sync_state WHERE resource = $1 AND last_sync_status = 'running'",
                &[&resource],
            )
            .await
            .expect("running row")
            .get(0);
        assert_eq!(
            current, winners[0],
            "round {round}: the row names the winning run"
        );
        assert_consistent(&clients[0], &resource, earlier_runs + 1).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn complete_and_fail_racing_for_one_run_leave_one_terminal_state() {
    let clients = service_connections(2).await;
    let mut completions = 0;
    for round in 0..FINISH_ROUNDS {
        let resource = flow_resource("race_finish");
        let run = start(&clients[0], &resource).await.expect("start");
        let barrier = Arc::new(Barrier::new(2));
        let complete = race(
            &clients[0],
            &barrier,
            "SELECT public.complete_vantage_sync($1, 10, 4, 6, $2::text::uuid)",
            &resource,
            &run,
        );
        let fail = race(
            &clients[1],
            &barrier,
            r#"SELECT public.fail_vantage_sync($1, '[{"code":"RACE","message":"lost the race"}]', $2::text::uuid)"#,
            &resource,
            &run,
        );
        let (c, f) = (
            outcome(&complete.await.expect("task")),
            outcome(&fail.await.expect("task")),
        );
        let mut pair = [c.as_str(), f.as_str()];
        pair.sort_unstable();
        assert_eq!(
            pair,
            ["PT409", "ok"],
            "round {round}: complete {c}, fail {f}"
        );
        let row = clients[0]
            .query_one(
                "SELECT last_sync_status, consecutive_failures FROM public.vantage_sync_state WHERE resource = $1",
                &[&resource],
            )
            .await
            .expect("state");
        let (status, failures): (String, i32) = (row.get(0), row.get(1));
        if c == "ok" {
            completions += 1;
            assert_eq!(
                (status.as_str(), failures),
                ("success", 0),
                "round {round}: complete won"
            );
        } else {
            assert_eq!(
                (status.as_str(), failures),
                ("failed", 1),
                "round {round}: fail won"
            );
        }
        assert_consistent(&clients[0], &resource, 1).await;
    }
    println!("complete won {completions} of {FINISH_ROUNDS} rounds, fail the rest");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sweeps_fail_each_stuck_run_once() {
    let clients = service_connections(8).await;
    let admin = Stack::load().expect("stack").database_url().to_owned();
    let (superuser, connection) = tokio_postgres::connect(&admin, NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let stuck: Vec<String> = (0..5).map(|_| flow_resource("race_sweep")).collect();
    for resource in &stuck {
        start(&clients[0], resource).await.expect("start");
    }
    // Only the clock is moved (as superuser): these runs started 31 minutes ago.
    superuser
        .execute(
            "WITH moved AS (
               UPDATE public.vantage_sync_state SET started_at = started_at - interval '31 minutes'
                WHERE resource = ANY($1) RETURNING current_run_id)
             UPDATE public.vantage_sync_runs SET started_at = started_at - interval '31 minutes'
              WHERE run_id IN (SELECT current_run_id FROM moved)",
            &[&stuck],
        )
        .await
        .expect("backdate");
    let barrier = Arc::new(Barrier::new(clients.len()));
    let tasks: Vec<_> = clients
        .iter()
        .map(|client| {
            let (client, barrier) = (Arc::clone(client), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                client
                    .query(
                        "SELECT resource FROM public.sweep_stuck_vantage_syncs()",
                        &[],
                    )
                    .await
            })
        })
        .collect();
    let mut swept = Vec::new();
    for task in tasks {
        for row in task.await.expect("task").expect("sweep") {
            let resource: String = row.get(0);
            if stuck.contains(&resource) {
                swept.push(resource);
            }
        }
    }
    swept.sort();
    let mut expected = stuck.clone();
    expected.sort();
    assert_eq!(
        swept, expected,
        "each stuck run is swept exactly once across all sweeps"
    );
    for resource in &stuck {
        let code: String = clients[0]
            .query_one(
                "SELECT errors->0->>'code' FROM public.vantage_sync_state WHERE resource = $1 AND last_sync_status = 'failed'",
                &[resource],
            )
            .await
            .expect("failed row")
            .get(0);
        assert_eq!(code, "STUCK_TIMEOUT");
        assert_consistent(&clients[0], resource, 1).await;
    }
}

/// Runs `sql` with (resource, run id) on `client` once every racer has reached `barrier`.
fn race(
    client: &Arc<Client>,
    barrier: &Arc<Barrier>,
    sql: &'static str,
    resource: &str,
    run: &str,
) -> tokio::task::JoinHandle<Result<u64, tokio_postgres::Error>> {
    let (client, barrier) = (Arc::clone(client), Arc::clone(barrier));
    let (resource, run) = (resource.to_owned(), run.to_owned());
    tokio::spawn(async move {
        barrier.wait().await;
        client.execute(sql, &[&resource, &run]).await
    })
}

/// Starts a run; its id comes back as text (the tests need no uuid type).
async fn start(client: &Client, resource: &str) -> Result<String, tokio_postgres::Error> {
    let row = client
        .query_one("SELECT public.start_vantage_sync($1)::text", &[&resource])
        .await?;
    Ok(row.get(0))
}
