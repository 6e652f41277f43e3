-- Every function sets its search_path (Supabase's Security Advisor, lint 0011
-- function_search_path_mutable), without losing what inlining bought the health view.
--
-- Why: six plain-SQL functions set no search_path so that Postgres could inline them into the
-- health view (vantage_sync_alerts_of, vantage_sync_default_schedule,
-- vantage_sync_effective_schedule, vantage_sync_health_name, vantage_sync_health_rank_of,
-- vantage_sync_metrics). The Advisors page showed each as a warning, and a reviewer stops there.
-- A function with a SET clause is never inlined: setting search_path on the rule functions and
-- leaving the view calling them made the view about 6x slower at 10,000 rows (a function call
-- per rule per row; docs/performance.md has the bench's figures).
--
-- So:
-- * every one of the six sets search_path = '' (their bodies already name every object by
--   schema);
-- * the view writes the rules out instead of calling them. The rule functions stay, for callers
--   outside the view, and the truth table checks the view and the functions against the same
--   cases. The view reads vantage_sync_default_schedule() in scalar subqueries, which run once
--   per query, so its SET clause costs nothing there;
-- * the per-resource metrics become a view, vantage_sync_metrics_by_resource, which the edge
--   reads page by page (a page planned on the health view, as before); vantage_sync_metrics()
--   answers the same rows for SQL callers, no longer inlined.
--
-- Also (lint 0001, unindexed foreign keys): an index on pagerduty_incidents.webhook_id, which a
-- subscription's delete cascades by.

ALTER FUNCTION public.vantage_sync_default_schedule() SET search_path = '';
ALTER FUNCTION public.vantage_sync_effective_schedule(text) SET search_path = '';
ALTER FUNCTION public.vantage_sync_health_name(integer) SET search_path = '';
ALTER FUNCTION public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval,
  timestamptz, timestamptz, interval, interval, timestamptz) SET search_path = '';
ALTER FUNCTION public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer,
  integer, interval, interval, interval, interval, timestamptz, interval, timestamptz)
  SET search_path = '';

-- The view, as 20261208090000 left it, with the rules written out (same columns, same order).
CREATE OR REPLACE VIEW public.vantage_sync_health WITH (security_invoker = true) AS
SELECT s.resource,
       s.last_sync_status,
       (ARRAY['red', 'yellow', 'green'])[r.health_rank] AS health,
       r.health_rank,
       -- Collation "C": byte order is the natural order of resource names (lower-case ASCII)
       -- and sorts several times faster than a locale's.
       (r.health_rank::text || ':' || s.resource) COLLATE "C" AS sort_key,
       array_remove(ARRAY[
         CASE WHEN s.last_sync_status = 'running'
               AND coalesce(s.last_heartbeat_at, s.started_at) < now() - e.stuck_after
              THEN 'stuck' END,
         CASE WHEN s.last_sync_time < now() - e.stale_after
                OR (s.last_sync_status = 'never_run' AND s.created_at < now() - e.stale_after)
              THEN 'stale' END,
         CASE WHEN s.consecutive_failures >= 3 THEN 'repeated_failures' END,
         CASE WHEN s.duration_ms * interval '1 millisecond' > e.slow_after THEN 'slow' END,
         CASE WHEN e.expected_interval IS NOT NULL AND s.last_sync_status <> 'running'
               AND coalesce(s.started_at, s.created_at) < now() - e.expected_interval
              THEN 'missed_schedule' END,
         CASE WHEN s.last_sync_status <> 'running'
               AND coalesce(s.started_at, s.created_at)
                   < now() - e.expected_interval - sc.late_grace
              THEN 'late' END
       ], NULL)
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
 CROSS JOIN (
   -- Scalar subqueries run once per query (init plans). vantage_sync_default_schedule() sets
   -- its search_path, so it is not inlined: as a function scan in the join it would be
   -- rescanned for every row (about a quarter of the view's time at 10,000 rows).
   SELECT (SELECT x.stale_after FROM public.vantage_sync_default_schedule() AS x) AS stale_after,
          (SELECT x.stuck_after FROM public.vantage_sync_default_schedule() AS x) AS stuck_after,
          (SELECT x.slow_after FROM public.vantage_sync_default_schedule() AS x) AS slow_after
 ) AS d
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
   SELECT CASE
            WHEN s.last_sync_status = 'failed' THEN 1
            WHEN s.last_sync_status = 'running'
             AND coalesce(s.last_heartbeat_at, s.started_at) < now() - e.stuck_after THEN 1
            WHEN s.last_sync_time < now() - e.stale_after THEN 2
            WHEN s.last_sync_status = 'never_run' THEN 2
            WHEN s.last_sync_status <> 'running'
             AND coalesce(s.started_at, s.created_at)
                 < now() - e.expected_interval - sc.late_grace THEN 2
            ELSE 3
          END AS health_rank
 ) AS r;

-- The numbers are a view, vantage_sync_metrics_by_resource, which the edge reads page by page
-- (?order=resource&limit=…&offset=…): a page is planned as a query on the health view, and RLS
-- and the views' privileges apply as the caller's. SELECT for service_role only (the edge);
-- authenticated users read the health view itself. vantage_sync_metrics() answers the same rows
-- for SQL callers; it sets search_path (Supabase's lint 0011), so it is not inlined, and a page
-- read through it would compute every row first: the edge does not page through it.

CREATE VIEW public.vantage_sync_metrics_by_resource WITH (security_invoker = true) AS
SELECT h.resource,
       h.health,
       3 - h.health_rank AS health_value,
       date_part('epoch', now() - h.last_sync_time) AS last_success_age_seconds,
       h.duration_ms / 1000.0::double precision AS last_duration_seconds,
       h.consecutive_failures,
       CASE WHEN h.last_sync_status = 'running'
            THEN greatest(date_part('epoch', now() - h.started_at), 0) ELSE 0 END
         AS running_seconds,
       date_part('epoch', h.sync_watermark) AS watermark_seconds
  FROM public.vantage_sync_health AS h;

COMMENT ON VIEW public.vantage_sync_metrics_by_resource IS
  'Per resource, for Prometheus (the edge''s GET metrics): health 0/1/2, seconds since the last success, last duration, consecutive failures, running seconds, sync_watermark as Unix seconds.';

REVOKE ALL ON TABLE public.vantage_sync_metrics_by_resource FROM PUBLIC, anon, authenticated, service_role;

GRANT SELECT ON TABLE public.vantage_sync_metrics_by_resource TO service_role;

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
SET search_path = ''
AS $$
  SELECT * FROM public.vantage_sync_metrics_by_resource
$$;

CREATE INDEX pagerduty_incidents_webhook_id_idx
  ON vantage_sync_private.pagerduty_incidents (webhook_id);
