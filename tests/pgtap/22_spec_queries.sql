-- 22_spec_queries: the spec's sample queries 1-6, its monitoring dashboard query and its four
-- alert queries, each copied byte for byte from shared/seed/vantage_sync_state.md (the tests
-- crate's tests/spec_queries.rs fails when a copy here drifts from the spec), run unchanged
-- against the migrated schema on a fixture of the seven seeded resources, one in each situation
-- the queries look for. The fixture is written directly (as the superuser, relative to now(),
-- which is fixed inside this transaction), so every time, count and ratio below is exact:
--   accounts     success  2 h ago, 150 records in 3.2 s                green
--   funds        failed   1 h ago after 45 s, the spec's 2 errors;
--                         last success 26 h ago                         red, stale
--   cashflows    running  for 45 min; last success 6 h ago             red (stuck)
--   commitments  success  30 h ago, 5,000 records in 7 min              yellow, stale, slow
--   investments  success  12 min ago, 900 records in 90 s               green
--   investors    never_run, created 48 h ago                            yellow, stale
--   valuations   never_run, created 1 h ago                             yellow
-- Rows other tests or runs left are removed first; the ROLLBACK undoes it all.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(11);

DELETE FROM vantage_sync_state
 WHERE resource NOT IN ('accounts', 'funds', 'cashflows', 'commitments', 'investors', 'investments', 'valuations');
UPDATE vantage_sync_state
   SET last_sync_status = 'never_run', last_sync_time = NULL, started_at = NULL, completed_at = NULL,
       records_synced = 0, records_created = 0, records_updated = 0, errors = '[]',
       consecutive_failures = 0, current_run_id = NULL, created_at = now() - interval '72 hours';
UPDATE vantage_sync_state
   SET last_sync_status = 'success', last_sync_time = now() - interval '2 hours',
       started_at = now() - interval '2 hours 3.2 seconds', completed_at = now() - interval '2 hours',
       records_synced = 150, records_created = 10, records_updated = 140
 WHERE resource = 'accounts';
UPDATE vantage_sync_state
   SET last_sync_status = 'failed', last_sync_time = now() - interval '26 hours',
       started_at = now() - interval '1 hour 45 seconds', completed_at = now() - interval '1 hour',
       consecutive_failures = 1,
       errors = '[
    {"code": "API_TIMEOUT", "message": "Vantage API request timed out after 30s", "timestamp": "2025-11-05T10:30:00Z"},
    {"code": "PARSE_ERROR", "message": "Invalid JSON in record ID 12345", "record_id": "12345"}
  ]'
 WHERE resource = 'funds';
UPDATE vantage_sync_state
   SET last_sync_status = 'running', last_sync_time = now() - interval '6 hours',
       started_at = now() - interval '45 minutes', current_run_id = gen_random_uuid()
 WHERE resource = 'cashflows';
UPDATE vantage_sync_state
   SET last_sync_status = 'success', last_sync_time = now() - interval '30 hours',
       started_at = now() - interval '30 hours 7 minutes', completed_at = now() - interval '30 hours',
       records_synced = 5000, records_created = 4000, records_updated = 1000
 WHERE resource = 'commitments';
UPDATE vantage_sync_state
   SET last_sync_status = 'success', last_sync_time = now() - interval '12 minutes',
       started_at = now() - interval '13 minutes 30 seconds', completed_at = now() - interval '12 minutes',
       records_synced = 900, records_created = 0, records_updated = 900
 WHERE resource = 'investments';
UPDATE vantage_sync_state SET created_at = now() - interval '48 hours' WHERE resource = 'investors';
UPDATE vantage_sync_state SET created_at = now() - interval '1 hour' WHERE resource = 'valuations';

CREATE TEMP TABLE t_funds_errors ON COMMIT DROP AS SELECT errors FROM vantage_sync_state WHERE resource = 'funds';

