-- 04_functions: the state functions and triggers beyond the manual sequence: function
-- hardening (plpgsql, fixed search_path), duration_ms computed by trigger, updated_at
-- maintenance, watermark kept on failure, errors cleared on success, upsert of an unknown
-- resource, start resetting completed_at/duration_ms, and PT404 (HTTP 404 through PostgREST) for complete/fail of an
-- unknown resource. Functions use clock_timestamp(), so time advances inside this transaction;
-- pg_sleep gives measurable gaps.
-- Since 20261124190200_vantage_sync_state_machine the three state functions are SECURITY DEFINER
-- (they alone write the run history), start returns the run id (uuid), complete/fail take a
-- trailing optional p_run_id, and bad arguments get SQLSTATE 22023 with a plain sentence
-- instead of a constraint violation. The state machine itself is tested in 08 and 09.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(42);

-- hardening of the three state functions
SELECT is_definer('public', 'start_vantage_sync', ARRAY['text'], 'start is SECURITY DEFINER');
SELECT is_definer('public', 'complete_vantage_sync', ARRAY['text', 'integer', 'integer', 'integer', 'uuid'],
  'complete is SECURITY DEFINER');
SELECT is_definer('public', 'fail_vantage_sync', ARRAY['text', 'jsonb', 'uuid'], 'fail is SECURITY DEFINER');
SELECT function_returns('public', 'start_vantage_sync', ARRAY['text'], 'uuid', 'start returns the run id (uuid)');
SELECT function_returns('public', 'complete_vantage_sync', ARRAY['text', 'integer', 'integer', 'integer', 'uuid'],
  'void', 'complete returns void');
SELECT function_returns('public', 'fail_vantage_sync', ARRAY['text', 'jsonb', 'uuid'], 'void', 'fail returns void');
SELECT results_eq(
  $$SELECT proname::text COLLATE "default", proconfig COLLATE "default"
      FROM pg_proc
     WHERE pronamespace = 'public'::regnamespace
       AND proname IN ('start_vantage_sync', 'complete_vantage_sync', 'fail_vantage_sync',
                       'vantage_sync_state_touch_updated_at', 'vantage_sync_state_compute_duration')
     ORDER BY proname$$,
  $$VALUES ('complete_vantage_sync', ARRAY['search_path=""']),
           ('fail_vantage_sync', ARRAY['search_path=""']),
           ('start_vantage_sync', ARRAY['search_path=""']),
           ('vantage_sync_state_compute_duration', ARRAY['search_path=""']),
           ('vantage_sync_state_touch_updated_at', ARRAY['search_path=""'])$$,
  'all 5 functions pin search_path to empty');

-- duration_ms computed by trigger through start -> complete
SELECT start_vantage_sync('cashflows');
SELECT pg_sleep(0.02);
SELECT complete_vantage_sync('cashflows', 5, 5, 0);
SELECT is(
  (SELECT duration_ms FROM vantage_sync_state WHERE resource = 'cashflows'),
  (SELECT round(extract(epoch FROM completed_at - started_at) * 1000)::integer
     FROM vantage_sync_state WHERE resource = 'cashflows'),
  'complete: duration_ms = completed_at - started_at in ms');
SELECT cmp_ok(
  (SELECT duration_ms FROM vantage_sync_state WHERE resource = 'cashflows'), '>=', 20,
  'complete: duration_ms covers the 20 ms sleep');

-- duration_ms computed by trigger on direct writes; a caller's value is overridden
INSERT INTO vantage_sync_state (resource, last_sync_status, started_at, completed_at, duration_ms)
VALUES ('probe_dur', 'success', '2025-11-05 10:00:00+00', '2025-11-05 10:00:01.5+00', 5);
SELECT is(
  (SELECT duration_ms FROM vantage_sync_state WHERE resource = 'probe_dur'), 1500,
  'insert: duration_ms derived from timestamps (1500)');
UPDATE vantage_sync_state SET completed_at = '2025-11-05 10:05:00+00' WHERE resource = 'probe_dur';
SELECT is(
  (SELECT duration_ms FROM vantage_sync_state WHERE resource = 'probe_dur'), 300000,
  'update of completed_at recomputes duration_ms (300000)');
UPDATE vantage_sync_state SET started_at = '2025-11-05 10:04:59.999+00' WHERE resource = 'probe_dur';
SELECT is(
  (SELECT duration_ms FROM vantage_sync_state WHERE resource = 'probe_dur'), 1,
  'update of started_at recomputes duration_ms (1)');
UPDATE vantage_sync_state
   SET started_at = '2025-01-01 00:00:00+00', completed_at = '2025-03-01 00:00:00+00'
 WHERE resource = 'probe_dur';
