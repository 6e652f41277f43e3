-- Resources `bench_view_FIRST_RESOURCE` to `bench_view_LAST_RESOURCE` in a realistic mix of
-- states (xtask/src/bench/resources.rs fills in the two numbers): of every ten, seven succeeded,
-- one failed, one is running and one never ran, synced 0 to 39 hours ago (so some are stale
-- and the running ones stuck), and one in ten has a schedule (so some are late). For
-- `cargo xtask bench db` (1 to 10,000) and the widget's table at scale. Written as superuser
-- (set-based inserts), not through the state functions: this measures reading, not writing.
-- Each row last changed when its last run did (two minutes before that), so a refresh measured
-- right after the load finds nothing changed within the widget's one-minute overlap, as on a
-- project whose rows were not all written a moment ago.
INSERT INTO public.vantage_sync_state (resource, last_sync_status, last_sync_time, records_synced,
  records_created, records_updated, errors, started_at, completed_at, consecutive_failures, current_run_id,
  updated_at)
SELECT 'bench_view_' || g,
       st.status,
       CASE WHEN st.status <> 'never_run' THEN now() - (g % 40) * interval '1 hour' END,
       g % 5000, g % 50, g % 4950,
       CASE WHEN st.status = 'failed'
            THEN '[{"code":"API_TIMEOUT","message":"Vantage API request timed out after 30s"}]'::jsonb
            ELSE '[]'::jsonb END,
       CASE WHEN st.status <> 'never_run' THEN now() - (g % 40) * interval '1 hour' - interval '3 minutes' END,
       CASE WHEN st.status IN ('success', 'failed') THEN now() - (g % 40) * interval '1 hour' END,
       CASE WHEN st.status = 'failed' THEN g % 5 ELSE 0 END,
       CASE WHEN st.status <> 'never_run' THEN gen_random_uuid() END,
       now() - (g % 40) * interval '1 hour' - interval '2 minutes'
  FROM generate_series(FIRST_RESOURCE, LAST_RESOURCE) AS g
 CROSS JOIN LATERAL (SELECT (ARRAY['success', 'success', 'success', 'success', 'success', 'success',
                                   'failed', 'running', 'never_run', 'success'])[1 + g % 10] AS status) AS st;

INSERT INTO public.vantage_sync_schedules (resource, expected_interval, stale_after)
SELECT 'bench_view_' || g, interval '6 hours', interval '48 hours'
  FROM generate_series(FIRST_RESOURCE, LAST_RESOURCE) AS g
 WHERE g % 10 = 0;

ANALYZE public.vantage_sync_state, public.vantage_sync_schedules;
