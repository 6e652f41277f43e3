-- Rolls back 20261208100000_vantage_sync_search_path.sql: the functions without search_path,
-- the view calling the rule functions again, metrics as a function only.

DROP INDEX vantage_sync_private.pagerduty_incidents_webhook_id_idx;

-- The function first: it reads the metrics view, which goes next.
CREATE OR REPLACE FUNCTION public.vantage_sync_metrics()
RETURNS TABLE (
  resource                  text,
  health                    text,
  health_value              integer,
  last_success_age_seconds  double precision,
  last_duration_seconds     double precision,
  consecutive_failures      integer,
  running_seconds           double precision,
  watermark_seconds         double precision
)
LANGUAGE sql
STABLE
SECURITY INVOKER
AS $$
  SELECT h.resource,
         h.health,
         3 - h.health_rank,
         date_part('epoch', now() - h.last_sync_time),
         h.duration_ms / 1000.0::double precision,
         h.consecutive_failures,
         CASE WHEN h.last_sync_status = 'running'
              THEN greatest(date_part('epoch', now() - h.started_at), 0) ELSE 0 END,
         date_part('epoch', h.sync_watermark)
    FROM public.vantage_sync_health AS h
$$;
ALTER FUNCTION public.vantage_sync_metrics() RESET search_path;

DROP VIEW public.vantage_sync_metrics_by_resource;

CREATE OR REPLACE VIEW public.vantage_sync_health WITH (security_invoker = true) AS
SELECT s.resource,
       s.last_sync_status,
       public.vantage_sync_health_name(r.health_rank) AS health,
       r.health_rank,
       -- Collation "C": byte order is the natural order of resource names (lower-case ASCII)
       -- and sorts several times faster than a locale's.
       (r.health_rank::text || ':' || s.resource) COLLATE "C" AS sort_key,
       public.vantage_sync_alerts_of(s.last_sync_status, s.last_sync_time, s.started_at,
         s.created_at, s.duration_ms, s.consecutive_failures, e.stale_after, e.stuck_after,
         e.slow_after, e.expected_interval, now(), sc.late_grace, s.last_heartbeat_at)
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
       END AS retry_status,
       -- Appended by 20261202100100: the point the next run syncs from, and the schedule's
       -- grace before an overdue resource is late (NULL without a schedule row).
       s.sync_watermark,
       sc.late_grace,
       -- Appended by 20261208090000: the current (or last) run's last heartbeat and records so
       -- far, and whether the last success reported its counts.
       s.last_heartbeat_at,
       s.records_so_far,
       s.counts_reported
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
            e.stale_after, e.stuck_after, now(), s.created_at, e.expected_interval, sc.late_grace,
            s.last_heartbeat_at)
            AS health_rank
 ) AS r;

ALTER FUNCTION public.vantage_sync_default_schedule() RESET search_path;
ALTER FUNCTION public.vantage_sync_effective_schedule(text) RESET search_path;
ALTER FUNCTION public.vantage_sync_health_name(integer) RESET search_path;
ALTER FUNCTION public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval,
  timestamptz, timestamptz, interval, interval, timestamptz) RESET search_path;
ALTER FUNCTION public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer,
  integer, interval, interval, interval, interval, timestamptz, interval, timestamptz)
  RESET search_path;
