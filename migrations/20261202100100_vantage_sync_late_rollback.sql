-- Rollback of 20261202100100_vantage_sync_late.sql: the health view as 20261125070000 left it
-- (dropped and created again: columns cannot be removed in place) with its comment, grants and
-- 20261125020000's read-only trigger; the rule functions with their earlier signatures, bodies
-- and grants (20261124190300, 20261125020100); then late_grace and its refusal.
DROP VIEW IF EXISTS public.vantage_sync_health;
-- Dropped before the earlier versions come back: with both, a call with the earlier arguments
-- would be ambiguous.
DROP FUNCTION IF EXISTS public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval,
  timestamptz, timestamptz, interval, interval);
DROP FUNCTION IF EXISTS public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer,
  integer, interval, interval, interval, interval, timestamptz, interval);

-- 1 = red, 2 = yellow, 3 = green: the health and the sort order in one integer.
CREATE FUNCTION public.vantage_sync_health_rank_of(
  p_status         text,
  p_last_sync_time timestamptz,
  p_started_at     timestamptz,
  p_stale_after    interval,
  p_stuck_after    interval,
  p_now            timestamptz
)
RETURNS integer
LANGUAGE sql
STABLE
SECURITY INVOKER
AS $$
  SELECT CASE
    WHEN p_status = 'failed' THEN 1
    WHEN p_status = 'running' AND p_started_at < p_now - p_stuck_after THEN 1
    WHEN p_last_sync_time < p_now - p_stale_after THEN 2
    WHEN p_status = 'never_run' THEN 2
    ELSE 3
  END
$$;

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
  p_now                  timestamptz
)
RETURNS text[]
LANGUAGE sql
STABLE
SECURITY INVOKER
AS $$
  SELECT array_remove(ARRAY[
    CASE WHEN p_status = 'running' AND p_started_at < p_now - p_stuck_after THEN 'stuck' END,
    CASE WHEN p_last_sync_time < p_now - p_stale_after
           OR (p_status = 'never_run' AND p_created_at < p_now - p_stale_after) THEN 'stale' END,
    CASE WHEN p_consecutive_failures >= 3 THEN 'repeated_failures' END,
    CASE WHEN p_duration_ms * interval '1 millisecond' > p_slow_after THEN 'slow' END,
    CASE WHEN p_expected_interval IS NOT NULL AND p_status <> 'running'
          AND coalesce(p_started_at, p_created_at) < p_now - p_expected_interval
         THEN 'missed_schedule' END
  ], NULL)
$$;

REVOKE ALL ON FUNCTION public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval,
  timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer,
  integer, interval, interval, interval, interval, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval,
  timestamptz) TO anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer,
  integer, interval, interval, interval, interval, timestamptz) TO anon, authenticated, service_role;

CREATE VIEW public.vantage_sync_health WITH (security_invoker = true) AS
SELECT s.resource,
       s.last_sync_status,
       public.vantage_sync_health_name(r.health_rank) AS health,
       r.health_rank,
       -- Collation "C": byte order is the natural order of resource names (lower-case ASCII)
       -- and sorts several times faster than a locale's.
       (r.health_rank::text || ':' || s.resource) COLLATE "C" AS sort_key,
       public.vantage_sync_alerts_of(s.last_sync_status, s.last_sync_time, s.started_at,
         s.created_at, s.duration_ms, s.consecutive_failures, e.stale_after, e.stuck_after,
         e.slow_after, e.expected_interval, now())
         || CASE WHEN x.retries_exhausted THEN ARRAY['retries_exhausted'] ELSE '{}'::text[] END AS alerts,
       s.last_sync_time,
       -- date_part (double precision), not extract (numeric): numeric is slow at 10,000 rows.
       date_part('epoch', now() - s.last_sync_time) / 3600 AS hours_since_sync,
       s.started_at,
       s.completed_at,
       CASE WHEN s.last_sync_status = 'running'
            THEN floor(date_part('epoch', now() - s.started_at))::integer END AS running_seconds,
       s.duration_ms,
       s.records_synced,
       s.records_created,
       s.records_updated,
       jsonb_array_length(s.errors) AS error_count,
       s.errors,
       s.consecutive_failures,
       s.current_run_id,
       e.expected_interval,
       e.stale_after,
       e.stuck_after,
       e.slow_after,
       e.depends_on,
       coalesce(s.started_at, s.created_at) + e.expected_interval AS next_sync_due_at,
       s.created_at,
       s.updated_at,
       -- Retry policy (20261125050000), appended: the attempt the next start will be, the
       -- policy's limit, when it may start, whether the policy gave up, and all that in words.
       s.consecutive_failures + 1 AS next_attempt,
       sc.retry_max_attempts,
       s.next_attempt_at,
       x.retries_exhausted,
       -- The same in words, for SQL users and monitors (time of day in the session's zone).
       CASE WHEN x.retries_exhausted
            THEN format('gave up after %s attempt%s', s.consecutive_failures,
                        CASE WHEN s.consecutive_failures = 1 THEN '' ELSE 's' END)
            WHEN s.next_attempt_at IS NOT NULL AND s.last_sync_status = 'failed'
            THEN format('retry %s of %s at %s', s.consecutive_failures + 1, sc.retry_max_attempts,
                        to_char(s.next_attempt_at, 'HH24:MI TZ'))
       END AS retry_status
  FROM public.vantage_sync_state AS s
  LEFT JOIN public.vantage_sync_schedules AS sc ON sc.resource = s.resource
 CROSS JOIN public.vantage_sync_default_schedule() AS d
 CROSS JOIN LATERAL (
   SELECT sc.expected_interval,
          coalesce(sc.stale_after, d.stale_after) AS stale_after,
          coalesce(sc.stuck_after, d.stuck_after) AS stuck_after,
          coalesce(sc.slow_after, d.slow_after) AS slow_after,
          coalesce(sc.depends_on, '{}') AS depends_on
 ) AS e
 CROSS JOIN LATERAL (
   SELECT coalesce(s.last_sync_status = 'failed' AND s.consecutive_failures >= sc.retry_max_attempts, false)
            AS retries_exhausted
 ) AS x
 CROSS JOIN LATERAL (
   SELECT public.vantage_sync_health_rank_of(s.last_sync_status, s.last_sync_time, s.started_at,
            e.stale_after, e.stuck_after, now()) AS health_rank
 ) AS r;

COMMENT ON VIEW public.vantage_sync_health IS
  'Per resource: state, health (red/yellow/green), alerts, thresholds. Order by health_rank, resource (or sort_key): red, yellow, green, then name.';
REVOKE ALL ON TABLE public.vantage_sync_health FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON TABLE public.vantage_sync_health TO authenticated, service_role;
CREATE TRIGGER vantage_sync_health_read_only
  INSTEAD OF INSERT OR UPDATE OR DELETE ON public.vantage_sync_health
  FOR EACH ROW EXECUTE FUNCTION public.vantage_sync_health_refuse_write();

DROP TRIGGER IF EXISTS vantage_sync_schedules_late_grace ON public.vantage_sync_schedules;
DROP FUNCTION IF EXISTS vantage_sync_private.refuse_bad_late_grace();
ALTER TABLE public.vantage_sync_schedules DROP COLUMN IF EXISTS late_grace;
