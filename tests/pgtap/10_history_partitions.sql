-- 10_history_partitions: vantage_sync_runs is range-partitioned by month (UTC) on started_at,
-- with its partitions in schema vantage_sync_private: the current month and 3 ahead exist, a
-- default partition catches the rest, month boundaries are UTC midnights, a run row lands in its
-- month, create_vantage_sync_run_partitions() is idempotent (creates 0 the second time), checks
-- its argument (22023), and moves rows that landed in the default partition into a month's new
-- partition (a row 8 months ahead, then create_vantage_sync_run_partitions(9)). New partitions
-- get the parent's keys, indexes and duration trigger; RLS is enabled on the parent and on every
-- partition. Month names are computed from now() in UTC, like the function does.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(28);

-- month i ahead of the current UTC month: its partition name and its bounds
CREATE FUNCTION pg_temp.month_start(i integer) RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i)) AT TIME ZONE 'UTC'
$$;
CREATE FUNCTION pg_temp.part(i integer) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT 'vantage_sync_runs_'
         || to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i), 'YYYY_MM')
$$;
-- the partitions of vantage_sync_runs
CREATE TEMP VIEW t_parts AS
  SELECT c.oid, c.relname::text AS relname, c.relnamespace::regnamespace::text AS nsp, c.relrowsecurity
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
   WHERE i.inhparent = 'public.vantage_sync_runs'::regclass;

-- shape ------------------------------------------------------------------------------------------
SELECT is(
  (SELECT relkind::text FROM pg_class WHERE oid = 'public.vantage_sync_runs'::regclass), 'p',
  'vantage_sync_runs is partitioned');
SELECT is(pg_get_partkeydef('public.vantage_sync_runs'::regclass), 'RANGE (started_at)',
  'partitioned by range of started_at');
SELECT is(
  (SELECT partdefid::regclass::text FROM pg_partitioned_table
    WHERE partrelid = 'public.vantage_sync_runs'::regclass),
  'vantage_sync_private.vantage_sync_runs_default',
  'default partition vantage_sync_private.vantage_sync_runs_default');
SELECT set_has(
  $$SELECT nsp || '.' || relname FROM t_parts$$,
  $$SELECT 'vantage_sync_private.' || pg_temp.part(i) FROM generate_series(0, 3) AS i$$,
  'partitions for the current month and 3 ahead, in vantage_sync_private');
SELECT is_empty(
  $$SELECT relname FROM t_parts WHERE nsp <> 'vantage_sync_private'$$,
  'every partition lives in vantage_sync_private');

-- month boundaries are UTC midnights ---------------------------------------------------------------
INSERT INTO vantage_sync_runs (run_id, resource, status, started_at) VALUES
  ('00000000-0000-4000-8000-00000000000a', 'probe_b', 'running', pg_temp.month_start(1) - interval '1 microsecond'),
  ('00000000-0000-4000-8000-00000000000b', 'probe_b', 'running', pg_temp.month_start(1));
SELECT results_eq(
  $$SELECT run_id::text, tableoid::regclass::text FROM vantage_sync_runs WHERE resource = 'probe_b' ORDER BY run_id$$,
  $$VALUES ('00000000-0000-4000-8000-00000000000a', 'vantage_sync_private.' || pg_temp.part(0)),
           ('00000000-0000-4000-8000-00000000000b', 'vantage_sync_private.' || pg_temp.part(1))$$,
  'the last microsecond of a UTC month and the first of the next land in their own months');

-- a run lands in the current month ----------------------------------------------------------------
CREATE TEMP TABLE t_run ON COMMIT DROP AS SELECT start_vantage_sync('accounts') AS run_id;
SELECT is(
  (SELECT tableoid::regclass::text FROM vantage_sync_runs WHERE run_id = (SELECT run_id FROM t_run)),
  'vantage_sync_private.' || pg_temp.part(0),
  'a new run''s history row is in the current month''s partition');

-- create_vantage_sync_run_partitions -------------------------------------------------------------
SELECT is(create_vantage_sync_run_partitions(), 0, 'called again: creates 0 partitions');
SELECT is(create_vantage_sync_run_partitions(0), 0, 'months_ahead 0: the current month exists, creates 0');
SELECT throws_ok($$SELECT create_vantage_sync_run_partitions(-1)$$,
  '22023', 'p_months_ahead must be between 0 and 120 (got -1)', 'months_ahead -1: 22023');
SELECT throws_ok($$SELECT create_vantage_sync_run_partitions(121)$$,
  '22023', 'p_months_ahead must be between 0 and 120 (got 121)', 'months_ahead 121: 22023');
SELECT throws_ok($$SELECT create_vantage_sync_run_partitions(NULL)$$,
  '22023', 'p_months_ahead must be between 0 and 120 (got <NULL>)', 'months_ahead NULL: 22023');

-- a row 8 months ahead lands in the default partition ... ---------------------------------------
INSERT INTO vantage_sync_runs (run_id, resource, status, started_at, completed_at, records_synced, errors)
VALUES ('00000000-0000-4000-8000-000000000008', 'probe_future', 'failed',
        pg_temp.month_start(8) + interval '3 days', pg_temp.month_start(8) + interval '3 days 2 seconds', 42,
        '[{"code":"X","message":"m"}]');
