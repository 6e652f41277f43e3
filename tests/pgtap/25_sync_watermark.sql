-- 25_sync_watermark: sync_watermark (20261202100000) is the started_at of the last successful
-- run. A record changed in the middle of a run falls inside the next run's window
-- (changed_at >= sync_watermark), where last_sync_time would have missed it; a failed run in
-- between keeps the window. A failure, an abort, the stuck sweep and a start keep the watermark;
-- a row inserted as already successful gets its started_at. start_vantage_sync_run returns it as
-- the point to sync from (NULL before any success). The backfill gives existing rows the start of
-- their last success from the state row or the run history, NULL when neither knows it. The
-- health view shows it; last_sync_time keeps its meaning.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(23);

SELECT has_column('public', 'vantage_sync_state', 'sync_watermark', 'vantage_sync_state has sync_watermark');
SELECT col_type_is('public', 'vantage_sync_state', 'sync_watermark', 'timestamp with time zone',
  'sync_watermark is a timestamptz');
SELECT col_is_null('public', 'vantage_sync_state', 'sync_watermark', 'sync_watermark is nullable (never succeeded)');
SELECT has_column('public', 'vantage_sync_health', 'sync_watermark', 'the health view shows sync_watermark');

-- the ETL job's loop, with a source table whose records change while runs are in progress ------
CREATE TEMP TABLE t_source (id int PRIMARY KEY, changed_at timestamptz NOT NULL) ON COMMIT DROP;
INSERT INTO t_source VALUES (1, clock_timestamp() - interval '1 day');

-- run 1: the first, so it syncs everything
CREATE TEMP TABLE t_run1 ON COMMIT DROP AS SELECT * FROM start_vantage_sync_run('accounts');
SELECT is((SELECT sync_watermark FROM t_run1), NULL::timestamptz,
  'the first start answers sync_watermark NULL: sync everything');
SELECT pg_sleep(0.002);
-- record 2 changes while run 1 is in progress, after run 1 read the source
INSERT INTO t_source VALUES (2, clock_timestamp());
SELECT pg_sleep(0.002);
SELECT complete_vantage_sync('accounts', 1, 1, 0, (SELECT run_id FROM t_run1));

SELECT is((SELECT sync_watermark FROM vantage_sync_state WHERE resource = 'accounts'),
  (SELECT started_at FROM t_run1), 'a success sets sync_watermark to the run''s started_at');
SELECT is((SELECT sync_watermark FROM vantage_sync_state WHERE resource = 'accounts'),
  (SELECT started_at FROM vantage_sync_runs WHERE run_id = (SELECT run_id FROM t_run1)),
  '... which is the history row''s started_at');
SELECT ok((SELECT last_sync_time > sync_watermark FROM vantage_sync_state WHERE resource = 'accounts'),
  'last_sync_time keeps its meaning: the completion, after the start');

-- run 2 fails: nothing moves
CREATE TEMP TABLE t_run2 ON COMMIT DROP AS SELECT * FROM start_vantage_sync_run('accounts');
SELECT is((SELECT sync_watermark FROM t_run2), (SELECT started_at FROM t_run1),
  'the next start answers the last success''s started_at as the point to sync from');
SELECT is((SELECT sync_watermark FROM vantage_sync_state WHERE resource = 'accounts'),
  (SELECT started_at FROM t_run1), 'a start keeps sync_watermark');
SELECT fail_vantage_sync('accounts', '[{"code":"E","message":"m"}]', (SELECT run_id FROM t_run2));
SELECT is((SELECT sync_watermark FROM vantage_sync_state WHERE resource = 'accounts'),
  (SELECT started_at FROM t_run1), 'a failure keeps sync_watermark');

-- run 3: its window holds the record changed in the middle of run 1
CREATE TEMP TABLE t_run3 ON COMMIT DROP AS SELECT * FROM start_vantage_sync_run('accounts');
SELECT is((SELECT sync_watermark FROM t_run3), (SELECT started_at FROM t_run1),
  'after the failure the start still answers run 1''s start');
SELECT results_eq(
  $$SELECT id FROM t_source WHERE changed_at >= (SELECT sync_watermark FROM t_run3) ORDER BY id$$,
  $$VALUES (2)$$,
  'the record changed in the middle of run 1 falls inside run 3''s window (changed since sync_watermark)');
SELECT is_empty(
  $$SELECT id FROM t_source
     WHERE changed_at >= (SELECT last_sync_time FROM vantage_sync_state WHERE resource = 'accounts')$$,
  '... where a window from last_sync_time would have missed it');

