-- 08_run_ids_transitions: the state machine of 20261124190200_vantage_sync_state_machine.
-- start returns a run id (= current_run_id = a running vantage_sync_runs row); complete/fail
-- with the right p_run_id work, with a wrong one raise PT409 and change nothing, without one
-- (the spec's calls) still work; complete/fail of a resource that is not running, a retry with a
-- finished run's id and a start while a run is in progress raise PT409 with messages that name
-- the resource, its status or the current run; a start over a stuck run fails that run
-- (STUCK_SUPERSEDED) and goes ahead; unknown resources raise PT404; bad counts and errors raise
-- 22023 with a plain sentence; consecutive_failures counts failures since the last success; and
-- after every transition the state row and the run's history row agree.
-- Stuck runs are simulated by moving started_at back (state row and run row) as superuser.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(65);

-- helpers (pg_temp: gone with the session) ------------------------------------------------------
CREATE TEMP TABLE t_ids (k text PRIMARY KEY, run_id uuid) ON COMMIT DROP;

-- Field by field: does the state row of p_resource agree with the history row of its current
-- run? No history row for current_run_id gives no row (and fails results_eq).
CREATE FUNCTION pg_temp.agree(p_resource text)
RETURNS TABLE (status boolean, started_at boolean, completed_at boolean, duration_ms boolean,
               counts boolean, errors boolean)
LANGUAGE sql AS $$
  SELECT s.last_sync_status = r.status,
         s.started_at = r.started_at,
         s.completed_at IS NOT DISTINCT FROM r.completed_at,
         s.duration_ms IS NOT DISTINCT FROM r.duration_ms,
         (s.records_synced, s.records_created, s.records_updated)
           = (r.records_synced, r.records_created, r.records_updated),
         s.errors = r.errors
    FROM public.vantage_sync_state s
    JOIN public.vantage_sync_runs r ON r.run_id = s.current_run_id
   WHERE s.resource = p_resource
$$;

-- The state row and all history rows of a resource, to show that a refused call changed nothing.
CREATE FUNCTION pg_temp.snapshot(p_resource text) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object(
    'state', (SELECT to_jsonb(s) FROM public.vantage_sync_state s WHERE s.resource = p_resource),
    'runs', (SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.started_at), '[]')
               FROM public.vantage_sync_runs r WHERE r.resource = p_resource))
$$;
CREATE TEMP TABLE t_snap (k text PRIMARY KEY, snap jsonb) ON COMMIT DROP;

-- SQLSTATE, message and DETAIL of the error a statement raises.
CREATE FUNCTION pg_temp.err(p_sql text, OUT code text, OUT message text, OUT detail text)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE p_sql;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
END;
$$;

-- Moves the current run of p_resource back in time (state row and run row), as if it had been
-- running that much longer.
CREATE FUNCTION pg_temp.backdate(p_resource text, p_by interval) RETURNS void LANGUAGE sql AS $$
  UPDATE public.vantage_sync_runs r SET started_at = r.started_at - p_by
    FROM public.vantage_sync_state s
   WHERE s.resource = p_resource AND r.run_id = s.current_run_id AND r.started_at = s.started_at;
  UPDATE public.vantage_sync_state SET started_at = started_at - p_by WHERE resource = p_resource;
$$;

-- start returns the run id ----------------------------------------------------------------------
INSERT INTO t_ids SELECT 'a1', start_vantage_sync('accounts');
SELECT isnt((SELECT run_id FROM t_ids WHERE k = 'a1'), NULL, 'start returns a run id');
SELECT is(
  (SELECT current_run_id FROM vantage_sync_state WHERE resource = 'accounts'),
  (SELECT run_id FROM t_ids WHERE k = 'a1'),
  'the run id is the state row''s current_run_id');
