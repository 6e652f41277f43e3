-- 12_health_view: public.vantage_sync_health has its columns, is security_invoker, shows one row
-- per resource, and computes health and alerts for a few typical rows (one red per red rule, the
-- yellow rules, green) with the resource's schedule; sort_key orders red < yellow < green, then
-- by name. The view reads now(), which is fixed inside this transaction, so the strict threshold
-- comparisons are pinned exactly (30 minutes running is not stuck, 24 hours is not stale).
-- The full truth table of the rules is tested from Rust (tests/fixtures/health_cases.json).
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(14);

-- shape ------------------------------------------------------------------------------------------
SELECT has_view('public', 'vantage_sync_health', 'view exists');
SELECT set_has(
  $$SELECT attname::text FROM pg_attribute
     WHERE attrelid = 'public.vantage_sync_health'::regclass AND attnum > 0 AND NOT attisdropped$$,
  $$VALUES ('resource'), ('last_sync_status'), ('health'), ('health_rank'), ('sort_key'), ('alerts'),
           ('last_sync_time'), ('hours_since_sync'), ('started_at'), ('completed_at'), ('running_seconds'),
           ('duration_ms'), ('records_synced'), ('records_created'), ('records_updated'), ('error_count'),
           ('errors'), ('consecutive_failures'), ('current_run_id'), ('expected_interval'), ('stale_after'),
           ('stuck_after'), ('slow_after'), ('next_sync_due_at'), ('created_at'), ('updated_at')$$,
  'view has the dashboard columns');
SELECT ok(
  (SELECT reloptions @> ARRAY['security_invoker=true'] FROM pg_class
    WHERE oid = 'public.vantage_sync_health'::regclass),
  'view is security_invoker (reloptions)');

-- the scene ------------------------------------------------------------------------------------
-- funds:       failed 3 times                       -> red, repeated_failures
-- commitments: running 30 min + 1 microsecond       -> red, stuck
-- valuations:  running exactly 30 min               -> green (not yet stuck)
-- investors:   last success 25 h ago                -> yellow, stale
-- probe_edge:  last success exactly 24 h ago        -> green (not yet stale)
-- accounts:    just succeeded                       -> green
-- cashflows, investments: never run (recently seeded) -> yellow, no alert
SELECT start_vantage_sync('funds'), fail_vantage_sync('funds', '[{"code":"E1","message":"m"}]');
SELECT start_vantage_sync('funds'), fail_vantage_sync('funds', '[{"code":"E2","message":"m"}]');
SELECT start_vantage_sync('funds'), fail_vantage_sync('funds', '[{"code":"E3","message":"m"},{"code":"E4","message":"m"}]');
SELECT start_vantage_sync('commitments');
UPDATE vantage_sync_state SET started_at = now() - interval '30 minutes 0.000001 seconds' WHERE resource = 'commitments';
SELECT start_vantage_sync('valuations');
UPDATE vantage_sync_state SET started_at = now() - interval '30 minutes' WHERE resource = 'valuations';
SELECT start_vantage_sync('investors'), complete_vantage_sync('investors', 5, 5, 0);
UPDATE vantage_sync_state
   SET started_at = now() - interval '25 hours 1 minute', completed_at = now() - interval '25 hours',
       last_sync_time = now() - interval '25 hours'
 WHERE resource = 'investors';
INSERT INTO vantage_sync_state (resource, last_sync_status, last_sync_time, started_at, completed_at)
VALUES ('probe_edge', 'success', now() - interval '24 hours', now() - interval '24 hours 1 second',
        now() - interval '24 hours');
SELECT start_vantage_sync('accounts'), complete_vantage_sync('accounts', 100, 10, 90);

SELECT is(
  (SELECT count(*)::int FROM vantage_sync_health), (SELECT count(*)::int FROM vantage_sync_state),
  'one row per resource');
SELECT results_eq(
  $$SELECT resource, health, health_rank, alerts FROM vantage_sync_health ORDER BY sort_key$$,
  $$VALUES ('commitments'::text, 'red'::text, 1, '{stuck}'::text[]),
           ('funds', 'red', 1, '{repeated_failures}'),
           ('cashflows', 'yellow', 2, '{}'),
           ('investments', 'yellow', 2, '{}'),
           ('investors', 'yellow', 2, '{stale}'),
           ('accounts', 'green', 3, '{}'),
           ('probe_edge', 'green', 3, '{}'),
           ('valuations', 'green', 3, '{}')$$,
  'health and alerts per resource, ordered by sort_key: red, yellow, green, then name');
SELECT results_eq(
  $$SELECT resource FROM vantage_sync_health ORDER BY sort_key$$,
  $$SELECT resource FROM vantage_sync_health ORDER BY health_rank, resource$$,
  'sort_key orders like (health_rank, resource)');
SELECT is(
  (SELECT sort_key::text FROM vantage_sync_health WHERE resource = 'funds'), '1:funds',
  'sort_key is rank:resource');
SELECT results_eq(
  $$SELECT last_sync_status, error_count, consecutive_failures, records_synced, running_seconds
      FROM vantage_sync_health WHERE resource = 'funds'$$,
  $$VALUES ('failed'::text, 2, 3, 0, NULL::integer)$$,
  'red row: status, error count and consecutive failures from the state row');
SELECT results_eq(
  $$SELECT running_seconds, stuck_after, stale_after, slow_after, expected_interval, next_sync_due_at
      FROM vantage_sync_health WHERE resource = 'commitments'$$,
  $$VALUES (1800, interval '30 minutes', interval '24 hours', interval '5 minutes', NULL::interval, NULL::timestamptz)$$,
  'running row: running_seconds and the default thresholds');
SELECT ok(
  (SELECT hours_since_sync::numeric = 25 FROM vantage_sync_health WHERE resource = 'investors'),
  'yellow row: hours_since_sync is 25');

-- a schedule changes the verdict -----------------------------------------------------------------
INSERT INTO vantage_sync_schedules (resource, stale_after, stuck_after, expected_interval) VALUES
  ('investors', interval '48 hours', DEFAULT, NULL),
  ('commitments', interval '24 hours', interval '1 hour', NULL),
  ('accounts', interval '24 hours', interval '30 minutes', interval '1 second');
SELECT results_eq(
  $$SELECT resource, health, alerts FROM vantage_sync_health
     WHERE resource IN ('investors', 'commitments') ORDER BY resource$$,
  $$VALUES ('commitments'::text, 'green'::text, '{}'::text[]), ('investors', 'green', '{}')$$,
  'schedule thresholds apply: 25 h is not stale after 48 h, 30 min is not stuck after 1 h');
SELECT results_eq(
  $$SELECT stale_after, stuck_after FROM vantage_sync_health WHERE resource = 'investors'$$,
  $$VALUES (interval '48 hours', interval '30 minutes')$$,
  'the view shows the schedule''s thresholds');
SELECT results_eq(
  $$SELECT 'missed_schedule' = ANY (alerts), next_sync_due_at = started_at + interval '1 second'
      FROM vantage_sync_health WHERE resource = 'accounts'$$,
  $$VALUES (false, true)$$,
  'expected_interval: next_sync_due_at = last start + interval (not yet missed inside this transaction)');
SELECT results_eq(
  $$SELECT resource, health FROM vantage_sync_health ORDER BY sort_key LIMIT 3$$,
  $$VALUES ('funds'::text, 'red'::text), ('cashflows', 'yellow'), ('investments', 'yellow')$$,
  'the order follows the new verdicts');

SELECT * FROM finish();
ROLLBACK;
