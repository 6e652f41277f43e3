-- The health view: everything a dashboard or an uptime monitor needs about each resource, with
-- the spec's health indicator and alerts computed in one place.
--
-- Why functions for the rules: the same rules are checked against one truth table
-- (tests/fixtures/health_cases.json) here and in the widget's Rust model. The functions take
-- `now` as an argument so the table can pin the clock; the view passes now(). They are plain SQL
-- without SET clauses, so the planner inlines them and the view costs what its CASEs cost.
--
-- Rules (the spec's dashboard query; CASE order matters, comparisons are strict):
--   red:    status failed; or running and started before now - stuck_after
--   yellow: last success before now - stale_after; or never run
--   green:  everything else
-- Alerts (the spec's alert conditions, with the resource's thresholds):
--   stuck, stale (also: never run and created before now - stale_after), repeated_failures
--   (3+ consecutive failures), slow (last duration over slow_after), missed_schedule (not
--   running, and the last start is more than expected_interval ago).

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

-- The name of a health rank.
CREATE FUNCTION public.vantage_sync_health_name(p_rank integer)
RETURNS text
LANGUAGE sql
IMMUTABLE
SECURITY INVOKER
AS $$
  SELECT (ARRAY['red', 'yellow', 'green'])[p_rank]
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

-- security_invoker: the view reads with the caller's rights and RLS, never the owner's.
-- A hash join on the schedules (not a per-row function call): 10,000 resources read in
-- milliseconds (cargo xtask bench db). Columns nobody selects are never computed.
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
         e.slow_after, e.expected_interval, now()) AS alerts,
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
       s.updated_at
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
   SELECT public.vantage_sync_health_rank_of(s.last_sync_status, s.last_sync_time, s.started_at,
            e.stale_after, e.stuck_after, now()) AS health_rank
 ) AS r;

COMMENT ON VIEW public.vantage_sync_health IS
  'Per resource: state, health (red/yellow/green), alerts, thresholds. Order by health_rank, resource (or sort_key): red, yellow, green, then name.';

REVOKE ALL ON TABLE public.vantage_sync_health FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON TABLE public.vantage_sync_health TO authenticated, service_role;

REVOKE ALL ON FUNCTION public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval,
  timestamptz) FROM PUBLIC, anon;
REVOKE ALL ON FUNCTION public.vantage_sync_health_name(integer) FROM PUBLIC, anon;
REVOKE ALL ON FUNCTION public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer,
  integer, interval, interval, interval, interval, timestamptz) FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval,
  timestamptz) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.vantage_sync_health_name(integer) TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer,
  integer, interval, interval, interval, interval, timestamptz) TO authenticated, service_role;
