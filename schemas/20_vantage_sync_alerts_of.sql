CREATE FUNCTION public.vantage_sync_alerts_of(
  p_status               text,
  p_last_sync_time       timestamptz,
  p_started_at           timestamptz,
  p_created_at           timestamptz,
  p_duration_ms          integer,
  p_consecutive_failures integer,
  p_stale_after          interval,
  p_stuck_after          interval,
  p_slow_after           interval,
  p_expected_interval    interval,
  p_now                  timestamptz,
  p_late_grace           interval DEFAULT NULL,
  p_last_heartbeat_at    timestamptz DEFAULT NULL
)
RETURNS text[]
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = ''
AS $$
  SELECT array_remove(ARRAY[
    CASE WHEN p_status = 'running'
          AND coalesce(p_last_heartbeat_at, p_started_at) < p_now - p_stuck_after THEN 'stuck' END,
    CASE WHEN p_last_sync_time < p_now - p_stale_after
           OR (p_status = 'never_run' AND p_created_at < p_now - p_stale_after) THEN 'stale' END,
    CASE WHEN p_consecutive_failures >= 3 THEN 'repeated_failures' END,
    CASE WHEN p_duration_ms * interval '1 millisecond' > p_slow_after THEN 'slow' END,
    CASE WHEN p_expected_interval IS NOT NULL AND p_status <> 'running'
          AND coalesce(p_started_at, p_created_at) < p_now - p_expected_interval
         THEN 'missed_schedule' END,
    CASE WHEN p_status <> 'running'
          AND coalesce(p_started_at, p_created_at) < p_now - p_expected_interval - p_late_grace
         THEN 'late' END
  ], NULL)
$$;

COMMENT ON FUNCTION public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer,
  integer, interval, interval, interval, interval, timestamptz, interval, timestamptz) IS
  'Alerts at p_now: stuck (by the last heartbeat, or the start without one), stale, repeated_failures, slow, missed_schedule, late (late only with p_late_grace).';

REVOKE ALL ON FUNCTION public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer,
  integer, interval, interval, interval, interval, timestamptz, interval, timestamptz) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer,
  integer, interval, interval, interval, interval, timestamptz, interval, timestamptz)
  TO anon, authenticated, service_role;