SELECT is(
  (SELECT duration_ms FROM vantage_sync_state WHERE resource = 'probe_dur'), 2147483647,
  'duration beyond int range is capped');
SELECT throws_ok(
  $$INSERT INTO vantage_sync_state (resource, duration_ms) VALUES ('probe_neg', -5)$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "vantage_sync_state_duration_ms_check"',
  'without timestamps a negative duration still hits the CHECK');

-- updated_at trigger
CREATE TEMP TABLE t_before ON COMMIT DROP AS
  SELECT resource, created_at, updated_at FROM vantage_sync_state;
UPDATE vantage_sync_state SET records_synced = records_synced WHERE resource = 'investors';
SELECT ok(
  (SELECT s.updated_at > b.updated_at AND s.updated_at > now()
     FROM vantage_sync_state s JOIN t_before b USING (resource) WHERE resource = 'investors'),
  'direct UPDATE moves updated_at forward');
SELECT is(
  (SELECT s.created_at FROM vantage_sync_state s WHERE resource = 'investors'),
  (SELECT b.created_at FROM t_before b WHERE resource = 'investors'),
  'direct UPDATE keeps created_at');
UPDATE t_before b SET updated_at = s.updated_at FROM vantage_sync_state s WHERE s.resource = b.resource;
SELECT pg_sleep(0.01);
UPDATE vantage_sync_state SET records_synced = records_synced WHERE resource = 'investors';
SELECT ok(
  (SELECT s.updated_at > b.updated_at
     FROM vantage_sync_state s JOIN t_before b USING (resource) WHERE resource = 'investors'),
  'second UPDATE in the same transaction moves updated_at again');
SELECT pg_sleep(0.01);
SELECT start_vantage_sync('valuations');
SELECT ok(
  (SELECT s.updated_at > b.updated_at AND s.updated_at > now()
     FROM vantage_sync_state s JOIN t_before b USING (resource) WHERE resource = 'valuations'),
  'start_vantage_sync moves updated_at');
UPDATE t_before b SET updated_at = s.updated_at FROM vantage_sync_state s WHERE s.resource = b.resource;
SELECT pg_sleep(0.01);
SELECT complete_vantage_sync('valuations', 1, 1, 0);
SELECT ok(
  (SELECT s.updated_at > b.updated_at
     FROM vantage_sync_state s JOIN t_before b USING (resource) WHERE resource = 'valuations'),
  'complete_vantage_sync moves updated_at');
SELECT is(
  (SELECT count(*)::int FROM vantage_sync_state s JOIN t_before b USING (resource)
    WHERE s.updated_at <> b.updated_at AND resource NOT IN ('valuations')),
  0, 'rows not written keep their updated_at');

-- fail keeps last_sync_time: never-synced resource
SELECT start_vantage_sync('investments');
SELECT fail_vantage_sync('investments', '[{"code":"E1","message":"m"}]');
SELECT ok(
  (SELECT last_sync_time IS NULL FROM vantage_sync_state WHERE resource = 'investments'),
  'fail of a never-synced resource leaves last_sync_time NULL');

-- fail keeps last_sync_time: resource with a watermark
SELECT start_vantage_sync('accounts');
SELECT complete_vantage_sync('accounts', 150, 10, 140);
CREATE TEMP TABLE t_mark ON COMMIT DROP AS
  SELECT last_sync_time, records_synced FROM vantage_sync_state WHERE resource = 'accounts';
SELECT pg_sleep(0.01);
SELECT start_vantage_sync('accounts');
SELECT is(
  (SELECT last_sync_time FROM vantage_sync_state WHERE resource = 'accounts'),
  (SELECT last_sync_time FROM t_mark),
  'start keeps the watermark for the incremental read');
SELECT pg_sleep(0.01);
SELECT fail_vantage_sync('accounts',
  '[{"code":"API_TIMEOUT","message":"timed out"},{"code":"PARSE_ERROR","message":"bad","record_id":"12345"}]');
SELECT is(
  (SELECT last_sync_time FROM vantage_sync_state WHERE resource = 'accounts'),
  (SELECT last_sync_time FROM t_mark),
  'fail keeps an existing watermark');
SELECT results_eq(
  $$SELECT last_sync_status, jsonb_array_length(errors), errors->1->>'record_id'
      FROM vantage_sync_state WHERE resource = 'accounts'$$,
  $$VALUES ('failed'::text, 2, '12345'::text)$$,
  'fail stores the errors array as given');
SELECT ok(
  (SELECT completed_at > last_sync_time AND completed_at >= started_at
     FROM vantage_sync_state WHERE resource = 'accounts'),
  'fail sets completed_at after the watermark');