SELECT results_eq(
  $$SELECT resource, status, completed_at, duration_ms, records_synced, records_created,
           records_updated, errors
      FROM vantage_sync_runs WHERE run_id = (SELECT run_id FROM t_ids WHERE k = 'a1')$$,
  $$VALUES ('accounts'::text, 'running'::text, NULL::timestamptz, NULL::integer, 0, 0, 0, '[]'::jsonb)$$,
  'start writes one running history row for the run id');
SELECT results_eq(
  $$SELECT status, started_at, completed_at, duration_ms FROM pg_temp.agree('accounts')$$,
  $$VALUES (true, true, true, true)$$,
  'after start: state and history agree (status, started_at, completed_at, duration_ms)');

-- start while running (not stuck) -----------------------------------------------------------------
INSERT INTO t_snap SELECT 'a_running', pg_temp.snapshot('accounts');
SELECT throws_ok(
  $$SELECT start_vantage_sync('accounts')$$,
  'PT409',
  (SELECT format('resource "accounts" already has a run in progress: run %s started at %s',
                 current_run_id, started_at)
     FROM vantage_sync_state WHERE resource = 'accounts'),
  'start while running: PT409 naming the current run');
SELECT is(
  (SELECT nullif(detail, '')::jsonb ->> 'current_run_id' FROM pg_temp.err($$SELECT start_vantage_sync('accounts')$$)),
  (SELECT run_id::text FROM t_ids WHERE k = 'a1'),
  'start while running: DETAIL carries the current run id');
SELECT is(pg_temp.snapshot('accounts'), (SELECT snap FROM t_snap WHERE k = 'a_running'),
  'start while running changed nothing');

-- a wrong p_run_id ------------------------------------------------------------------------------
SELECT throws_ok(
  $$SELECT complete_vantage_sync('accounts', 1, 1, 0, '00000000-0000-4000-8000-000000000001')$$,
  'PT409',
  (SELECT format('cannot complete run 00000000-0000-4000-8000-000000000001 of "accounts": it is not the current run (that is %s with status running)',
                 run_id) FROM t_ids WHERE k = 'a1'),
  'complete with a wrong run id: PT409');
SELECT throws_ok(
  $$SELECT fail_vantage_sync('accounts', '[]', '00000000-0000-4000-8000-000000000001')$$,
  'PT409',
  (SELECT format('cannot fail run 00000000-0000-4000-8000-000000000001 of "accounts": it is not the current run (that is %s with status running)',
                 run_id) FROM t_ids WHERE k = 'a1'),
  'fail with a wrong run id: PT409');
SELECT is(
  (SELECT nullif(detail, '')::jsonb - 'started_at' FROM pg_temp.err(
     $$SELECT fail_vantage_sync('accounts', '[]', '00000000-0000-4000-8000-000000000001')$$)),
  (SELECT jsonb_build_object('resource', 'accounts', 'status', 'running', 'current_run_id', run_id,
                             'completed_at', NULL) FROM t_ids WHERE k = 'a1'),
  'wrong run id: DETAIL describes the current run');
SELECT is(pg_temp.snapshot('accounts'), (SELECT snap FROM t_snap WHERE k = 'a_running'),
  'calls with a wrong run id changed nothing');

-- complete with the right p_run_id ------------------------------------------------------------
SELECT pg_sleep(0.01);
SELECT lives_ok(
  $$SELECT complete_vantage_sync('accounts', 100, 10, 90, (SELECT run_id FROM t_ids WHERE k = 'a1'))$$,
  'complete with the right run id');
SELECT results_eq(
  $$SELECT last_sync_status, records_synced, records_created, records_updated, errors,
           consecutive_failures, last_sync_time = completed_at, duration_ms > 0
      FROM vantage_sync_state WHERE resource = 'accounts'$$,
  $$VALUES ('success'::text, 100, 10, 90, '[]'::jsonb, 0, true, true)$$,
  'complete: state row success with the counts');
SELECT results_eq(
  $$SELECT * FROM pg_temp.agree('accounts')$$,
  $$VALUES (true, true, true, true, true, true)$$,
  'after complete: state and history agree on every field');
