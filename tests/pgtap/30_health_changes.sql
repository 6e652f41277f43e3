-- 30_health_changes: vantage_sync_health_changes(p_since) (20261207190000), the widget's refresh
-- at scale. In one snapshot: now(), the digest of what the caller may read (total, the sum of
-- updated_at in microseconds modulo 2^53, an md5 of the schedules and defaults) and either the
-- exact counts per health and of late resources (no p_since) or the card columns of the rows
-- updated at or after p_since. Plain SQL, STABLE, invoker, search_path fixed; EXECUTE for
-- authenticated and service_role only.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(16);

SELECT has_function('public', 'vantage_sync_health_changes', ARRAY['timestamp with time zone'],
  'vantage_sync_health_changes(timestamptz) exists');
SELECT results_eq(
  $$SELECT p.provolatile::text COLLATE "default", p.prosecdef, p.proconfig::text[] COLLATE "default"
      FROM pg_proc p WHERE p.oid = 'public.vantage_sync_health_changes(timestamptz)'::regprocedure$$,
  $$VALUES ('s'::text, false, ARRAY['search_path=""']::text[])$$,
  'STABLE, SECURITY INVOKER, search_path fixed (Supabase lint 0011)');
SELECT ok(has_function_privilege('authenticated', 'public.vantage_sync_health_changes(timestamptz)', 'EXECUTE')
      AND has_function_privilege('service_role', 'public.vantage_sync_health_changes(timestamptz)', 'EXECUTE'),
  'authenticated and service_role may execute it (they may read the view)');
SELECT ok(NOT has_function_privilege('anon', 'public.vantage_sync_health_changes(timestamptz)', 'EXECUTE'),
  'anon may not');
SELECT is(
  (SELECT count(*)::int FROM pg_proc p, aclexplode(p.proacl) a
    WHERE p.oid = 'public.vantage_sync_health_changes(timestamptz)'::regprocedure AND a.grantee = 0),
  0, 'PUBLIC has no privilege on it');

-- the scene: the spec's seven never-run resources, one failing, one late -----------------------
UPDATE vantage_sync_state SET last_sync_status = 'failed', started_at = now() - interval '10 minutes',
       completed_at = now() - interval '9 minutes', consecutive_failures = 1
 WHERE resource = 'funds';
UPDATE vantage_sync_state SET last_sync_status = 'success', last_sync_time = now() - interval '3 hours',
       started_at = now() - interval '3 hours', completed_at = now() - interval '3 hours'
 WHERE resource = 'accounts';
INSERT INTO vantage_sync_schedules (resource, expected_interval) VALUES ('accounts', interval '1 hour');

CREATE TEMP TABLE answer AS SELECT public.vantage_sync_health_changes() AS a;

SELECT is((SELECT a->'rows' FROM answer), '[]'::jsonb, 'without p_since: no rows');
SELECT is((SELECT a->'counts' FROM answer),
  (SELECT jsonb_build_object('red', count(*) FILTER (WHERE health = 'red'),
                             'yellow', count(*) FILTER (WHERE health = 'yellow'),
                             'green', count(*) FILTER (WHERE health = 'green'),
                             'late', count(*) FILTER (WHERE 'late' = ANY (alerts)))
     FROM vantage_sync_health),
  'without p_since: the exact counts of the view');
SELECT is((SELECT a->'counts' FROM answer),
  '{"red": 1, "yellow": 6, "green": 0, "late": 1}'::jsonb,
  'the scene counts one red, six yellow (five never run, one late), one late');
SELECT is((SELECT (a->>'total')::int FROM answer), (SELECT count(*)::int FROM vantage_sync_state),
  'total: every resource');
SELECT is((SELECT (a->>'checksum')::bigint FROM answer),
  (SELECT (sum((extract(epoch FROM updated_at) * 1000000)::bigint) % 9007199254740992)::bigint
     FROM vantage_sync_state),
  'checksum: the sum of updated_at in microseconds, modulo 2^53');
SELECT is((SELECT (a->>'now')::timestamptz FROM answer), now(), 'now: the snapshot''s clock');

-- what changed ---------------------------------------------------------------------------------
CREATE TEMP TABLE mark AS SELECT clock_timestamp() AS t;
UPDATE vantage_sync_state SET records_synced = 150 WHERE resource = 'valuations';
SELECT is(
  (SELECT jsonb_agg(r->>'resource')
     FROM jsonb_array_elements(public.vantage_sync_health_changes((SELECT t FROM mark))->'rows') AS r),
  '["valuations"]'::jsonb,
  'with p_since: the rows updated at or after it, and only those');
SELECT set_eq(
  $$SELECT jsonb_object_keys(public.vantage_sync_health_changes((SELECT t FROM mark))->'rows'->0)$$,
  $$VALUES ('resource'), ('last_sync_status'), ('last_sync_time'), ('started_at'), ('completed_at'),
           ('created_at'), ('updated_at'), ('duration_ms'), ('records_synced'), ('errors'),
           ('consecutive_failures'), ('stale_after'), ('stuck_after'), ('slow_after'),
           ('expected_interval'), ('late_grace'), ('next_attempt'), ('retry_max_attempts'),
           ('next_attempt_at'), ('retries_exhausted'),
           ('last_heartbeat_at'), ('records_so_far'), ('counts_reported')$$,
  'each row has the card''s columns (app/src/api.rs CARD_COLUMNS, and since 20261208090000 the last heartbeat, records so far and counts_reported), no health: the widget computes it');
SELECT isnt((public.vantage_sync_health_changes()->>'checksum'), (SELECT a->>'checksum' FROM answer),
  'an update changes the checksum');

DELETE FROM vantage_sync_state WHERE resource = 'cashflows';
SELECT is((public.vantage_sync_health_changes()->>'total')::int, 6, 'a deletion changes the total');

UPDATE vantage_sync_schedules SET stale_after = interval '2 hours' WHERE resource = 'accounts';
SELECT isnt((public.vantage_sync_health_changes()->>'schedules'), (SELECT a->>'schedules' FROM answer),
  'a change of schedules changes their fingerprint');

SELECT * FROM finish();
ROLLBACK;
