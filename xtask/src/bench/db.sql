-- Data for `cargo xtask bench db`: 10,000 resources in a realistic mix of states, schedules for
-- one in ten, and 1,000,000 history rows over the last six months. Written as superuser
-- (set-based inserts), not through the state functions: this measures reading, not writing.
INSERT INTO public.vantage_sync_state (resource, last_sync_status, last_sync_time, records_synced,
  records_created, records_updated, errors, started_at, completed_at, consecutive_failures, current_run_id)
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
       CASE WHEN st.status <> 'never_run' THEN gen_random_uuid() END
  FROM generate_series(1, 10000) AS g
 CROSS JOIN LATERAL (SELECT (ARRAY['success', 'success', 'success', 'success', 'success', 'success',
                                   'failed', 'running', 'never_run', 'success'])[1 + g % 10] AS status) AS st;

INSERT INTO public.vantage_sync_schedules (resource, expected_interval, stale_after)
SELECT 'bench_view_' || g, interval '6 hours', interval '48 hours'
  FROM generate_series(10, 10000, 10) AS g;

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