SELECT is(
  (SELECT current_run_id FROM vantage_sync_state WHERE resource = 'accounts'),
  (SELECT run_id FROM t_ids WHERE k = 'a1'),
  'after complete current_run_id still names the last run');

-- retries with a finished run's id; complete/fail of a resource that is not running ------------
INSERT INTO t_snap SELECT 'a_done', pg_temp.snapshot('accounts');
SELECT throws_ok(
  $$SELECT complete_vantage_sync('accounts', 100, 10, 90, (SELECT run_id FROM t_ids WHERE k = 'a1'))$$,
  'PT409',
  (SELECT format('cannot complete run %s of "accounts": it already finished with status success at %s',
                 current_run_id, completed_at)
     FROM vantage_sync_state WHERE resource = 'accounts'),
  'retried complete with the finished run''s id: PT409 "already finished"');
SELECT throws_ok(
  $$SELECT fail_vantage_sync('accounts', '[]', (SELECT run_id FROM t_ids WHERE k = 'a1'))$$,
  'PT409',
  (SELECT format('cannot fail run %s of "accounts": it already finished with status success at %s',
                 current_run_id, completed_at)
     FROM vantage_sync_state WHERE resource = 'accounts'),
  'fail with the finished run''s id: PT409 "already finished"');
SELECT throws_ok(
  $$SELECT complete_vantage_sync('accounts', 1, 1, 0)$$,
  'PT409', 'cannot complete "accounts": it is not running (status success)',
  'complete of a finished resource: PT409 naming resource and status');
SELECT throws_ok(
  $$SELECT fail_vantage_sync('accounts', '[{"code":"X"}]')$$,
  'PT409', 'cannot fail "accounts": it is not running (status success)',
  'fail of a finished resource: PT409 naming resource and status');
SELECT is(pg_temp.snapshot('accounts'), (SELECT snap FROM t_snap WHERE k = 'a_done'),
  'the refused retries changed nothing');
SELECT throws_ok(
  $$SELECT complete_vantage_sync('cashflows', 1, 1, 0)$$,
  'PT409', 'cannot complete "cashflows": it is not running (status never_run)',
  'complete of a never-run resource: PT409');
SELECT throws_ok(
  $$SELECT fail_vantage_sync('cashflows', '[]')$$,
  'PT409', 'cannot fail "cashflows": it is not running (status never_run)',
  'fail of a never-run resource: PT409');
SELECT throws_ok(
  $$SELECT complete_vantage_sync('cashflows', 1, 1, 0, '00000000-0000-4000-8000-000000000001')$$,
  'PT409',
  'cannot complete run 00000000-0000-4000-8000-000000000001 of "cashflows": it is not the current run (that is none with status never_run)',
  'complete of a never-run resource with a run id: PT409');
SELECT is(
  (SELECT last_sync_status FROM vantage_sync_state WHERE resource = 'cashflows'), 'never_run',
  'refused calls left cashflows never_run');

-- unknown resources -------------------------------------------------------------------------
SELECT throws_ok(
  $$SELECT complete_vantage_sync('no_such_resource', 1, 1, 0, gen_random_uuid())$$,
  'PT404', 'unknown resource "no_such_resource": call start_vantage_sync first',
  'complete of an unknown resource with a run id: PT404');
SELECT throws_ok(
  $$SELECT fail_vantage_sync('no_such_resource', '[]', gen_random_uuid())$$,
  'PT404', 'unknown resource "no_such_resource": call start_vantage_sync first',
  'fail of an unknown resource with a run id: PT404');
SELECT throws_ok(
  $$SELECT fail_vantage_sync('no_such_resource', '[]')$$,
  'PT404', 'unknown resource "no_such_resource": call start_vantage_sync first',
  'fail of an unknown resource: PT404');