-- Query 1: current status for all resources, failed > running > never_run > success, then name
SELECT results_eq(
  $spec$SELECT
  resource,
  last_sync_status AS status,
  last_sync_time,
  records_synced,
  duration_ms,
  CASE
    WHEN last_sync_status = 'running' THEN
      EXTRACT(EPOCH FROM (now() - started_at))::INT
    ELSE NULL
  END AS running_seconds
FROM vantage_sync_state
ORDER BY
  CASE last_sync_status
    WHEN 'failed' THEN 1
    WHEN 'running' THEN 2
    WHEN 'never_run' THEN 3
    WHEN 'success' THEN 4
  END,
  resource;
$spec$,
  $$VALUES ('funds'::text, 'failed'::text, now() - interval '26 hours', 0, 45000, NULL::integer),
           ('cashflows', 'running', now() - interval '6 hours', 0, NULL, 2700),
           ('investors', 'never_run', NULL, 0, NULL, NULL),
           ('valuations', 'never_run', NULL, 0, NULL, NULL),
           ('accounts', 'success', now() - interval '2 hours', 150, 3200, NULL),
           ('commitments', 'success', now() - interval '30 hours', 5000, 420000, NULL),
           ('investments', 'success', now() - interval '12 minutes', 900, 90000, NULL)$$,
  'query 1: every resource, failed first, running for 2,700 s');

-- Query 2: failed syncs with their errors
SELECT results_eq(
  $spec$SELECT
  resource,
  last_sync_status,
  completed_at,
  duration_ms,
  jsonb_array_length(errors) AS error_count,
  errors
FROM vantage_sync_state
WHERE last_sync_status = 'failed'
ORDER BY completed_at DESC;
$spec$,
  $$SELECT 'funds'::text, 'failed'::text, now() - interval '1 hour', 45000, 2, errors FROM t_funds_errors$$,
  'query 2: the failed resource, its 2 errors');

-- Query 3: stale syncs (last success over 24 h ago), oldest first
SELECT results_eq(
  $spec$SELECT
  resource,
  last_sync_time,
  last_sync_status,
  EXTRACT(EPOCH FROM (now() - last_sync_time))/3600 AS hours_since_sync
FROM vantage_sync_state
WHERE
  last_sync_time IS NOT NULL
  AND last_sync_time < now() - INTERVAL '24 hours'
ORDER BY last_sync_time ASC;
$spec$,
  $$VALUES ('commitments'::text, now() - interval '30 hours', 'success'::text, 30::numeric),
           ('funds', now() - interval '26 hours', 'failed', 26)$$,
  'query 3: the two resources last synced over 24 h ago, oldest first, with their hours');

-- Query 4: the incremental watermark of one resource
SELECT results_eq(
  $spec$SELECT last_sync_time
FROM vantage_sync_state
WHERE resource = 'accounts';
$spec$,
  $$VALUES (now() - interval '2 hours')$$,
  'query 4: accounts'' last_sync_time');

-- Query 5: slowest syncs (finished ones only), with their rates
SELECT results_eq(
  $spec$SELECT
  resource,
  duration_ms,
  ROUND(duration_ms / 1000.0, 2) AS duration_seconds,
  records_synced,
  ROUND(records_synced::NUMERIC / NULLIF(duration_ms, 0) * 1000, 2) AS records_per_second,
  completed_at
FROM vantage_sync_state
WHERE duration_ms IS NOT NULL
ORDER BY duration_ms DESC
LIMIT 5;
$spec$,
  $$VALUES ('commitments'::text, 420000, 420.00::numeric, 5000, 11.90::numeric, now() - interval '30 hours'),
           ('investments', 90000, 90.00, 900, 10.00, now() - interval '12 minutes'),
           ('funds', 45000, 45.00, 0, 0.00, now() - interval '1 hour'),
           ('accounts', 3200, 3.20, 150, 46.88, now() - interval '2 hours')$$,
  'query 5: the four finished syncs, slowest first, seconds and records per second rounded');

-- Query 6: aggregate statistics
SELECT results_eq(
  $spec$SELECT
  COUNT(*) AS total_resources,
  COUNT(*) FILTER (WHERE last_sync_status = 'success') AS successful,
  COUNT(*) FILTER (WHERE last_sync_status = 'failed') AS failed,
  COUNT(*) FILTER (WHERE last_sync_status = 'running') AS running,
  COUNT(*) FILTER (WHERE last_sync_status = 'never_run') AS never_run,
  SUM(records_synced) AS total_records_synced,
  AVG(duration_ms) FILTER (WHERE duration_ms IS NOT NULL) AS avg_duration_ms,
  MAX(duration_ms) AS max_duration_ms
FROM vantage_sync_state;
$spec$,
  $$VALUES (7::bigint, 3::bigint, 1::bigint, 1::bigint, 2::bigint, 6050::bigint, 139550::numeric, 420000)$$,
  'query 6: 7 resources (3 success, 1 failed, 1 running, 2 never run), 6,050 records, durations');

