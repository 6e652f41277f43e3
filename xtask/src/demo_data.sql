-- Demo data: one resource in every state the dashboard knows, each with a history of runs.
-- Every run goes through the state functions; only the clock is then moved back (as superuser,
-- state row and history row together), so a second of loading looks like a day of syncing.

-- Runs one sync of p_resource that started p_ago ago and took p_took; p_outcome is 'success',
-- 'failed' or 'running' (left running).
CREATE FUNCTION pg_temp.demo_run(p_resource text, p_ago interval, p_took interval, p_outcome text,
                                 p_records integer DEFAULT 120, p_errors jsonb DEFAULT NULL)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_run uuid := public.start_vantage_sync(p_resource);
  v_started timestamptz := now() - p_ago;
  v_completed timestamptz := CASE WHEN p_outcome <> 'running' THEN now() - p_ago + p_took END;
BEGIN
  IF p_outcome = 'success' THEN
    PERFORM public.complete_vantage_sync(p_resource, p_records, p_records / 10, p_records - p_records / 10, v_run);
  ELSIF p_outcome = 'failed' THEN
    PERFORM public.fail_vantage_sync(p_resource, coalesce(p_errors,
      '[{"code": "API_TIMEOUT", "message": "Vantage API request timed out after 30s"}]'), v_run);
  END IF;
  UPDATE public.vantage_sync_runs
     SET started_at = v_started, completed_at = v_completed
   WHERE run_id = v_run;
  UPDATE public.vantage_sync_state
     SET started_at = v_started,
         completed_at = v_completed,
         last_sync_time = CASE WHEN p_outcome = 'success' THEN v_completed ELSE last_sync_time END
   WHERE resource = p_resource;
END;
$$;

-- accounts: healthy. Hourly for a day; the last sync 2 hours ago, 150 records in 3.2 s.
SELECT pg_temp.demo_run('accounts', make_interval(hours => h), make_interval(secs => 2.5 + (h % 4) * 0.4), 'success', 100 + h * 3)
  FROM generate_series(24, 3, -1) AS h;
SELECT pg_temp.demo_run('accounts', interval '2 hours 3.2 seconds', interval '3.2 seconds', 'success', 150);

-- funds: failing three times in a row, the last 5 minutes ago with two errors.
SELECT pg_temp.demo_run('funds', make_interval(hours => h), interval '41 seconds', 'success', 42)
  FROM generate_series(12, 4, -2) AS h;
SELECT pg_temp.demo_run('funds', interval '3 hours', interval '30 seconds', 'failed');
SELECT pg_temp.demo_run('funds', interval '1 hour', interval '30 seconds', 'failed');
SELECT pg_temp.demo_run('funds', interval '5 minutes 31 seconds', interval '31 seconds', 'failed', 0, '[
  {"code": "API_TIMEOUT", "message": "Vantage API request timed out after 30s", "timestamp": "2025-11-05T10:30:00Z"},
  {"code": "PARSE_ERROR", "message": "Invalid JSON in record ID 12345", "record_id": "12345"}
]');

-- cashflows: scheduled hourly; running for 4 minutes now.
INSERT INTO public.vantage_sync_schedules (resource, expected_interval) VALUES ('cashflows', interval '1 hour');
SELECT pg_temp.demo_run('cashflows', make_interval(hours => h, mins => 4), make_interval(secs => 10 + h), 'success', 1200 + h * 7)
  FROM generate_series(8, 1, -1) AS h;
SELECT pg_temp.demo_run('cashflows', interval '4 minutes', NULL, 'running');

-- commitments: stuck. Running for 2 hours; its threshold is 3 minutes, so the run the demo's
-- simulated ETL job leaves unfinished every 10 minutes turns stuck while you watch.
INSERT INTO public.vantage_sync_schedules (resource, stuck_after) VALUES ('commitments', interval '3 minutes');
SELECT pg_temp.demo_run('commitments', make_interval(hours => h), interval '20 seconds', 'success', 310)
  FROM generate_series(9, 3, -2) AS h;
SELECT pg_temp.demo_run('commitments', interval '2 hours', NULL, 'running');

-- investors: stale. The last sync succeeded 30 hours ago (allowed: 24 hours).
SELECT pg_temp.demo_run('investors', make_interval(hours => h), interval '2 seconds', 'success', 77)
  FROM generate_series(54, 30, -12) AS h;

-- investments: never run (left as the first migration seeded it).

-- valuations: healthy but slow. 48,210 records in 7 minutes, 10 minutes ago; slower each day.
SELECT pg_temp.demo_run('valuations', make_interval(days => d, mins => 10), make_interval(mins => 7 - d), 'success', 48000 - d * 500)
  FROM generate_series(5, 1, -1) AS d;
SELECT pg_temp.demo_run('valuations', interval '17 minutes', interval '7 minutes', 'success', 48210);
