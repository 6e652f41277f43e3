-- 19_retry_policy: retry metadata (20261125050000). Without a policy nothing changes: a start
-- right after a failure works. With one (max attempts, initial backoff, multiplier, cap) each
-- failure sets next_attempt_at = failure + min(cap, initial x multiplier^(n-1)); a start before
-- it is PT409 naming the time and changes nothing; a success clears it; at max attempts the
-- policy gives up (next_attempt_at NULL, the view's retries_exhausted and its alert). Every run
-- records its attempt. fail_vantage_sync_run answers with the run, attempt, limit, and whether
-- and when to retry. A start that supersedes a stuck run is that run's retry, never refused.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(34);

-- objects -----------------------------------------------------------------------------------------
SELECT has_column('public', 'vantage_sync_schedules', c, format('schedules have %s', c))
  FROM unnest(ARRAY['retry_max_attempts', 'retry_initial_backoff', 'retry_backoff_multiplier',
                    'retry_max_backoff']) AS c;
SELECT has_column('public', 'vantage_sync_state', 'next_attempt_at', 'state has next_attempt_at');
SELECT col_not_null('public', 'vantage_sync_runs', 'attempt', 'every run has an attempt number');
SELECT throws_ok($$INSERT INTO vantage_sync_schedules (resource, retry_max_attempts) VALUES ('x', 0)$$,
  '23514', NULL, 'retry_max_attempts must be at least 1');
SELECT throws_ok($$INSERT INTO vantage_sync_schedules (resource, retry_backoff_multiplier) VALUES ('x', 0.5)$$,
  '23514', NULL, 'a multiplier below 1 is refused');
SELECT throws_ok($$INSERT INTO vantage_sync_schedules (resource, retry_initial_backoff, retry_max_backoff)
                   VALUES ('x', '10 minutes', '5 minutes')$$,
  '23514', NULL, 'a cap below the initial backoff is refused');
SELECT ok(NOT has_function_privilege(r, 'public.fail_vantage_sync_run(text, jsonb, uuid)', 'EXECUTE'),
  format('%s may not execute fail_vantage_sync_run', r))
  FROM unnest(ARRAY['anon', 'authenticated']) AS r;
SELECT ok(has_function_privilege('service_role', 'public.fail_vantage_sync_run(text, jsonb, uuid)', 'EXECUTE'),
  'service_role may execute fail_vantage_sync_run');

-- without a policy: as before --------------------------------------------------------------------
SELECT start_vantage_sync('funds');
SELECT fail_vantage_sync('funds', '[{"code":"E","message":"m"}]');
SELECT is((SELECT next_attempt_at FROM vantage_sync_state WHERE resource = 'funds'), NULL,
  'no policy: no next_attempt_at');
SELECT lives_ok($$SELECT start_vantage_sync('funds')$$, 'no policy: a start right after a failure works');
SELECT is((SELECT attempt FROM vantage_sync_runs r JOIN vantage_sync_state s ON r.run_id = s.current_run_id
            WHERE s.resource = 'funds'), 2, 'the run after one failure is attempt 2');

-- with a policy: 3 attempts, 1 minute, x3, capped at 2 minutes ------------------------------------
INSERT INTO vantage_sync_schedules (resource, retry_max_attempts, retry_initial_backoff,
                                    retry_backoff_multiplier, retry_max_backoff)
VALUES ('accounts', 3, '1 minute', 3, '2 minutes');
SELECT start_vantage_sync('accounts');
CREATE TEMP TABLE t_first ON COMMIT DROP AS
  SELECT * FROM fail_vantage_sync_run('accounts', '[{"code":"E1","message":"one"}]');
SELECT is((SELECT attempt || ' of ' || max_attempts || ' ' || will_retry FROM t_first), '1 of 3 true',
  'fail_vantage_sync_run: attempt 1 of 3 failed, a retry will follow');
SELECT ok((SELECT t.next_attempt_at - s.completed_at BETWEEN interval '1 minute' AND interval '1 minute 1 second'
             FROM t_first t, vantage_sync_state s WHERE s.resource = 'accounts'),
  'the first retry is due 1 minute after the failure');
SELECT is((SELECT run_id FROM t_first), (SELECT current_run_id FROM vantage_sync_state WHERE resource = 'accounts'),
  'it names the failed run');
SELECT throws_ok($$SELECT start_vantage_sync('accounts')$$, 'PT409', NULL,
  'a start before next_attempt_at is refused with PT409');
SELECT throws_like($$SELECT start_vantage_sync('accounts')$$,
  'resource "accounts" may not start before % (attempt 1 of 3 failed; the retry policy waits)',
  'the refusal says when and which attempt');
SELECT is((SELECT last_sync_status FROM vantage_sync_state WHERE resource = 'accounts'), 'failed',
  'the refused start changed nothing');
UPDATE vantage_sync_state SET next_attempt_at = now() - interval '1 second' WHERE resource = 'accounts';
SELECT lives_ok($$SELECT start_vantage_sync('accounts')$$, 'once due, the start works');
SELECT is((SELECT next_attempt_at FROM vantage_sync_state WHERE resource = 'accounts'), NULL,
  'a start clears next_attempt_at');
SELECT is((SELECT attempt FROM vantage_sync_runs r JOIN vantage_sync_state s ON r.run_id = s.current_run_id
            WHERE s.resource = 'accounts'), 2, 'the retry is attempt 2');
CREATE TEMP TABLE t_second ON COMMIT DROP AS
  SELECT * FROM fail_vantage_sync_run('accounts', '[{"code":"E2","message":"two"}]');
SELECT ok((SELECT t.next_attempt_at - s.completed_at BETWEEN interval '2 minutes' AND interval '2 minutes 1 second'
             FROM t_second t, vantage_sync_state s WHERE s.resource = 'accounts'),
  'the second backoff is 1 min x 3 = 3 min, capped at 2 minutes');
SELECT is((SELECT (next_attempt, retry_max_attempts, retries_exhausted)::text FROM vantage_sync_health WHERE resource = 'accounts'),
  '(3,3,f)', 'the view: next attempt 3 of 3, not given up');
SET LOCAL TimeZone = 'UTC';
SELECT is((SELECT retry_status FROM vantage_sync_health WHERE resource = 'accounts'),
  'retry 3 of 3 at ' || (SELECT to_char(next_attempt_at, 'HH24:MI') FROM vantage_sync_state WHERE resource = 'accounts') || ' UTC',
  'the view says it in words: "retry 3 of 3 at 14:32 UTC"');
UPDATE vantage_sync_state SET next_attempt_at = NULL WHERE resource = 'accounts';
SELECT start_vantage_sync('accounts');
SELECT is((SELECT will_retry::text || coalesce(next_attempt_at::text, ' none') FROM fail_vantage_sync_run('accounts', '[{"code":"E3","message":"three"}]')),
  'false none', 'the third failure exhausts the policy: no retry');
SELECT is((SELECT (retries_exhausted, health, 'retries_exhausted' = ANY (alerts))::text FROM vantage_sync_health WHERE resource = 'accounts'),
  '(t,red,t)', 'the view: given up, red, alert retries_exhausted');
SELECT is((SELECT retry_status FROM vantage_sync_health WHERE resource = 'accounts'), 'gave up after 3 attempts',
  'and in words');
SELECT lives_ok($$SELECT start_vantage_sync('accounts')$$, 'after giving up nothing waits: an operator may start');
SELECT complete_vantage_sync('accounts', 1, 1, 0);
SELECT is((SELECT (next_attempt_at IS NULL, retries_exhausted, next_attempt)::text FROM vantage_sync_health WHERE resource = 'accounts'),
  '(t,f,1)', 'a success clears it all: the next run is attempt 1');

-- a stuck run superseded by a new start is not delayed ---------------------------------------------
INSERT INTO vantage_sync_schedules (resource, retry_max_attempts, stuck_after) VALUES ('investors', 5, '1 minute');
SELECT start_vantage_sync('investors');
UPDATE vantage_sync_runs r SET started_at = r.started_at - interval '10 minutes'
  FROM vantage_sync_state s WHERE s.resource = 'investors' AND r.run_id = s.current_run_id AND r.started_at = s.started_at;
UPDATE vantage_sync_state SET started_at = started_at - interval '10 minutes' WHERE resource = 'investors';
SELECT lives_ok($$SELECT start_vantage_sync('investors')$$, 'a start that supersedes a stuck run is its retry');
SELECT is((SELECT attempt FROM vantage_sync_runs r JOIN vantage_sync_state s ON r.run_id = s.current_run_id
            WHERE s.resource = 'investors'), 2, 'and it is attempt 2');

SELECT * FROM finish();
ROLLBACK;