SELECT is_empty(
  $$SELECT 1 FROM vantage_sync_state WHERE resource = 'no_such_resource'
    UNION ALL SELECT 1 FROM vantage_sync_runs WHERE resource = 'no_such_resource'$$,
  'unknown resources get neither a state row nor a history row');

-- bad input: 22023 with a plain sentence --------------------------------------------------------
INSERT INTO t_ids SELECT 'v1', start_vantage_sync('valuations');
INSERT INTO t_snap SELECT 'v_running', pg_temp.snapshot('valuations');
SELECT throws_ok(
  $$SELECT complete_vantage_sync('valuations', NULL, 0, 0)$$,
  '22023', 'give all three record counts (synced, created, updated) or none (got synced null, created 0, updated 0)',
  'NULL records_synced with the other two given: 22023');
SELECT throws_ok(
  $$SELECT complete_vantage_sync('valuations', 5, -1, 0)$$,
  '22023', 'record counts must be whole numbers >= 0 (got synced 5, created -1, updated 0)',
  'negative records_created: 22023');
SELECT throws_ok(
  $$SELECT complete_vantage_sync('valuations', 5, 0, NULL)$$,
  '22023', 'give all three record counts (synced, created, updated) or none (got synced 5, created 0, updated null)',
  'NULL records_updated with the other two given: 22023');
SELECT throws_ok(
  $$SELECT fail_vantage_sync('valuations', '[{"code":"A"}, "just text"]')$$,
  '22023', 'errors must be a JSON array of objects, like [{"code": "API_TIMEOUT", "message": "..."}]',
  'errors array with a non-object element: 22023');
SELECT throws_ok(
  $$SELECT fail_vantage_sync('valuations', '[1, 2]')$$,
  '22023', 'errors must be a JSON array of objects, like [{"code": "API_TIMEOUT", "message": "..."}]',
  'errors array of numbers: 22023');
SELECT throws_ok(
  $$SELECT fail_vantage_sync('valuations', '"timeout"')$$,
  '22023', 'errors must be a JSON array of objects, got a JSON string',
  'errors as a JSON string: 22023');
SELECT throws_ok(
  $$SELECT fail_vantage_sync('valuations', 'null'::jsonb)$$,
  '22023', 'errors must be a JSON array of objects, got a JSON null',
  'errors as JSON null: 22023');
SELECT is(pg_temp.snapshot('valuations'), (SELECT snap FROM t_snap WHERE k = 'v_running'),
  'rejected input changed nothing');
SELECT lives_ok($$SELECT fail_vantage_sync('valuations', NULL)$$, 'SQL NULL errors: accepted (spec: no errors)');
SELECT results_eq(
  $$SELECT s.last_sync_status, s.errors, r.status, r.errors
      FROM vantage_sync_state s JOIN vantage_sync_runs r ON r.run_id = s.current_run_id
     WHERE s.resource = 'valuations'$$,
  $$VALUES ('failed'::text, '[]'::jsonb, 'failed'::text, '[]'::jsonb)$$,
  'SQL NULL errors stored as [] in state and history');

-- fail, consecutive_failures, reset on success -------------------------------------------------
SELECT is((SELECT consecutive_failures FROM vantage_sync_state WHERE resource = 'funds'), 0,
  'funds starts with 0 consecutive failures');
INSERT INTO t_ids SELECT 'f1', start_vantage_sync('funds');
SELECT pg_sleep(0.01);
SELECT lives_ok(
  $$SELECT fail_vantage_sync('funds', '[{"code":"API_TIMEOUT","message":"timed out"}]',
                             (SELECT run_id FROM t_ids WHERE k = 'f1'))$$,
  'fail with the right run id');
SELECT results_eq(
  $$SELECT last_sync_status, consecutive_failures, errors, last_sync_time, duration_ms > 0
      FROM vantage_sync_state WHERE resource = 'funds'$$,
  $$VALUES ('failed'::text, 1, '[{"code":"API_TIMEOUT","message":"timed out"}]'::jsonb, NULL::timestamptz, true)$$,
  'fail: state row failed, 1 consecutive failure, errors stored, no watermark');