SELECT is(
  (SELECT duration_ms FROM vantage_sync_state WHERE resource = 'accounts'),
  (SELECT round(extract(epoch FROM completed_at - started_at) * 1000)::integer
     FROM vantage_sync_state WHERE resource = 'accounts'),
  'fail: duration_ms = completed_at - started_at in ms');

-- complete clears errors
SELECT start_vantage_sync('accounts');
SELECT complete_vantage_sync('accounts', 7, 3, 4);
SELECT results_eq(
  $$SELECT last_sync_status, errors, records_synced, records_created, records_updated
      FROM vantage_sync_state WHERE resource = 'accounts'$$,
  $$VALUES ('success'::text, '[]'::jsonb, 7, 3, 4)$$,
  'complete clears errors and records the new counts');
SELECT ok(
  (SELECT s.last_sync_time > m.last_sync_time FROM vantage_sync_state s, t_mark m
    WHERE s.resource = 'accounts'),
  'complete advances the watermark');

-- start upserts an unknown resource
SELECT lives_ok($$SELECT start_vantage_sync('probe_new_resource')$$, 'start on an unknown resource');
SELECT results_eq(
  $$SELECT last_sync_status, started_at IS NOT NULL, completed_at IS NULL, last_sync_time IS NULL,
           records_synced, errors, current_run_id IS NOT NULL, consecutive_failures
      FROM vantage_sync_state WHERE resource = 'probe_new_resource'$$,
  $$VALUES ('running'::text, true, true, true, 0, '[]'::jsonb, true, 0)$$,
  'start created the row as running with defaults');
SELECT lives_ok(
  $$SELECT complete_vantage_sync('probe_new_resource', 1, 1, 0)$$,
  'the upserted resource can be completed');

-- start clears completed_at and duration_ms
SELECT start_vantage_sync('commitments');
SELECT pg_sleep(0.01);
SELECT complete_vantage_sync('commitments', 1, 0, 1);
CREATE TEMP TABLE t_prev ON COMMIT DROP AS
  SELECT started_at FROM vantage_sync_state WHERE resource = 'commitments';
SELECT ok(
  (SELECT completed_at IS NOT NULL AND duration_ms > 0 FROM vantage_sync_state WHERE resource = 'commitments'),
  'completed sync has completed_at and duration_ms');
SELECT start_vantage_sync('commitments');
SELECT results_eq(
  $$SELECT last_sync_status, completed_at, duration_ms
      FROM vantage_sync_state WHERE resource = 'commitments'$$,
  $$VALUES ('running'::text, NULL::timestamptz, NULL::integer)$$,
  'start clears completed_at and duration_ms');
SELECT ok(
  (SELECT s.started_at > p.started_at FROM vantage_sync_state s, t_prev p WHERE s.resource = 'commitments'),
  'start sets a new started_at');
SELECT is(
  (SELECT count(*)::int FROM vantage_sync_state WHERE resource = 'commitments'), 1,
  'start on an existing resource does not add a row');

-- unknown resources
SELECT throws_ok(
  $$SELECT complete_vantage_sync('no_such_resource', 1, 1, 0)$$,
  'PT404', 'unknown resource "no_such_resource": call start_vantage_sync first', 'complete of unknown resource raises PT404 naming it');
SELECT throws_ok(
  $$SELECT fail_vantage_sync('no_such_resource', '[]'::jsonb)$$,
  'PT404', 'unknown resource "no_such_resource": call start_vantage_sync first', 'fail of unknown resource raises PT404 naming it');
SELECT is_empty(
  $$SELECT 1 FROM vantage_sync_state WHERE resource = 'no_such_resource'$$,
  'complete/fail do not create rows');

-- invalid arguments
SELECT throws_ok(
  $$SELECT start_vantage_sync('  ')$$, '22023', NULL, 'start with a blank resource is rejected');
SELECT throws_ok(
  $$SELECT start_vantage_sync(NULL)$$, '22023', NULL, 'start with NULL resource is rejected');
SELECT throws_ok(
  $$SELECT complete_vantage_sync('funds', -1, 0, 0)$$,
  '22023',
  'record counts must be whole numbers >= 0 (got synced -1, created 0, updated 0)',
  'complete with a negative count is rejected (22023, plain message)');
SELECT throws_ok(
  $$SELECT fail_vantage_sync('funds', '{"code":"X"}'::jsonb)$$,
  '22023',
  'errors must be a JSON array of objects, got a JSON object',
  'fail with a non-array errors value is rejected (22023, plain message)');

SELECT * FROM finish();
ROLLBACK;
