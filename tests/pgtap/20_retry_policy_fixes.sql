-- 20_retry_policy_fixes: the three fixes of 20261125060000. The backoff never overflows: a policy
-- its CHECKs allow (1 day x 10, 100 attempts) waits at most its cap on any failure, so fail, abort
-- and the stuck sweep keep working (before: 22008, the failure unrecorded, the whole sweep
-- failed), and every wait below the cap is what it was. A wait ends when its policy does: a
-- schedule deleted, renamed or without retry_max_attempts, or a limit lowered to the failures
-- already counted, clears next_attempt_at (the start is then allowed); other policy changes
-- leave a pending wait alone. The wait counts from the failure's completed_at, exactly.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(30);

-- Fails p_resource p_times in a row, clearing each wait as the table owner (as an operator may).
CREATE FUNCTION pg_temp.fail_times(p_resource text, p_times integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..p_times LOOP
    UPDATE public.vantage_sync_state SET next_attempt_at = NULL WHERE resource = p_resource;
    PERFORM public.start_vantage_sync(p_resource);
    PERFORM public.fail_vantage_sync(p_resource, '[{"code":"E","message":"m"}]');
  END LOOP;
END;
$$;
-- A resource whose last failure is waiting for its next attempt: p_failures failures in a row
-- under a policy of p_max attempts (1 hour each, so the wait is surely pending).
CREATE FUNCTION pg_temp.waiting(p_resource text, p_max integer, p_failures integer) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO public.vantage_sync_schedules (resource, retry_max_attempts, retry_initial_backoff)
  VALUES (p_resource, p_max, '1 hour');
  SELECT pg_temp.fail_times(p_resource, p_failures);
$$;

-- objects ----------------------------------------------------------------------------------------
SELECT has_trigger('public', 'vantage_sync_schedules', 'vantage_sync_schedules_release_retries',
  'schedules have the trigger that ends a wait with its policy');
SELECT is((SELECT prosecdef FROM pg_proc
            WHERE oid = 'vantage_sync_private.release_retries_of_policy()'::regprocedure), false,
  'its function is SECURITY INVOKER (whoever may change schedules may change state)');
SELECT ok((SELECT proconfig @> ARRAY['search_path=""'] FROM pg_proc
            WHERE oid = 'vantage_sync_private.release_retries_of_policy()'::regprocedure),
  'its function pins search_path to empty');
SELECT is_empty(
  $$SELECT r FROM unnest(ARRAY['public', 'anon', 'authenticated', 'service_role']) AS r
     WHERE has_function_privilege(r, 'vantage_sync_private.release_retries_of_policy()', 'EXECUTE')$$,
  'nobody may execute it directly');

-- the backoff ------------------------------------------------------------------------------------
SELECT results_eq(
  $$SELECT vantage_sync_private.retry_backoff(n, i, m, c)
      FROM (VALUES (1, interval '1 minute', 2::numeric, interval '1 hour'),
                   (3, '1 minute', 2, '1 hour'),
                   (6, '1 minute', 2, '1 hour'),
                   (7, '1 minute', 2, '1 hour'),
                   (2, '90 seconds', 1.5, '1 day'),
                   (4, '1 minute', 1, '1 hour'),
                   (2, '10 minutes', 3, '10 minutes')) AS p(n, i, m, c)$$,
  $$VALUES (interval '1 minute'), ('4 minutes'), ('32 minutes'), ('1 hour'), ('135 seconds'),
           ('1 minute'), ('10 minutes')$$,
  'below the cap the wait is initial x multiplier^(n-1); at or above it, the cap');
SELECT is(vantage_sync_private.retry_backoff(12, '1 day', 10, '7 days'), interval '7 days',
  '1 day x 10^11 is the cap, not 22008 (interval out of range)');
SELECT is(vantage_sync_private.retry_backoff(99, '1 minute', 2, '1 hour'), interval '1 hour',
  '1 minute x 2^98 is the cap');
SELECT is(vantage_sync_private.retry_backoff(2147483647, '1 second', 10, '7 days'), interval '7 days',
  'even for the largest failure count');

-- fail, abort and the sweep under such a policy ----------------------------------------------------
INSERT INTO vantage_sync_schedules (resource, retry_max_attempts, retry_initial_backoff,
                                    retry_backoff_multiplier, retry_max_backoff, stuck_after)
VALUES ('retry_huge', 100, '1 day', 10, '7 days', '1 minute'),
       ('retry_huge_b', 100, '1 day', 10, '7 days', '1 minute');
SELECT start_vantage_sync('retry_huge');
UPDATE vantage_sync_state SET consecutive_failures = 40 WHERE resource = 'retry_huge';
CREATE TEMP TABLE t_huge ON COMMIT DROP AS
  SELECT * FROM fail_vantage_sync_run('retry_huge', '[{"code":"E","message":"m"}]');
SELECT is((SELECT attempt || ' of ' || max_attempts || ' ' || will_retry FROM t_huge), '41 of 100 true',
  'the 41st failure in a row is recorded and will be retried');
SELECT is((SELECT t.next_attempt_at - s.completed_at FROM t_huge t, vantage_sync_state s
            WHERE s.resource = 'retry_huge'), interval '7 days',
  'after the cap: 7 days after the failure');
UPDATE vantage_sync_state SET next_attempt_at = NULL WHERE resource = 'retry_huge';
SELECT start_vantage_sync('retry_huge');
SELECT lives_ok($$SELECT abort_vantage_sync('retry_huge', 'by hand')$$, 'abort works too');
SELECT is((SELECT (last_sync_status, consecutive_failures)::text FROM vantage_sync_state WHERE resource = 'retry_huge'),
  '(failed,42)', 'and counts as the 42nd failure');

-- two stuck runs, one of them under the big policy: the sweep fails both
UPDATE vantage_sync_state SET next_attempt_at = NULL WHERE resource = 'retry_huge';
SELECT start_vantage_sync('retry_huge');
SELECT start_vantage_sync('retry_huge_b');
UPDATE vantage_sync_state SET consecutive_failures = 60 WHERE resource = 'retry_huge_b';
UPDATE vantage_sync_runs r SET started_at = r.started_at - interval '10 minutes'
  FROM vantage_sync_state s
 WHERE s.resource IN ('retry_huge', 'retry_huge_b') AND r.run_id = s.current_run_id AND r.started_at = s.started_at;
UPDATE vantage_sync_state SET started_at = started_at - interval '10 minutes'
 WHERE resource IN ('retry_huge', 'retry_huge_b');
SELECT set_eq($$SELECT resource FROM sweep_stuck_vantage_syncs()$$,
  ARRAY['retry_huge', 'retry_huge_b'], 'the sweep fails both stuck runs');
SELECT results_eq(
  $$SELECT resource, last_sync_status, next_attempt_at - completed_at FROM vantage_sync_state
     WHERE resource IN ('retry_huge', 'retry_huge_b') ORDER BY resource$$,
  $$VALUES ('retry_huge'::text, 'failed'::text, interval '7 days'), ('retry_huge_b', 'failed', '7 days')$$,
  'each waits its cap');

-- the wait counts from the failure's recorded time, exactly
INSERT INTO vantage_sync_schedules (resource, retry_max_attempts, retry_initial_backoff,
                                    retry_backoff_multiplier, retry_max_backoff)
VALUES ('retry_exact', 5, '1 minute', 2, '1 hour');
SELECT pg_temp.fail_times('retry_exact', 2);
SELECT results_eq(
  $$SELECT s.next_attempt_at - s.completed_at, r.completed_at = s.completed_at, r.attempt
      FROM vantage_sync_state s JOIN vantage_sync_runs r ON r.run_id = s.current_run_id
     WHERE s.resource = 'retry_exact'$$,
  $$VALUES (interval '2 minutes', true, 2)$$,
  'the second failure: next_attempt_at = the run''s completed_at + 1 minute x 2, exactly');

-- a wait ends with its policy ----------------------------------------------------------------------
SELECT pg_temp.waiting('retry_removed', 5, 2);
SELECT isnt((SELECT next_attempt_at FROM vantage_sync_state WHERE resource = 'retry_removed'), NULL,
  'two failures of five: a retry is pending');
SELECT throws_ok($$SELECT start_vantage_sync('retry_removed')$$, 'PT409', NULL, 'and a start is refused');
UPDATE vantage_sync_schedules SET retry_max_attempts = NULL WHERE resource = 'retry_removed';
SELECT is((SELECT next_attempt_at FROM vantage_sync_state WHERE resource = 'retry_removed'), NULL,
  'the policy removed (retry_max_attempts NULL): no wait');
SELECT lives_ok($$SELECT start_vantage_sync('retry_removed')$$, 'the start is allowed');

SELECT pg_temp.waiting('retry_lowered', 5, 2);
UPDATE vantage_sync_schedules SET retry_max_attempts = 2 WHERE resource = 'retry_lowered';
SELECT is((SELECT (next_attempt_at, retries_exhausted, retry_status)::text FROM vantage_sync_health
            WHERE resource = 'retry_lowered'),
  '(,t,"gave up after 2 attempts")', 'the limit lowered to the failures: no wait, the policy gave up');
SELECT lives_ok($$SELECT start_vantage_sync('retry_lowered')$$, 'the start is allowed');

SELECT pg_temp.waiting('retry_kept', 5, 2);
CREATE TEMP TABLE t_kept ON COMMIT DROP AS
  SELECT next_attempt_at FROM vantage_sync_state WHERE resource = 'retry_kept';
UPDATE vantage_sync_schedules SET retry_max_attempts = 3 WHERE resource = 'retry_kept';
UPDATE vantage_sync_schedules SET retry_max_attempts = 10, retry_initial_backoff = '1 minute',
                                  retry_backoff_multiplier = 3, retry_max_backoff = '2 hours'
 WHERE resource = 'retry_kept';
UPDATE vantage_sync_schedules SET stale_after = '2 days' WHERE resource = 'retry_kept';
SELECT is((SELECT next_attempt_at FROM vantage_sync_state WHERE resource = 'retry_kept'),
  (SELECT next_attempt_at FROM t_kept),
  'a limit still above the failures, a new backoff, other settings: the pending wait stays');
SELECT throws_ok($$SELECT start_vantage_sync('retry_kept')$$, 'PT409', NULL, 'and the start is still refused');

SELECT pg_temp.waiting('retry_deleted', 5, 1);
DELETE FROM vantage_sync_schedules WHERE resource = 'retry_deleted';
SELECT is((SELECT next_attempt_at FROM vantage_sync_state WHERE resource = 'retry_deleted'), NULL,
  'the schedule deleted: no wait');
SELECT lives_ok($$SELECT start_vantage_sync('retry_deleted')$$, 'the start is allowed');

SELECT pg_temp.waiting('retry_renamed', 5, 1);
UPDATE vantage_sync_schedules SET resource = 'retry_renamed_2' WHERE resource = 'retry_renamed';
SELECT is((SELECT next_attempt_at FROM vantage_sync_state WHERE resource = 'retry_renamed'), NULL,
  'the schedule renamed to another resource: no wait for the old one');
SELECT isnt((SELECT next_attempt_at FROM vantage_sync_state WHERE resource = 'retry_kept'), NULL,
  'other resources keep theirs');

-- as service_role, through PostgREST's role: its own privileges suffice
SELECT pg_temp.waiting('retry_by_service', 5, 1);
SET LOCAL ROLE service_role;
UPDATE vantage_sync_schedules SET retry_max_attempts = NULL WHERE resource = 'retry_by_service';
RESET ROLE;
SELECT is((SELECT next_attempt_at FROM vantage_sync_state WHERE resource = 'retry_by_service'), NULL,
  'service_role removing a policy ends the wait');
SET LOCAL ROLE authenticated;
SELECT throws_ok($$UPDATE vantage_sync_schedules SET retry_max_attempts = NULL WHERE resource = 'retry_kept'$$,
  '42501', NULL, 'authenticated still may not change a schedule');
RESET ROLE;

-- a change other than the limit applies from the next failure on: the third of 10, 1 min x 3
UPDATE vantage_sync_state SET next_attempt_at = NULL WHERE resource = 'retry_kept';
SELECT start_vantage_sync('retry_kept');
SELECT is((SELECT next_attempt_at - clock_timestamp() BETWEEN interval '8 minutes 59 seconds' AND interval '9 minutes'
             FROM fail_vantage_sync_run('retry_kept', '[{"code":"E","message":"m"}]')), true,
  'the next failure waits by the new policy (1 minute x 3^2)');

SELECT * FROM finish();
ROLLBACK;