SELECT results_eq(
  $$SELECT status, started_at, completed_at, duration_ms, errors FROM pg_temp.agree('funds')$$,
  $$VALUES (true, true, true, true, true)$$,
  'after fail: state and history agree (status, times, duration, errors)');
SELECT results_eq(
  $$SELECT records_synced, records_created, records_updated FROM vantage_sync_runs
     WHERE run_id = (SELECT run_id FROM t_ids WHERE k = 'f1')$$,
  $$VALUES (0, 0, 0)$$,
  'a failed run records no counts in the history');

INSERT INTO t_ids SELECT 'f2', start_vantage_sync('funds');
SELECT is((SELECT consecutive_failures FROM vantage_sync_state WHERE resource = 'funds'), 1,
  'start does not reset consecutive_failures');
SELECT lives_ok($$SELECT fail_vantage_sync('funds', '[{"code":"E2","message":"again"}]')$$,
  'fail without run id (spec call)');
SELECT is((SELECT consecutive_failures FROM vantage_sync_state WHERE resource = 'funds'), 2,
  'second failure: 2 consecutive failures');
SELECT results_eq(
  $$SELECT status, started_at, completed_at, duration_ms, errors FROM pg_temp.agree('funds')$$,
  $$VALUES (true, true, true, true, true)$$,
  'after the spec-style fail: state and history agree');
SELECT is(
  (SELECT status FROM vantage_sync_runs WHERE run_id = (SELECT run_id FROM t_ids WHERE k = 'f1')),
  'failed', 'the earlier run''s history row is untouched');
INSERT INTO t_ids SELECT 'f3', start_vantage_sync('funds');
SELECT fail_vantage_sync('funds', '[{"code":"E3","message":"and again"}]', (SELECT run_id FROM t_ids WHERE k = 'f3'));
SELECT is((SELECT consecutive_failures FROM vantage_sync_state WHERE resource = 'funds'), 3,
  'third failure: 3 consecutive failures');
INSERT INTO t_ids SELECT 'f4', start_vantage_sync('funds');
SELECT lives_ok($$SELECT complete_vantage_sync('funds', 7, 3, 4)$$, 'complete without run id (spec call)');
SELECT results_eq(
  $$SELECT last_sync_status, consecutive_failures, errors FROM vantage_sync_state WHERE resource = 'funds'$$,
  $$VALUES ('success'::text, 0, '[]'::jsonb)$$,
  'success resets consecutive_failures to 0 and clears errors');
SELECT results_eq(
  $$SELECT * FROM pg_temp.agree('funds')$$,
  $$VALUES (true, true, true, true, true, true)$$,
  'after the spec-style complete: state and history agree on every field');
SELECT results_eq(
  $$SELECT k, r.status FROM t_ids JOIN vantage_sync_runs r USING (run_id) WHERE k LIKE 'f%' ORDER BY k$$,
  $$VALUES ('f1'::text, 'failed'::text), ('f2', 'failed'), ('f3', 'failed'), ('f4', 'success')$$,
  'four runs, four history rows with their outcomes');
SELECT is(
  (SELECT count(DISTINCT run_id)::int FROM t_ids WHERE k LIKE 'f%'), 4,
  'every start returned a new run id');

-- start over a stuck run --------------------------------------------------------------------
INSERT INTO t_ids SELECT 'i1', start_vantage_sync('investors');
SELECT fail_vantage_sync('investors', '[{"code":"E","message":"m"}]');
INSERT INTO t_ids SELECT 'i2', start_vantage_sync('investors');
SELECT pg_temp.backdate('investors', interval '29 minutes 50 seconds');
SELECT throws_ok(
  $$SELECT start_vantage_sync('investors')$$,
  'PT409',
  (SELECT format('resource "investors" already has a run in progress: run %s started at %s',
                 current_run_id, started_at)
     FROM vantage_sync_state WHERE resource = 'investors'),
  'a run just under 30 minutes old is not stuck: start raises PT409');
