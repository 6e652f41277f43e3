-- 31_progress: progress_vantage_sync_run(resource, run_id, records_synced) stores the time of the
-- last heartbeat (returned) and the records so far on the state row and the run's history row;
-- it is SECURITY DEFINER with search_path = '' and EXECUTE for service_role only; a run that is
-- not the resource's current running run gets PT409 with the run as JSON in DETAIL, an unknown
-- resource PT404, a missing run id or a negative count 22023, and none of them changes anything;
-- start clears both on the state row. The stuck rule (coalesce(last_heartbeat_at, started_at)
-- older than stuck_after) in the rule functions, the view, the sweep and start's take-over: a
-- run heard from recently is not stuck however long it runs, one whose last heartbeat is older
-- than stuck_after is, and one that never sent a heartbeat keeps the spec's rule. A completion
-- with no counts: 0 and counts_reported = false on the state row, NULL in the history, null in
-- the webhook payload; partial counts are refused. Times are moved back as superuser.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(60);

CREATE TEMP TABLE t_ids (k text PRIMARY KEY, run_id uuid) ON COMMIT DROP;
CREATE TEMP TABLE t_beats (k text PRIMARY KEY, at timestamptz) ON COMMIT DROP;

-- Moves a running run's start (state and history) back by p_by.
CREATE FUNCTION pg_temp.backdate(p_resource text, p_by interval) RETURNS void LANGUAGE sql AS $$
  UPDATE public.vantage_sync_runs r SET started_at = r.started_at - p_by
    FROM public.vantage_sync_state s
   WHERE s.resource = p_resource AND r.run_id = s.current_run_id AND r.started_at = s.started_at;
  UPDATE public.vantage_sync_state SET started_at = started_at - p_by WHERE resource = p_resource;
$$;

-- Sets the last heartbeat of a running run (state and history) to now() - p_ago.
CREATE FUNCTION pg_temp.heard(p_resource text, p_ago interval) RETURNS void LANGUAGE sql AS $$
  UPDATE public.vantage_sync_runs r SET last_heartbeat_at = now() - p_ago
    FROM public.vantage_sync_state s
   WHERE s.resource = p_resource AND r.run_id = s.current_run_id AND r.started_at = s.started_at;
  UPDATE public.vantage_sync_state SET last_heartbeat_at = now() - p_ago WHERE resource = p_resource;
$$;

CREATE FUNCTION pg_temp.beat(p_resource text) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(last_heartbeat_at::text, 'null') || '/' || coalesce(records_so_far::text, 'null')
    FROM public.vantage_sync_state WHERE resource = p_resource
$$;

CREATE FUNCTION pg_temp.run_beat(p_run_id uuid) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(last_heartbeat_at::text, 'null') || '/' || coalesce(records_so_far::text, 'null')
    FROM public.vantage_sync_runs WHERE run_id = p_run_id
$$;

-- the function and who may call it ----------------------------------------------------------
SELECT function_returns('public', 'progress_vantage_sync_run', ARRAY['text', 'uuid', 'bigint'],
  'timestamp with time zone', 'progress_vantage_sync_run(text, uuid, bigint) returns timestamptz');
SELECT is_definer('public', 'progress_vantage_sync_run', ARRAY['text', 'uuid', 'bigint'],
  'progress_vantage_sync_run is SECURITY DEFINER (it writes the history)');
