-- 05_indexes: the spec's three indexes (exact definitions from pg_indexes.indexdef) plus the
-- primary-key index, and with seq scans disabled the plans of the spec's sample queries 2, 3, 4
-- and 5 use idx_vantage_sync_status, idx_vantage_sync_last_time, vantage_sync_state_pkey and
-- idx_vantage_sync_duration.
-- The EXPLAIN helper lives in pg_temp and disappears with the session. Later migrations may add
-- indexes: the spec's four must all be there (at least these), with their exact definitions.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(14);

CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  line text;
  result text := '';
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    result := result || line || E'\n';
  END LOOP;
  RETURN result;
END;
$$;

SELECT set_has(
  $$SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'vantage_sync_state'$$,
  $$VALUES ('vantage_sync_state_pkey'), ('idx_vantage_sync_status'), ('idx_vantage_sync_last_time'),
           ('idx_vantage_sync_duration')$$,
  'at least the pkey and the 3 spec indexes');

SELECT is(
  (SELECT indexdef FROM pg_indexes
    WHERE schemaname = 'public' AND tablename = 'vantage_sync_state' AND indexname = 'idx_vantage_sync_status'),
  'CREATE INDEX idx_vantage_sync_status ON public.vantage_sync_state USING btree (last_sync_status) WHERE (last_sync_status <> ''success''::text)',
  'idx_vantage_sync_status: partial, status <> success');
SELECT is(
  (SELECT indexdef FROM pg_indexes
    WHERE schemaname = 'public' AND tablename = 'vantage_sync_state' AND indexname = 'idx_vantage_sync_last_time'),
  'CREATE INDEX idx_vantage_sync_last_time ON public.vantage_sync_state USING btree (last_sync_time DESC NULLS LAST)',
  'idx_vantage_sync_last_time: DESC NULLS LAST');
SELECT is(
  (SELECT indexdef FROM pg_indexes
    WHERE schemaname = 'public' AND tablename = 'vantage_sync_state' AND indexname = 'idx_vantage_sync_duration'),
  'CREATE INDEX idx_vantage_sync_duration ON public.vantage_sync_state USING btree (duration_ms DESC) WHERE (duration_ms IS NOT NULL)',
  'idx_vantage_sync_duration: DESC, partial IS NOT NULL');
SELECT is(
  (SELECT indexdef FROM pg_indexes
    WHERE schemaname = 'public' AND tablename = 'vantage_sync_state' AND indexname = 'vantage_sync_state_pkey'),
  'CREATE UNIQUE INDEX vantage_sync_state_pkey ON public.vantage_sync_state USING btree (resource)',
  'vantage_sync_state_pkey: unique btree on resource');

-- give the partial indexes something to hold: one failure, a few finished syncs
SELECT start_vantage_sync('funds');
SELECT fail_vantage_sync('funds', '[{"code":"TEST_ERROR","message":"Test failure"}]');
SELECT start_vantage_sync('accounts');
SELECT complete_vantage_sync('accounts', 100, 10, 90);
SELECT start_vantage_sync('cashflows');
SELECT complete_vantage_sync('cashflows', 5, 5, 0);
ANALYZE vantage_sync_state;

SET LOCAL enable_seqscan = off;

-- Query 2: failed syncs with errors
SELECT matches(
  pg_temp.plan_of($$SELECT resource, last_sync_status, completed_at, duration_ms,
                           jsonb_array_length(errors) AS error_count, errors
                      FROM vantage_sync_state
                     WHERE last_sync_status = 'failed'
                     ORDER BY completed_at DESC$$),
  'Scan (using|on) idx_vantage_sync_status\M',
  'query 2 uses idx_vantage_sync_status');
SELECT matches(
  pg_temp.plan_of($$SELECT resource, last_sync_status, completed_at, duration_ms,
                           jsonb_array_length(errors) AS error_count, errors
                      FROM vantage_sync_state
                     WHERE last_sync_status = 'failed'
                     ORDER BY completed_at DESC$$),
  E'Index Cond: \\(last_sync_status = ''failed''::text\\)',
  'query 2: index condition on last_sync_status');

-- Query 3: stale syncs, oldest first (the spec's text is run verbatim in 22_spec_queries)
CREATE TEMP TABLE t_query3 ON COMMIT DROP AS
  SELECT pg_temp.plan_of($$SELECT resource, last_sync_time, last_sync_status,
                                  EXTRACT(EPOCH FROM (now() - last_sync_time))/3600 AS hours_since_sync
                             FROM vantage_sync_state
                            WHERE last_sync_time IS NOT NULL
                              AND last_sync_time < now() - INTERVAL '24 hours'
                            ORDER BY last_sync_time ASC$$) AS plan;
SELECT matches((SELECT plan FROM t_query3), 'Scan (using|on) idx_vantage_sync_last_time\M',
  'query 3 uses idx_vantage_sync_last_time');
SELECT matches((SELECT plan FROM t_query3),
  E'Index Cond: \\(.*last_sync_time < \\(now\\(\\) - ''24:00:00''::interval\\)',
  'query 3: index condition on last_sync_time');

-- Query 4: incremental watermark for one resource
SELECT matches(
  pg_temp.plan_of($$SELECT last_sync_time FROM vantage_sync_state WHERE resource = 'accounts'$$),
  'Scan (using|on) vantage_sync_state_pkey\M',
  'query 4 uses vantage_sync_state_pkey');
SELECT matches(
  pg_temp.plan_of($$SELECT last_sync_time FROM vantage_sync_state WHERE resource = 'accounts'$$),
  E'Index Cond: \\(resource = ''accounts''::text\\)',
  'query 4: index condition on resource');

-- Query 5: slowest syncs
SELECT matches(
  pg_temp.plan_of($$SELECT resource, duration_ms, ROUND(duration_ms / 1000.0, 2) AS duration_seconds,
                           records_synced,
                           ROUND(records_synced::NUMERIC / NULLIF(duration_ms, 0) * 1000, 2) AS records_per_second,
                           completed_at
                      FROM vantage_sync_state
                     WHERE duration_ms IS NOT NULL
                     ORDER BY duration_ms DESC
                     LIMIT 5$$),
  'Scan (using|on) idx_vantage_sync_duration\M',
  'query 5 uses idx_vantage_sync_duration');

-- the queries return what the spec describes
SELECT results_eq(
  $$SELECT resource, jsonb_array_length(errors) FROM vantage_sync_state
     WHERE last_sync_status = 'failed' ORDER BY completed_at DESC$$,
  $$VALUES ('funds'::text, 1)$$,
  'query 2 returns the failed resource with its error count');
SELECT results_eq(
  $$SELECT resource FROM vantage_sync_state
     WHERE duration_ms IS NOT NULL ORDER BY duration_ms DESC, resource LIMIT 5$$,
  $$SELECT resource FROM vantage_sync_state
     WHERE resource IN ('accounts', 'cashflows', 'funds')
     ORDER BY duration_ms DESC, resource$$,
  'query 5 returns only finished syncs, slowest first');

RESET enable_seqscan;

SELECT * FROM finish();
ROLLBACK;