SELECT pg_temp.backdate('investors', interval '1 minute');
INSERT INTO t_ids SELECT 'i3', start_vantage_sync('investors');
SELECT isnt(
  (SELECT run_id FROM t_ids WHERE k = 'i3'), (SELECT run_id FROM t_ids WHERE k = 'i2'),
  'start over a stuck run returns a new run id');
SELECT results_eq(
  $$SELECT last_sync_status, current_run_id = (SELECT run_id FROM t_ids WHERE k = 'i3'),
           consecutive_failures, errors -> 0 ->> 'code'
      FROM vantage_sync_state WHERE resource = 'investors'$$,
  $$VALUES ('running'::text, true, 2, 'STUCK_SUPERSEDED'::text)$$,
  'state row: the new run is running; the superseded run counted as a failure');
SELECT results_eq(
  $$SELECT status, errors -> 0 ->> 'code', errors -> 0 ->> 'superseded_by',
           completed_at = (SELECT started_at FROM vantage_sync_state WHERE resource = 'investors'),
           duration_ms >= 30 * 60 * 1000
      FROM vantage_sync_runs WHERE run_id = (SELECT run_id FROM t_ids WHERE k = 'i2')$$,
  $$SELECT 'failed'::text, 'STUCK_SUPERSEDED'::text, run_id::text, true, true FROM t_ids WHERE k = 'i3'$$,
  'the stuck run''s history row: failed, STUCK_SUPERSEDED, superseded_by the new run');
SELECT results_eq(
  $$SELECT status, started_at, completed_at, duration_ms FROM pg_temp.agree('investors')$$,
  $$VALUES (true, true, true, true)$$,
  'after supersede: state row and the new run''s history row agree');
SELECT is(
  (SELECT count(*)::int FROM vantage_sync_runs WHERE resource = 'investors' AND status = 'running'), 1,
  'only one running history row for the resource');
SELECT lives_ok(
  $$SELECT complete_vantage_sync('investors', 1, 1, 0, (SELECT run_id FROM t_ids WHERE k = 'i3'))$$,
  'the new run can be completed with its id');
SELECT throws_ok(
  $$SELECT complete_vantage_sync('investors', 1, 1, 0, (SELECT run_id FROM t_ids WHERE k = 'i2'))$$,
  'PT409',
  (SELECT format('cannot complete run %s of "investors": it is not the current run (that is %s with status success)',
                 (SELECT run_id FROM t_ids WHERE k = 'i2'), run_id) FROM t_ids WHERE k = 'i3'),
  'the superseded run can no longer complete');

-- start of an unknown resource creates it ------------------------------------------------------
INSERT INTO t_ids SELECT 'n1', start_vantage_sync('probe_new');
SELECT results_eq(
  $$SELECT s.last_sync_status, s.current_run_id = t.run_id, r.status
      FROM vantage_sync_state s JOIN t_ids t ON t.k = 'n1'
      JOIN vantage_sync_runs r ON r.run_id = t.run_id
     WHERE s.resource = 'probe_new'$$,
  $$VALUES ('running'::text, true, 'running'::text)$$,
  'start of a new resource: state row and history row with the run id');

-- every run in the history belongs to a state row and, if current, agrees with it
SELECT is_empty(
  $$SELECT r.run_id FROM vantage_sync_runs r
     WHERE NOT EXISTS (SELECT 1 FROM vantage_sync_state s WHERE s.resource = r.resource)$$,
  'no orphan history rows');
SELECT is_empty(
  $$SELECT resource FROM vantage_sync_state
     WHERE (last_sync_status = 'running') <> EXISTS (
             SELECT 1 FROM vantage_sync_runs r
              WHERE r.resource = vantage_sync_state.resource AND r.status = 'running')$$,
  'a resource has a running history row exactly when its state row is running');

SELECT * FROM finish();
ROLLBACK;
