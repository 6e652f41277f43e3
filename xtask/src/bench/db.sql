-- History for `cargo xtask bench db`, after its 10,000 resources (resources.sql): 1,000,000 runs
-- over the last six months. Written as superuser (set-based inserts), not through the state
-- functions: this measures reading, not writing.
INSERT INTO public.vantage_sync_runs (run_id, resource, status, started_at, completed_at,
  records_synced, records_created, records_updated, errors)
SELECT gen_random_uuid(), 'bench_view_' || (1 + g % 10000),
       CASE WHEN g % 9 = 0 THEN 'failed' ELSE 'success' END,
       now() - (g % 4320) * interval '1 hour' - interval '3 minutes',
       now() - (g % 4320) * interval '1 hour',
       g % 5000, g % 50, g % 4950,
       CASE WHEN g % 9 = 0 THEN '[{"code":"API_TIMEOUT","message":"timed out"}]'::jsonb ELSE '[]'::jsonb END
  FROM generate_series(1, 1000000) AS g;

ANALYZE;
