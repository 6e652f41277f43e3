-- The view ------------------------------------------------------------------------------------
--
-- The health rules are written out here, not called: the rule functions (20_vantage_sync_*_of,
-- 20_vantage_sync_health_name) set search_path = '' (Supabase's lint 0011), and a function with
-- a SET clause is never inlined, so calling them would cost a function call per rule per row
-- (6x the view's time at 10,000 rows). The functions stay, for callers outside the view; the
-- truth table (tests/tests/health_truth_table.rs) checks the view and the functions against
-- the same cases, so the two copies cannot drift apart unnoticed.

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

REVOKE ALL ON TABLE public.vantage_sync_health FROM PUBLIC, anon, authenticated, service_role;

GRANT SELECT ON TABLE public.vantage_sync_health TO authenticated, service_role;

COMMENT ON VIEW public.vantage_sync_health IS
  'Per resource: state, health (red/yellow/green), alerts, thresholds, sync_watermark, the last heartbeat and records so far. Order by health_rank, resource (or sort_key): red, yellow, green, then name.';

