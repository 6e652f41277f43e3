-- 09_sweep_abort: sweep_stuck_vantage_syncs() fails exactly the runs past their resource's stuck
-- threshold (default 30 minutes, or the schedule's stuck_after) with STUCK_TIMEOUT, returns
-- (resource, run_id, started_at, stuck_for) for each, and sweeps nothing on a second call; runs
-- just under the threshold are left alone (the sweep reads clock_timestamp(), so "exactly at the
-- threshold" cannot be pinned here: 10 s under it stands in for it; the exact boundary of the
-- same strict rule is tested on the health functions in 12). start honours a schedule's
-- stuck_after too. abort_vantage_sync(resource, reason, aborted_by) fails the running run with
-- code ABORTED and the reason, requires a reason (22023), raises PT409 when not running and PT404
-- for an unknown resource. Stuck runs are simulated by moving started_at back as superuser.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(39);

CREATE TEMP TABLE t_ids (k text PRIMARY KEY, run_id uuid) ON COMMIT DROP;

CREATE FUNCTION pg_temp.backdate(p_resource text, p_by interval) RETURNS void LANGUAGE sql AS $$
  UPDATE public.vantage_sync_runs r SET started_at = r.started_at - p_by
    FROM public.vantage_sync_state s
   WHERE s.resource = p_resource AND r.run_id = s.current_run_id AND r.started_at = s.started_at;
  UPDATE public.vantage_sync_state SET started_at = started_at - p_by WHERE resource = p_resource;
$$;

CREATE FUNCTION pg_temp.agree(p_resource text) RETURNS boolean LANGUAGE sql AS $$
  SELECT s.last_sync_status = r.status AND s.started_at = r.started_at
         AND s.completed_at IS NOT DISTINCT FROM r.completed_at
         AND s.duration_ms IS NOT DISTINCT FROM r.duration_ms AND s.errors = r.errors
    FROM public.vantage_sync_state s
    JOIN public.vantage_sync_runs r ON r.run_id = s.current_run_id
   WHERE s.resource = p_resource
$$;

-- the scene ----------------------------------------------------------------------------------
-- accounts:    default threshold, running 31 min          -> swept
-- funds:       default threshold, running 29 min 50 s     -> not swept
-- investors:   stuck_after 2 hours, running 1 hour        -> not swept
-- investments: stuck_after 10 minutes, running 11 minutes -> swept
-- cashflows:   finished 3 hours after a start 3 hours ago -> not swept (not running)
INSERT INTO vantage_sync_schedules (resource, stuck_after) VALUES
  ('investors', interval '2 hours'), ('investments', interval '10 minutes');
INSERT INTO t_ids SELECT 'accounts', start_vantage_sync('accounts');
SELECT pg_temp.backdate('accounts', interval '31 minutes');
INSERT INTO t_ids SELECT 'funds', start_vantage_sync('funds');
SELECT pg_temp.backdate('funds', interval '29 minutes 50 seconds');
INSERT INTO t_ids SELECT 'investors', start_vantage_sync('investors');
SELECT pg_temp.backdate('investors', interval '1 hour');
INSERT INTO t_ids SELECT 'investments', start_vantage_sync('investments');
SELECT pg_temp.backdate('investments', interval '11 minutes');
INSERT INTO t_ids SELECT 'cashflows', start_vantage_sync('cashflows');
SELECT pg_temp.backdate('cashflows', interval '3 hours');
SELECT complete_vantage_sync('cashflows', 1, 1, 0);

-- sweep --------------------------------------------------------------------------------------
CREATE TEMP TABLE t_swept ON COMMIT DROP AS SELECT * FROM sweep_stuck_vantage_syncs();
SELECT results_eq(
  $$SELECT w.resource, w.run_id = t.run_id, w.started_at = s.started_at
      FROM t_swept w JOIN t_ids t ON t.k = w.resource JOIN vantage_sync_state s USING (resource)
     ORDER BY w.resource$$,
  $$VALUES ('accounts'::text, true, true), ('investments', true, true)$$,
  'sweep returns exactly the runs past their threshold, with run id and started_at');
SELECT ok(
  (SELECT stuck_for >= interval '31 minutes' AND stuck_for < interval '32 minutes'
     FROM t_swept WHERE resource = 'accounts'),
  'stuck_for: how long accounts has been running');
SELECT ok(
  (SELECT stuck_for >= interval '11 minutes' AND stuck_for < interval '12 minutes'
     FROM t_swept WHERE resource = 'investments'),
  'stuck_for: how long investments has been running');
SELECT results_eq(
  $$SELECT resource, last_sync_status, errors -> 0 ->> 'code', jsonb_array_length(errors),
           consecutive_failures, completed_at IS NOT NULL
      FROM vantage_sync_state WHERE resource IN ('accounts', 'investments') ORDER BY resource$$,
  $$VALUES ('accounts'::text, 'failed'::text, 'STUCK_TIMEOUT'::text, 1, 1, true),
           ('investments', 'failed', 'STUCK_TIMEOUT', 1, 1, true)$$,
  'swept state rows: failed with STUCK_TIMEOUT, one more consecutive failure');
SELECT ok(
  (SELECT errors -> 0 ->> 'message' LIKE format('run %s was still running after 00:31:%%', t.run_id)
     FROM vantage_sync_state s JOIN t_ids t ON t.k = s.resource WHERE s.resource = 'accounts'),
  'STUCK_TIMEOUT message names the run and how long it ran');
SELECT ok(
  (SELECT (errors -> 0 ->> 'timestamp')::timestamptz = completed_at
     FROM vantage_sync_state WHERE resource = 'accounts'),
  'STUCK_TIMEOUT timestamp is the completion time');
SELECT results_eq(
  $$SELECT r.resource, r.status, r.errors -> 0 ->> 'code'
      FROM vantage_sync_runs r JOIN t_ids t ON t.run_id = r.run_id
     WHERE t.k IN ('accounts', 'investments') ORDER BY r.resource$$,
  $$VALUES ('accounts'::text, 'failed'::text, 'STUCK_TIMEOUT'::text), ('investments', 'failed', 'STUCK_TIMEOUT')$$,
  'swept runs: history rows failed with STUCK_TIMEOUT');
SELECT ok(pg_temp.agree('accounts') AND pg_temp.agree('investments'),
  'swept: state rows and history rows agree');
SELECT results_eq(
  $$SELECT s.resource, s.last_sync_status, r.status
      FROM vantage_sync_state s JOIN vantage_sync_runs r ON r.run_id = s.current_run_id
     WHERE s.resource IN ('funds', 'investors', 'cashflows') ORDER BY s.resource$$,
  $$VALUES ('cashflows'::text, 'success'::text, 'success'::text),
           ('funds', 'running', 'running'), ('investors', 'running', 'running')$$,
  'runs under their threshold and finished runs are left alone');
SELECT is_empty($$SELECT * FROM sweep_stuck_vantage_syncs()$$, 'a second sweep sweeps nothing');
SELECT is(
  (SELECT consecutive_failures FROM vantage_sync_state WHERE resource = 'accounts'), 1,
  'the second sweep did not count another failure');

-- a late complete of a swept run -----------------------------------------------------------------
SELECT throws_ok(
  $$SELECT complete_vantage_sync('accounts', 1, 1, 0, (SELECT run_id FROM t_ids WHERE k = 'accounts'))$$,
  'PT409',
  (SELECT format('cannot complete run %s of "accounts": it already finished with status failed at %s',
                 current_run_id, completed_at) FROM vantage_sync_state WHERE resource = 'accounts'),
  'a late complete of a swept run: PT409 "already finished"');
SELECT lives_ok($$SELECT start_vantage_sync('accounts')$$, 'a swept resource can start again');

-- sweep threshold moves with the schedule --------------------------------------------------------
UPDATE vantage_sync_schedules SET stuck_after = interval '59 minutes' WHERE resource = 'investors';
SELECT results_eq(
  $$SELECT resource FROM sweep_stuck_vantage_syncs()$$,
  $$VALUES ('investors'::text)$$,
  'lowering a schedule''s stuck_after makes the sweep take the run');

-- start honours the schedule's stuck_after -------------------------------------------------------
INSERT INTO vantage_sync_schedules (resource, stuck_after) VALUES ('valuations', interval '2 hours');
INSERT INTO t_ids SELECT 'valuations', start_vantage_sync('valuations');
SELECT pg_temp.backdate('valuations', interval '1 hour');
SELECT throws_ok(
  $$SELECT start_vantage_sync('valuations')$$, 'PT409', NULL,
  'start: a run under the schedule''s 2 hours is not stuck, though past 30 minutes');
UPDATE vantage_sync_schedules SET stuck_after = interval '5 minutes' WHERE resource = 'valuations';
SELECT lives_ok($$SELECT start_vantage_sync('valuations')$$,
  'start: a run past the schedule''s 5 minutes is superseded');
SELECT results_eq(
  $$SELECT status, errors -> 0 ->> 'code' FROM vantage_sync_runs
     WHERE run_id = (SELECT run_id FROM t_ids WHERE k = 'valuations')$$,
  $$VALUES ('failed'::text, 'STUCK_SUPERSEDED'::text)$$,
  'the superseded run failed with STUCK_SUPERSEDED');

-- abort ------------------------------------------------------------------------------------------
INSERT INTO t_ids SELECT 'commitments', start_vantage_sync('commitments');
CREATE TEMP TABLE t_abort ON COMMIT DROP AS
  SELECT abort_vantage_sync('commitments', 'operator stopped the backfill', 'admin@vantage.local') AS run_id;
SELECT is(
  (SELECT run_id FROM t_abort), (SELECT run_id FROM t_ids WHERE k = 'commitments'),
  'abort returns the aborted run''s id');
SELECT results_eq(
  $$SELECT last_sync_status, consecutive_failures, (errors -> 0) - 'timestamp', jsonb_array_length(errors),
           (errors -> 0 ->> 'timestamp')::timestamptz = completed_at
      FROM vantage_sync_state WHERE resource = 'commitments'$$,
  $$VALUES ('failed'::text, 1,
            '{"code": "ABORTED", "message": "operator stopped the backfill", "aborted_by": "admin@vantage.local"}'::jsonb,
            1, true)$$,
  'abort: failed with code ABORTED, the reason, who, when');
SELECT is(
  (SELECT status FROM vantage_sync_runs WHERE run_id = (SELECT run_id FROM t_abort)), 'failed',
  'abort: the run''s history row failed');
SELECT ok(pg_temp.agree('commitments'), 'abort: state row and history row agree');
SELECT ok(
  (SELECT last_sync_time IS NULL FROM vantage_sync_state WHERE resource = 'commitments'),
  'abort: no watermark');
SELECT throws_ok(
  $$SELECT abort_vantage_sync('commitments', 'again')$$,
  'PT409', 'cannot abort "commitments": it is not running (status failed)',
  'abort of a resource that is not running: PT409');
SELECT throws_ok(
  $$SELECT abort_vantage_sync('investors', 'stop')$$,
  'PT409', 'cannot abort "investors": it is not running (status failed)',
  'abort of a swept resource: PT409');
SELECT throws_ok(
  $$SELECT abort_vantage_sync('no_such_resource', 'stop')$$,
  'PT404', 'unknown resource "no_such_resource": call start_vantage_sync first',
  'abort of an unknown resource: PT404');
SELECT throws_ok(
  $$SELECT abort_vantage_sync('funds', NULL)$$,
  '22023', 'a reason is required to abort a run', 'abort without a reason: 22023');
SELECT throws_ok(
  $$SELECT abort_vantage_sync('funds', '')$$,
  '22023', 'a reason is required to abort a run', 'abort with an empty reason: 22023');
SELECT throws_ok(
  $$SELECT abort_vantage_sync('funds', '   ')$$,
  '22023', 'a reason is required to abort a run', 'abort with a blank reason: 22023');
SELECT throws_ok(
  $$SELECT abort_vantage_sync('no_such_resource', NULL)$$,
  '22023', 'a reason is required to abort a run', 'the reason is checked first');
SELECT is(
  (SELECT last_sync_status FROM vantage_sync_state WHERE resource = 'funds'), 'running',
  'refused aborts left funds running');
SELECT lives_ok($$SELECT abort_vantage_sync('funds', 'stop')$$, 'abort without aborted_by');
SELECT results_eq(
  $$SELECT errors -> 0 ->> 'code', errors -> 0 ->> 'message', errors -> 0 ? 'aborted_by'
      FROM vantage_sync_state WHERE resource = 'funds'$$,
  $$VALUES ('ABORTED'::text, 'stop'::text, false)$$,
  'abort without aborted_by: no aborted_by key');
SELECT ok(pg_temp.agree('funds'), 'abort without aborted_by: state and history agree');
SELECT throws_ok(
  $$SELECT abort_vantage_sync('cashflows', 'stop')$$,
  'PT409', 'cannot abort "cashflows": it is not running (status success)',
  'abort of a succeeded resource: PT409');
SELECT throws_ok(
  $$SELECT abort_vantage_sync('probe_never', 'stop')$$,
  'PT404', 'unknown resource "probe_never": call start_vantage_sync first',
  'abort does not create a resource');

-- after all of it ------------------------------------------------------------------------------
SELECT is_empty(
  $$SELECT resource FROM vantage_sync_state
     WHERE (last_sync_status = 'running') <> EXISTS (
             SELECT 1 FROM vantage_sync_runs r
              WHERE r.resource = vantage_sync_state.resource AND r.status = 'running')$$,
  'a resource has a running history row exactly when its state row is running');
SELECT is_empty(
  $$SELECT resource FROM vantage_sync_runs GROUP BY resource HAVING count(*) FILTER (WHERE status = 'running') > 1$$,
  'no resource has two running history rows');
SELECT results_eq(
  $$SELECT resource, count(*)::int FROM vantage_sync_runs GROUP BY resource ORDER BY resource$$,
  $$VALUES ('accounts'::text, 2), ('cashflows', 1), ('commitments', 1), ('funds', 1),
           ('investments', 1), ('investors', 1), ('valuations', 2)$$,
  'one history row per start');
SELECT is_empty($$SELECT * FROM sweep_stuck_vantage_syncs()$$, 'nothing left to sweep');

SELECT * FROM finish();
ROLLBACK;