-- abort and the sweep keep it too
SELECT abort_vantage_sync('accounts', 'test', 'ops', (SELECT run_id FROM t_run3));
SELECT is((SELECT sync_watermark FROM vantage_sync_state WHERE resource = 'accounts'),
  (SELECT started_at FROM t_run1), 'an abort keeps sync_watermark');
SELECT start_vantage_sync('accounts');
UPDATE vantage_sync_runs r SET started_at = r.started_at - interval '2 hours'
  FROM vantage_sync_state s WHERE s.resource = 'accounts' AND r.run_id = s.current_run_id AND r.started_at = s.started_at;
UPDATE vantage_sync_state SET started_at = started_at - interval '2 hours' WHERE resource = 'accounts';
SELECT is((SELECT count(*)::int FROM sweep_stuck_vantage_syncs() WHERE resource = 'accounts'), 1, 'the sweep fails the stuck run');
SELECT is((SELECT sync_watermark FROM vantage_sync_state WHERE resource = 'accounts'),
  (SELECT started_at FROM t_run1), 'the stuck sweep keeps sync_watermark');
SELECT is((SELECT sync_watermark FROM vantage_sync_health WHERE resource = 'accounts'),
  (SELECT started_at FROM t_run1), 'the health view shows it');

-- a row written as already successful (service_role may write the table directly)
INSERT INTO vantage_sync_state (resource, last_sync_status, last_sync_time, started_at, completed_at)
VALUES ('probe_direct', 'success', now(), now() - interval '1 minute', now());
SELECT is((SELECT sync_watermark FROM vantage_sync_state WHERE resource = 'probe_direct'),
  now() - interval '1 minute', 'a row inserted as successful gets its started_at as the watermark');

-- the backfill -----------------------------------------------------------------------------------
-- Back to before the migration (the later ones depend on the column), rows of every kind, forward.
\ir ../../migrations/20261208100000_vantage_sync_search_path_rollback.sql
\ir ../../migrations/20261208090000_vantage_sync_progress_rollback.sql
\ir ../../migrations/20261202100200_vantage_sync_webhook_events_rollback.sql
\ir ../../migrations/20261202100100_vantage_sync_late_rollback.sql
\ir ../../migrations/20261202100000_vantage_sync_watermark_rollback.sql
-- funds: last run succeeded. cashflows: failed after a success the history holds.
-- commitments: failed, and its success predates the history. investors: never succeeded.
SELECT start_vantage_sync('funds'), complete_vantage_sync('funds', 1, 1, 0);
SELECT start_vantage_sync('cashflows'), complete_vantage_sync('cashflows', 1, 1, 0);
CREATE TEMP TABLE t_cashflows ON COMMIT DROP AS
  SELECT started_at FROM vantage_sync_state WHERE resource = 'cashflows';
SELECT start_vantage_sync('cashflows'), fail_vantage_sync('cashflows', '[{"code":"E","message":"m"}]');
UPDATE vantage_sync_state SET last_sync_status = 'failed', last_sync_time = now() - interval '3 days',
       started_at = now() - interval '1 hour', completed_at = now() - interval '59 minutes'
 WHERE resource = 'commitments';
SELECT start_vantage_sync('investors'), fail_vantage_sync('investors', '[{"code":"E","message":"m"}]');
\ir ../../migrations/20261202100000_vantage_sync_watermark.sql
\ir ../../migrations/20261202100100_vantage_sync_late.sql
\ir ../../migrations/20261202100200_vantage_sync_webhook_events.sql
\ir ../../migrations/20261208090000_vantage_sync_progress.sql
\ir ../../migrations/20261208100000_vantage_sync_search_path.sql

SELECT is((SELECT sync_watermark FROM vantage_sync_state WHERE resource = 'funds'),
  (SELECT started_at FROM vantage_sync_state WHERE resource = 'funds'),
  'backfill: a row whose last run succeeded gets that run''s started_at');
SELECT is((SELECT sync_watermark FROM vantage_sync_state WHERE resource = 'cashflows'),
  (SELECT started_at FROM t_cashflows),
  'backfill: a failed row gets the start of its last success from the history');
SELECT is((SELECT sync_watermark FROM vantage_sync_state WHERE resource = 'commitments'), NULL::timestamptz,
  'backfill: a failed row whose success the history does not hold gets NULL (sync everything)');
SELECT is((SELECT sync_watermark FROM vantage_sync_state WHERE resource = 'investors'), NULL::timestamptz,
  'backfill: a row that never succeeded gets NULL');

SELECT * FROM finish();
ROLLBACK;
