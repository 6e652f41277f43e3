-- The rules -----------------------------------------------------------------------------------

-- 1 = red, 2 = yellow, 3 = green.
CREATE FUNCTION public.vantage_sync_health_rank_of(
  p_status            text,
  p_last_sync_time    timestamptz,
  p_started_at        timestamptz,
  p_stale_after       interval,
  p_stuck_after       interval,
  p_now               timestamptz,
  p_created_at        timestamptz DEFAULT NULL,
  p_expected_interval interval DEFAULT NULL,
  p_late_grace        interval DEFAULT NULL,
  p_last_heartbeat_at timestamptz DEFAULT NULL
)
RETURNS integer
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = ''
AS $$
  SELECT CASE
    WHEN p_status = 'failed' THEN 1
    WHEN p_status = 'running' AND coalesce(p_last_heartbeat_at, p_started_at) < p_now - p_stuck_after THEN 1
    WHEN p_last_sync_time < p_now - p_stale_after THEN 2
    WHEN p_status = 'never_run' THEN 2
    WHEN p_status <> 'running'
         AND coalesce(p_started_at, p_created_at) < p_now - p_expected_interval - p_late_grace THEN 2
    ELSE 3
  END
$$;

COMMENT ON FUNCTION public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval,
  timestamptz, timestamptz, interval, interval, timestamptz) IS
  'Health rank at p_now: 1 red (failed, stuck: running and its last heartbeat, or its start without one, older than stuck_after), 2 yellow (stale, never run, late), 3 green. Without the schedule arguments nothing is late.';

-- The grants the earlier versions had (20261124190300, 20261125020100, 20261202100100).
REVOKE ALL ON FUNCTION public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval,
  timestamptz, timestamptz, interval, interval, timestamptz) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval,
  timestamptz, timestamptz, interval, interval, timestamptz) TO anon, authenticated, service_role;

