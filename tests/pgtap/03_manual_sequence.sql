-- 03_manual_sequence: the spec's "Manual Testing Sequence" steps 1..8, in order, with triggers
-- active: initial state, start/complete of accounts, start/fail of funds, and the two constraint
-- violations of step 8 with their exact constraint names. The spec's calls are unchanged on the
-- fully migrated database; what later migrations add to each step (run id, run history,
-- consecutive_failures) is checked alongside.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(21);

-- 1. Check initial state
SELECT results_eq(
  $$SELECT resource, last_sync_status, last_sync_time, records_synced, records_created,
           records_updated, errors, started_at, completed_at, duration_ms
      FROM vantage_sync_state ORDER BY resource$$,
  $$VALUES
      ('accounts'::text,    'never_run'::text, NULL::timestamptz, 0, 0, 0, '[]'::jsonb, NULL::timestamptz, NULL::timestamptz, NULL::integer),
      ('cashflows',   'never_run', NULL, 0, 0, 0, '[]', NULL, NULL, NULL),
      ('commitments', 'never_run', NULL, 0, 0, 0, '[]', NULL, NULL, NULL),
      ('funds',       'never_run', NULL, 0, 0, 0, '[]', NULL, NULL, NULL),
      ('investments', 'never_run', NULL, 0, 0, 0, '[]', NULL, NULL, NULL),
      ('investors',   'never_run', NULL, 0, 0, 0, '[]', NULL, NULL, NULL),
      ('valuations',  'never_run', NULL, 0, 0, 0, '[]', NULL, NULL, NULL)$$,
  'step 1: 7 resources, never_run, empty');

-- 2. Start a sync
SELECT lives_ok($$SELECT start_vantage_sync('accounts')$$, 'step 2: start_vantage_sync(accounts)');

-- 3. Verify running state: status='running', started_at=now(), completed_at=NULL
SELECT is(
  (SELECT last_sync_status FROM vantage_sync_state WHERE resource = 'accounts'),
  'running', 'step 3: accounts is running');
SELECT ok(
  (SELECT started_at BETWEEN now() AND clock_timestamp() FROM vantage_sync_state WHERE resource = 'accounts'),
  'step 3: started_at is the current time');
SELECT ok(
  (SELECT completed_at IS NULL AND duration_ms IS NULL FROM vantage_sync_state WHERE resource = 'accounts'),
  'step 3: completed_at and duration_ms NULL');
SELECT results_eq(
  $$SELECT r.status, r.started_at = s.started_at
      FROM vantage_sync_state s JOIN vantage_sync_runs r ON r.run_id = s.current_run_id
     WHERE s.resource = 'accounts'$$,
  $$VALUES ('running'::text, true)$$,
  'step 3 (addition): current_run_id names a running history row');

SELECT pg_sleep(0.01);

-- 4. Complete the sync
SELECT lives_ok($$SELECT complete_vantage_sync('accounts', 100, 10, 90)$$,
  'step 4: complete_vantage_sync(accounts, 100, 10, 90)');

-- 5. Verify success state: status='success', last_sync_time=now(), duration_ms>0
SELECT results_eq(
  $$SELECT last_sync_status, records_synced, records_created, records_updated, errors
      FROM vantage_sync_state WHERE resource = 'accounts'$$,
  $$VALUES ('success'::text, 100, 10, 90, '[]'::jsonb)$$,
  'step 5: success with 100/10/90, no errors');
SELECT ok(
  (SELECT last_sync_time > started_at AND last_sync_time <= clock_timestamp()
     FROM vantage_sync_state WHERE resource = 'accounts'),
  'step 5: last_sync_time is the completion time');
SELECT ok(
  (SELECT completed_at = last_sync_time FROM vantage_sync_state WHERE resource = 'accounts'),
  'step 5: completed_at equals last_sync_time');
SELECT cmp_ok(
  (SELECT duration_ms FROM vantage_sync_state WHERE resource = 'accounts'), '>', 0,
  'step 5: duration_ms > 0');
SELECT results_eq(
  $$SELECT s.consecutive_failures, r.status, r.records_synced, r.records_created, r.records_updated,
           r.duration_ms = s.duration_ms
      FROM vantage_sync_state s JOIN vantage_sync_runs r ON r.run_id = s.current_run_id
     WHERE s.resource = 'accounts'$$,
  $$VALUES (0, 'success'::text, 100, 10, 90, true)$$,
  'step 5 (addition): 0 consecutive failures, history row success 100/10/90');

-- 6. Test failure scenario
SELECT lives_ok($$SELECT start_vantage_sync('funds')$$, 'step 6: start_vantage_sync(funds)');
SELECT lives_ok(
  $$SELECT fail_vantage_sync('funds', '[{"code":"TEST_ERROR","message":"Test failure"}]'::jsonb)$$,
  'step 6: fail_vantage_sync(funds, TEST_ERROR)');

-- 7. Verify failure state: status='failed', errors array has 1 element
SELECT results_eq(
  $$SELECT last_sync_status, jsonb_array_length(errors), errors, completed_at IS NOT NULL
      FROM vantage_sync_state WHERE resource = 'funds'$$,
  $$VALUES ('failed'::text, 1, '[{"code":"TEST_ERROR","message":"Test failure"}]'::jsonb, true)$$,
  'step 7: failed, 1 error stored, completed_at set');
SELECT ok(
  (SELECT last_sync_time IS NULL FROM vantage_sync_state WHERE resource = 'funds'),
  'step 7: failed sync set no watermark');
SELECT results_eq(
  $$SELECT s.consecutive_failures, r.status, r.errors
      FROM vantage_sync_state s JOIN vantage_sync_runs r ON r.run_id = s.current_run_id
     WHERE s.resource = 'funds'$$,
  $$VALUES (1, 'failed'::text, '[{"code":"TEST_ERROR","message":"Test failure"}]'::jsonb)$$,
  'step 7 (addition): 1 consecutive failure, history row failed with the error');

-- 8. Verify constraints
SELECT throws_ok(
  $$INSERT INTO vantage_sync_state (resource, last_sync_status) VALUES ('test', 'invalid_status')$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "vantage_sync_state_last_sync_status_check"',
  'step 8: invalid status rejected');
SELECT throws_ok(
  $$INSERT INTO vantage_sync_state (resource, duration_ms) VALUES ('test', -100)$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "vantage_sync_state_duration_ms_check"',
  'step 8: negative duration rejected');

-- the other resources were not touched by the sequence
SELECT is(
  (SELECT count(*)::int FROM vantage_sync_state WHERE last_sync_status = 'never_run'),
  5, 'untouched resources still never_run');
SELECT results_eq(
  $$SELECT resource, count(*)::int FROM vantage_sync_runs GROUP BY resource ORDER BY resource$$,
  $$VALUES ('accounts'::text, 1), ('funds', 1)$$,
  'one history row per started sync, none for the rest');

SELECT * FROM finish();
ROLLBACK;