-- The monitoring dashboard query: red, yellow, green, then name
SELECT results_eq(
  $spec$-- Get dashboard overview
WITH sync_health AS (
  SELECT
    resource,
    last_sync_status,
    last_sync_time,
    EXTRACT(EPOCH FROM (now() - last_sync_time))/3600 AS hours_since_sync,
    duration_ms,
    records_synced,
    jsonb_array_length(errors) AS error_count,
    CASE
      WHEN last_sync_status = 'failed' THEN 'red'
      WHEN last_sync_status = 'running' AND started_at < now() - INTERVAL '30 minutes' THEN 'red'
      WHEN last_sync_time < now() - INTERVAL '24 hours' THEN 'yellow'
      WHEN last_sync_status = 'never_run' THEN 'yellow'
      ELSE 'green'
    END AS health_indicator
  FROM vantage_sync_state
)
SELECT * FROM sync_health
ORDER BY
  CASE health_indicator
    WHEN 'red' THEN 1
    WHEN 'yellow' THEN 2
    WHEN 'green' THEN 3
  END,
  resource;
$spec$,
  $$VALUES ('cashflows'::text, 'running'::text, now() - interval '6 hours', 6::numeric, NULL::integer, 0, 0, 'red'::text),
           ('funds', 'failed', now() - interval '26 hours', 26, 45000, 0, 2, 'red'),
           ('commitments', 'success', now() - interval '30 hours', 30, 420000, 5000, 0, 'yellow'),
           ('investors', 'never_run', NULL, NULL, NULL, 0, 0, 'yellow'),
           ('valuations', 'never_run', NULL, NULL, NULL, 0, 0, 'yellow'),
           ('accounts', 'success', now() - interval '2 hours', 2, 3200, 150, 0, 'green'),
           ('investments', 'success', now() - interval '12 minutes', 0.2, 90000, 900, 0, 'green')$$,
  'dashboard: stuck and failed red; stale and never run yellow; the rest green');

-- Alert 1: stuck (running for over 30 minutes)
SELECT results_eq(
  $spec$SELECT resource, started_at,
       EXTRACT(EPOCH FROM (now() - started_at))/60 AS minutes_running
FROM vantage_sync_state
WHERE last_sync_status = 'running'
  AND started_at < now() - INTERVAL '30 minutes';
$spec$,
  $$VALUES ('cashflows'::text, now() - interval '45 minutes', 45::numeric)$$,
  'alert 1: the sync running for 45 minutes');

-- Alert 2: stale (over 24 h since the last success, or never run and created over 24 h ago)
SELECT set_eq(
  $spec$SELECT resource, last_sync_time,
       EXTRACT(EPOCH FROM (now() - last_sync_time))/3600 AS hours_since_sync
FROM vantage_sync_state
WHERE last_sync_time < now() - INTERVAL '24 hours'
   OR (last_sync_status = 'never_run' AND created_at < now() - INTERVAL '24 hours');
$spec$,
  $$VALUES ('funds'::text, now() - interval '26 hours', 26::numeric),
           ('commitments', now() - interval '30 hours', 30),
           ('investors', NULL, NULL)$$,
  'alert 2: the two old successes and the resource never run since it was created 48 h ago');

-- Alert 3: failures (the query leaves counting them to the application)
SELECT set_eq(
  $spec$SELECT resource, last_sync_status, completed_at, errors
FROM vantage_sync_state
WHERE last_sync_status = 'failed';
-- Application logic tracks consecutive failures
$spec$,
  $$SELECT 'funds'::text AS resource, 'failed'::text AS status, now() - interval '1 hour' AS completed_at, errors
      FROM t_funds_errors$$,
  'alert 3: the failed resource with its errors');

-- Alert 4: performance degradation (over 5 minutes)
SELECT results_eq(
  $spec$SELECT resource, duration_ms, completed_at, records_synced
FROM vantage_sync_state
WHERE duration_ms > 300000  -- 5 minutes in ms
ORDER BY completed_at DESC;
$spec$,
  $$VALUES ('commitments'::text, 420000, now() - interval '30 hours', 5000)$$,
  'alert 4: the 7-minute sync');

SELECT * FROM finish();
ROLLBACK;