SELECT is(
  (SELECT tableoid::regclass::text FROM vantage_sync_runs WHERE run_id = '00000000-0000-4000-8000-000000000008'),
  'vantage_sync_private.vantage_sync_runs_default',
  'a row 8 months ahead lands in the default partition');
CREATE TEMP TABLE t_future ON COMMIT DROP AS
  SELECT to_jsonb(r) AS row FROM vantage_sync_runs r WHERE run_id = '00000000-0000-4000-8000-000000000008';

-- ... and moves into its month's partition when that is created (called from a session 14 hours
-- ahead of UTC: the months are still UTC months)
SET LOCAL timezone = 'Pacific/Kiritimati';
SELECT is(create_vantage_sync_run_partitions(9), 6, 'months_ahead 9: creates the 6 missing months');
SET LOCAL timezone TO DEFAULT;
SELECT set_has(
  $$SELECT nsp || '.' || relname FROM t_parts$$,
  $$SELECT 'vantage_sync_private.' || pg_temp.part(i) FROM generate_series(0, 9) AS i$$,
  'partitions for the current month through 9 ahead');
SELECT is(
  (SELECT tableoid::regclass::text FROM vantage_sync_runs WHERE run_id = '00000000-0000-4000-8000-000000000008'),
  'vantage_sync_private.' || pg_temp.part(8),
  'the row moved from the default partition into its month');
SELECT is_empty(
  $$SELECT run_id FROM vantage_sync_private.vantage_sync_runs_default
     WHERE run_id = '00000000-0000-4000-8000-000000000008'$$,
  'the default partition no longer holds it');
SELECT is(
  (SELECT to_jsonb(r) FROM vantage_sync_runs r WHERE run_id = '00000000-0000-4000-8000-000000000008'),
  (SELECT row FROM t_future),
  'the moved row is unchanged (every column, duration included)');
SELECT is(
  (SELECT duration_ms FROM vantage_sync_runs WHERE run_id = '00000000-0000-4000-8000-000000000008'), 2000,
  'its duration was derived on insert (2000 ms)');
SELECT is(create_vantage_sync_run_partitions(9), 0, 'months_ahead 9 again: creates 0');
INSERT INTO vantage_sync_runs (run_id, resource, status, started_at) VALUES
  ('00000000-0000-4000-8000-00000000000c', 'probe_b', 'running', pg_temp.month_start(9) - interval '1 microsecond'),
  ('00000000-0000-4000-8000-00000000000d', 'probe_b', 'running', pg_temp.month_start(9));
SELECT results_eq(
  $$SELECT run_id::text, tableoid::regclass::text FROM vantage_sync_runs
     WHERE run_id IN ('00000000-0000-4000-8000-00000000000c', '00000000-0000-4000-8000-00000000000d')
     ORDER BY run_id$$,
  $$VALUES ('00000000-0000-4000-8000-00000000000c', 'vantage_sync_private.' || pg_temp.part(8)),
           ('00000000-0000-4000-8000-00000000000d', 'vantage_sync_private.' || pg_temp.part(9))$$,
  'new partitions are bounded by UTC month starts too');

-- new partitions are complete partitions ---------------------------------------------------------
SELECT is(
  (SELECT count(*)::int FROM pg_index WHERE indrelid = ('vantage_sync_private.' || pg_temp.part(5))::regclass),
  2, 'a new partition has the primary key and the (resource, started_at) index');
INSERT INTO vantage_sync_runs (run_id, resource, status, started_at, completed_at, duration_ms)
VALUES ('00000000-0000-4000-8000-000000000005', 'probe_future', 'success',
        pg_temp.month_start(5), pg_temp.month_start(5) + interval '1.5 seconds', 5);
SELECT results_eq(
  $$SELECT tableoid::regclass::text, duration_ms FROM vantage_sync_runs
     WHERE run_id = '00000000-0000-4000-8000-000000000005'$$,
  $$SELECT 'vantage_sync_private.' || pg_temp.part(5), 1500$$,
  'a row in a new partition gets its duration from the trigger');
SELECT throws_ok(
  $$INSERT INTO vantage_sync_runs (run_id, resource, status, started_at)
    VALUES ('00000000-0000-4000-8000-000000000005', 'probe_future', 'running', pg_temp.month_start(5))$$,
  '23505', NULL, 'a new partition enforces the primary key');
SELECT throws_ok(
  $$INSERT INTO vantage_sync_runs (run_id, resource, status, started_at)
    VALUES (gen_random_uuid(), 'probe_future', 'success', pg_temp.month_start(6))$$,
  '23514', NULL, 'a new partition enforces the CHECKs (success without completed_at)');

-- RLS on the parent and every partition ----------------------------------------------------------
SELECT ok(
  (SELECT relrowsecurity FROM pg_class WHERE oid = 'public.vantage_sync_runs'::regclass),
  'RLS enabled on vantage_sync_runs');
SELECT is((SELECT count(*)::int FROM t_parts), 11, '11 partitions now (10 months and the default)');
SELECT is_empty(
  $$SELECT relname FROM t_parts WHERE NOT relrowsecurity$$,
  'RLS enabled on every partition, the new ones included');

SELECT * FROM finish();
ROLLBACK;