SELECT ok(
  (SELECT proconfig @> ARRAY['search_path=""'] FROM pg_proc
    WHERE oid = 'public.progress_vantage_sync_run(text, uuid, bigint)'::regprocedure),
  'progress_vantage_sync_run sets search_path = ''''');
SELECT ok(
  has_function_privilege('service_role', 'public.progress_vantage_sync_run(text, uuid, bigint)', 'EXECUTE')
  AND NOT has_function_privilege('anon', 'public.progress_vantage_sync_run(text, uuid, bigint)', 'EXECUTE')
  AND NOT has_function_privilege('authenticated', 'public.progress_vantage_sync_run(text, uuid, bigint)', 'EXECUTE'),
  'EXECUTE on progress_vantage_sync_run: service_role only');
SELECT is(
  (SELECT count(*)::int FROM aclexplode((SELECT proacl FROM pg_proc
     WHERE oid = 'public.progress_vantage_sync_run(text, uuid, bigint)'::regprocedure)) a
    WHERE a.grantee = 0),
  0, 'PUBLIC may not execute progress_vantage_sync_run');

SET LOCAL ROLE authenticated;
SELECT throws_ok($$SELECT public.progress_vantage_sync_run('p31_busy', gen_random_uuid(), 1)$$,
  '42501', NULL, 'authenticated may not report progress');
RESET ROLE;
SET LOCAL ROLE anon;
SELECT throws_ok($$SELECT public.progress_vantage_sync_run('p31_busy', gen_random_uuid(), 1)$$,
  '42501', NULL, 'anon may not report progress');
RESET ROLE;

-- columns --------------------------------------------------------------------------------------
SELECT col_type_is('public', 'vantage_sync_state', 'last_heartbeat_at', 'timestamp with time zone',
  'state.last_heartbeat_at is timestamptz');
SELECT col_type_is('public', 'vantage_sync_state', 'records_so_far', 'bigint', 'state.records_so_far is bigint');
SELECT col_is_null('public', 'vantage_sync_state', 'last_heartbeat_at', 'state.last_heartbeat_at is nullable');
SELECT col_is_null('public', 'vantage_sync_state', 'records_so_far', 'state.records_so_far is nullable');
SELECT col_type_is('public', 'vantage_sync_runs', 'last_heartbeat_at', 'timestamp with time zone',
  'runs.last_heartbeat_at is timestamptz');
SELECT col_type_is('public', 'vantage_sync_runs', 'records_so_far', 'bigint', 'runs.records_so_far is bigint');
SELECT col_is_null('public', 'vantage_sync_runs', 'records_synced',
  'runs.records_synced is nullable (NULL: the completion reported no counts)');
SELECT col_not_null('public', 'vantage_sync_state', 'records_synced',
  'state.records_synced stays NOT NULL, as the spec has it');
SELECT throws_ok(
  $$UPDATE vantage_sync_state SET records_so_far = -1 WHERE resource = 'accounts'$$,
  '23514', NULL, 'state.records_so_far >= 0 (vantage_sync_state_records_so_far_check)');
SELECT is(
  (SELECT array_agg(column_name::text ORDER BY ordinal_position DESC)
     FROM (SELECT column_name, ordinal_position FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name = 'vantage_sync_health'
            ORDER BY ordinal_position DESC LIMIT 5) c),
  ARRAY['counts_reported', 'records_so_far', 'last_heartbeat_at', 'late_grace', 'sync_watermark'],
  'the view appends last_heartbeat_at, records_so_far, counts_reported after late_grace');

-- a heartbeat ----------------------------------------------------------------------------------
INSERT INTO t_ids SELECT 'busy', start_vantage_sync('p31_busy');
SELECT is(pg_temp.beat('p31_busy'), 'null/null', 'a new run has no heartbeat and no records so far');
INSERT INTO t_beats SELECT 'first', progress_vantage_sync_run('p31_busy', (SELECT run_id FROM t_ids WHERE k = 'busy'), 4500);
SELECT ok(
  (SELECT at FROM t_beats WHERE k = 'first') >= (SELECT started_at FROM vantage_sync_state WHERE resource = 'p31_busy')
  AND (SELECT at FROM t_beats WHERE k = 'first') <= clock_timestamp(),
  'progress returns the heartbeat''s time, from the database''s clock');
SELECT is(pg_temp.beat('p31_busy'), (SELECT at::text || '/4500' FROM t_beats WHERE k = 'first'),
  'the state row keeps the heartbeat''s time and the records so far');
SELECT is(pg_temp.run_beat((SELECT run_id FROM t_ids WHERE k = 'busy')),
  (SELECT at::text || '/4500' FROM t_beats WHERE k = 'first'),
  'the run''s history row keeps the same');
INSERT INTO t_beats SELECT 'second', progress_vantage_sync_run('p31_busy', (SELECT run_id FROM t_ids WHERE k = 'busy'));
SELECT is(pg_temp.beat('p31_busy'), (SELECT at::text || '/4500' FROM t_beats WHERE k = 'second'),
  'a heartbeat without records moves the time and keeps the records so far');
SELECT ok((SELECT at FROM t_beats WHERE k = 'second') > (SELECT at FROM t_beats WHERE k = 'first'),
  'each heartbeat is later than the one before');
SELECT is(
  (SELECT last_sync_status || '/' || (current_run_id = (SELECT run_id FROM t_ids WHERE k = 'busy'))::text
     FROM vantage_sync_state WHERE resource = 'p31_busy'),
  'running/true', 'a heartbeat changes neither the status nor the current run');

-- refusals change nothing ------------------------------------------------------------------------
CREATE TEMP TABLE t_before ON COMMIT DROP AS SELECT pg_temp.beat('p31_busy') AS beat;
SELECT throws_ok(
  $$SELECT progress_vantage_sync_run('p31_busy', (SELECT run_id FROM t_ids WHERE k = 'busy'), -1)$$,
  '22023', 'records synced so far must be a whole number >= 0 (got -1)', 'a negative count: 22023');
SELECT throws_ok($$SELECT progress_vantage_sync_run('p31_busy', NULL, 1)$$,
  '22023', 'run_id is required: progress is reported for the run that start returned',
  'no run id: 22023');
SELECT throws_ok($$SELECT progress_vantage_sync_run('p31_no_such_resource', gen_random_uuid(), 1)$$,
  'PT404', 'unknown resource "p31_no_such_resource": call start_vantage_sync first',
  'an unknown resource: PT404, as complete and fail');
SELECT throws_ok(
  $$SELECT progress_vantage_sync_run('p31_busy', '00000000-0000-4000-8000-000000000001', 1)$$,
  'PT409', format('cannot report progress of run 00000000-0000-4000-8000-000000000001 of "p31_busy": it is not the current run (that is %s with status running)',
                  (SELECT run_id FROM t_ids WHERE k = 'busy')),
  'a run that is not the current one: PT409');
CREATE FUNCTION pg_temp.detail_of_other_run() RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE v_detail text;
BEGIN
  PERFORM public.progress_vantage_sync_run('p31_busy', '00000000-0000-4000-8000-000000000001', 1);
  RETURN NULL;
EXCEPTION WHEN SQLSTATE 'PT409' THEN
  GET STACKED DIAGNOSTICS v_detail = PG_EXCEPTION_DETAIL;
  RETURN v_detail::jsonb;
END;
$$;
SELECT is(
  (SELECT d ->> 'current_run_id' || '/' || (d ->> 'status') FROM pg_temp.detail_of_other_run() d),
  (SELECT run_id::text || '/running' FROM t_ids WHERE k = 'busy'),
  'the 409''s DETAIL names the current run as JSON (what the edge words its answer from)');
SELECT is(pg_temp.beat('p31_busy'), (SELECT beat FROM t_before), 'no refusal changed the heartbeat');

SELECT complete_vantage_sync('p31_busy', 9000, 100, 8900, (SELECT run_id FROM t_ids WHERE k = 'busy'));
SELECT throws_ok(
  $$SELECT progress_vantage_sync_run('p31_busy', (SELECT run_id FROM t_ids WHERE k = 'busy'), 1)$$,
  'PT409', NULL, 'a heartbeat of a run that finished: PT409 (the wrapper then stops sending them)');
SELECT is(pg_temp.beat('p31_busy'), (SELECT beat FROM t_before),
  'completion keeps the last run''s heartbeat and records so far on the state row');
INSERT INTO t_ids SELECT 'busy2', start_vantage_sync('p31_busy');
SELECT is(pg_temp.beat('p31_busy'), 'null/null', 'start clears the heartbeat and the records so far');
SELECT is(pg_temp.run_beat((SELECT run_id FROM t_ids WHERE k = 'busy')),
  (SELECT at::text || '/4500' FROM t_beats WHERE k = 'second'),
  'the previous run''s history row keeps its last heartbeat');

-- the stuck rule -------------------------------------------------------------------------------
-- p31_alive:   running 2 hours, heard from 1 minute ago                -> not stuck
-- p31_silent:  running 2 hours, last heard from 31 minutes ago         -> stuck
-- p31_plain:   running 31 minutes, never sent a heartbeat              -> stuck (the spec's rule)
-- p31_short:   stuck_after 10 minutes, running 1 hour, heard 11 min ago -> stuck
-- p31_edge:    running 2 hours, heard from 29 minutes 50 seconds ago   -> not stuck
INSERT INTO vantage_sync_schedules (resource, stuck_after) VALUES ('p31_short', interval '10 minutes');
INSERT INTO t_ids SELECT 'alive', start_vantage_sync('p31_alive');
SELECT pg_temp.backdate('p31_alive', interval '2 hours');
SELECT pg_temp.heard('p31_alive', interval '1 minute');
INSERT INTO t_ids SELECT 'silent', start_vantage_sync('p31_silent');
SELECT pg_temp.backdate('p31_silent', interval '2 hours');
SELECT pg_temp.heard('p31_silent', interval '31 minutes');
INSERT INTO t_ids SELECT 'plain', start_vantage_sync('p31_plain');
SELECT pg_temp.backdate('p31_plain', interval '31 minutes');
INSERT INTO t_ids SELECT 'short', start_vantage_sync('p31_short');
SELECT pg_temp.backdate('p31_short', interval '1 hour');
SELECT pg_temp.heard('p31_short', interval '11 minutes');
INSERT INTO t_ids SELECT 'edge', start_vantage_sync('p31_edge');
SELECT pg_temp.backdate('p31_edge', interval '2 hours');
SELECT pg_temp.heard('p31_edge', interval '29 minutes 50 seconds');

SELECT results_eq(
  $$SELECT resource, health, 'stuck' = ANY (alerts) FROM vantage_sync_health
     WHERE resource IN ('p31_alive', 'p31_silent', 'p31_plain', 'p31_short', 'p31_edge') ORDER BY resource$$,
  $$VALUES ('p31_alive'::text, 'green'::text, false), ('p31_edge', 'green', false),
           ('p31_plain', 'red', true), ('p31_short', 'red', true), ('p31_silent', 'red', true)$$,
  'the view: stuck by the last heartbeat, or by the start without one');
SELECT results_eq(
  $$SELECT resource, last_heartbeat_at IS NOT NULL FROM vantage_sync_health
     WHERE resource IN ('p31_alive', 'p31_plain') ORDER BY resource$$,
  $$VALUES ('p31_alive'::text, true), ('p31_plain', false)$$,
  'the view shows last_heartbeat_at');

-- the rule functions, at a pinned now: exactly stuck_after since the heartbeat is not yet stuck
SELECT is(vantage_sync_health_rank_of('running', NULL, '2025-11-05T10:00:00Z', '24 hours', '30 minutes',
            '2025-11-05T12:00:00Z', NULL, NULL, NULL, '2025-11-05T11:30:00Z'), 3,
  'rank_of: last heartbeat exactly stuck_after ago is not stuck (strict)');
SELECT is(vantage_sync_health_rank_of('running', NULL, '2025-11-05T10:00:00Z', '24 hours', '30 minutes',
            '2025-11-05T12:00:00Z', NULL, NULL, NULL, '2025-11-05T11:29:59Z'), 1,
  'rank_of: a second past it is stuck');
SELECT is(vantage_sync_health_rank_of('running', NULL, '2025-11-05T10:00:00Z', '24 hours', '30 minutes',
            '2025-11-05T12:00:00Z'), 1,
  'rank_of called as before (no heartbeat argument) judges by started_at');
SELECT is(vantage_sync_alerts_of('running', NULL, '2025-11-05T10:00:00Z', '2025-11-01T00:00:00Z', NULL, 0,
            '24 hours', '30 minutes', '5 minutes', NULL, '2025-11-05T12:00:00Z', NULL,
            '2025-11-05T11:59:00Z'), '{}'::text[],
  'alerts_of: a run heard from a minute ago is not stuck after 2 hours');
SELECT is(vantage_sync_alerts_of('running', NULL, '2025-11-05T10:00:00Z', '2025-11-01T00:00:00Z', NULL, 0,
            '24 hours', '30 minutes', '5 minutes', NULL, '2025-11-05T12:00:00Z'), ARRAY['stuck'],
  'alerts_of called as before (no heartbeat argument) judges by started_at');

-- start's take-over: refused over a run heard from recently, supersedes one silent too long
SELECT throws_ok($$SELECT start_vantage_sync('p31_alive')$$, 'PT409', NULL,
  'a start while a heartbeating run is alive (2 hours in): PT409');
INSERT INTO t_ids SELECT 'silent2', start_vantage_sync('p31_silent');
SELECT is(
  (SELECT status || '/' || (errors -> 0 ->> 'code') FROM vantage_sync_runs
    WHERE run_id = (SELECT run_id FROM t_ids WHERE k = 'silent')),
  'failed/STUCK_SUPERSEDED', 'a start over a run silent longer than stuck_after supersedes it');
SELECT matches(
  (SELECT errors -> 0 ->> 'message' FROM vantage_sync_runs WHERE run_id = (SELECT run_id FROM t_ids WHERE k = 'silent')),
  '^run was last heard from 00:31:[0-9]{2} ago, after running for 01:2[89]:[0-9]{2} \(stuck after 00:30:00\), and was replaced by run ',
  'the superseded run''s error says when it was last heard from');

-- the sweep
CREATE TEMP TABLE t_swept ON COMMIT DROP AS
  SELECT * FROM sweep_stuck_vantage_syncs() WHERE resource LIKE 'p31\_%';
SELECT results_eq(
  $$SELECT resource FROM t_swept ORDER BY resource$$,
  $$VALUES ('p31_plain'::text), ('p31_short')$$,
  'the sweep fails the silent runs and leaves the heartbeating ones, however long they have run');
SELECT ok(
  (SELECT stuck_for BETWEEN interval '11 minutes' AND interval '12 minutes' FROM t_swept WHERE resource = 'p31_short'),
  'stuck_for counts from the last heartbeat');
SELECT matches(
  (SELECT errors -> 0 ->> 'message' FROM vantage_sync_state WHERE resource = 'p31_short'),
  '^run [0-9a-f-]+ was last heard from 00:11:[0-9]{2} ago \(stuck after 00:10:00\); the sweep marked it failed$',
  'STUCK_TIMEOUT of a heartbeating run says when it was last heard from');
SELECT matches(
  (SELECT errors -> 0 ->> 'message' FROM vantage_sync_state WHERE resource = 'p31_plain'),
  '^run [0-9a-f-]+ was still running after 00:31:[0-9]{2} \(stuck after 00:30:00\); the sweep marked it failed$',
  'STUCK_TIMEOUT of a run without heartbeats reads as before');
SELECT is(
  (SELECT string_agg(resource || ':' || last_sync_status, ',' ORDER BY resource) FROM vantage_sync_state
    WHERE resource IN ('p31_alive', 'p31_edge')),
  'p31_alive:running,p31_edge:running', 'the heartbeating runs are still running');

-- a heartbeat makes a run that is stuck but not yet swept live again
SELECT pg_temp.heard('p31_edge', interval '40 minutes');
SELECT is((SELECT health FROM vantage_sync_health WHERE resource = 'p31_edge'), 'red',
  'silent for 40 minutes: stuck');
SELECT lives_ok(
  $$SELECT progress_vantage_sync_run('p31_edge', (SELECT run_id FROM t_ids WHERE k = 'edge'), 10)$$,
  'a stuck run that has not been swept may still report progress');
SELECT ok(
  (SELECT vantage_sync_health_rank_of(last_sync_status, last_sync_time, started_at, interval '24 hours',
            interval '30 minutes', clock_timestamp(), created_at, NULL, NULL, last_heartbeat_at)
     FROM vantage_sync_state WHERE resource = 'p31_edge') = 3,
  'after it, the run is judged alive again');

-- complete with no counts -------------------------------------------------------------------
SELECT lives_ok(
  $$SELECT complete_vantage_sync('p31_alive', NULL, NULL, NULL, (SELECT run_id FROM t_ids WHERE k = 'alive'))$$,
  'complete with no counts (three NULLs) succeeds');
SELECT is(
  (SELECT last_sync_status || '/' || records_synced || '/' || records_created || '/' || records_updated
          || '/' || counts_reported || '/' || (last_sync_time = completed_at)
     FROM vantage_sync_state WHERE resource = 'p31_alive'),
  'success/0/0/0/false/true',
  'the state row: success, the watermark advanced, 0 in the spec''s NOT NULL counts and counts_reported false');
SELECT is(
  (SELECT status || '/' || coalesce(records_synced::text, 'null') || '/' || coalesce(records_created::text, 'null')
          || '/' || coalesce(records_updated::text, 'null')
     FROM vantage_sync_runs WHERE run_id = (SELECT run_id FROM t_ids WHERE k = 'alive')),
  'success/null/null/null', 'the history row: NULL counts, never invented zeros');
SELECT is(
  (SELECT counts_reported FROM vantage_sync_health WHERE resource = 'p31_alive'), false,
  'the view says the counts were not reported');
SELECT is(
  vantage_sync_private.webhook_payload('completed', 'p31_alive', (SELECT run_id FROM t_ids WHERE k = 'alive'))
    -> 'records_synced',
  'null'::jsonb, 'the webhook payload''s records_synced is null, not 0');
SELECT throws_ok(
  $$SELECT complete_vantage_sync('p31_edge', 5, NULL, NULL)$$,
  '22023', 'give all three record counts (synced, created, updated) or none (got synced 5, created null, updated null)',
  'one count of three: 22023');
SELECT is((SELECT last_sync_status FROM vantage_sync_state WHERE resource = 'p31_edge'), 'running',
  'the refused completion changed nothing');
SELECT complete_vantage_sync('p31_edge', 0, 0, 0);
SELECT is(
  (SELECT records_synced || '/' || counts_reported FROM vantage_sync_state WHERE resource = 'p31_edge')
    || '/' || (SELECT records_synced FROM vantage_sync_runs WHERE run_id = (SELECT run_id FROM t_ids WHERE k = 'edge')),
  '0/true/0', 'a real sync of 0 records is told apart: counts_reported true, 0 in the history');

SELECT * FROM finish();
ROLLBACK;
