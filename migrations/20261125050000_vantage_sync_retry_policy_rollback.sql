-- Rollback of 20261125050000_vantage_sync_retry_policy.sql: the health view as 20261124190300
-- made it (dropped and created again: columns cannot be removed in place), with its grants and
-- the read-only trigger of 20261125020000; then the policy's functions, triggers and columns.
DROP VIEW IF EXISTS public.vantage_sync_health;
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
CREATE TRIGGER vantage_sync_health_read_only
  INSTEAD OF INSERT OR UPDATE OR DELETE ON public.vantage_sync_health
  FOR EACH ROW EXECUTE FUNCTION public.vantage_sync_health_refuse_write();

DROP FUNCTION IF EXISTS public.fail_vantage_sync_run(text, jsonb, uuid);
DROP TRIGGER IF EXISTS vantage_sync_runs_attempt ON public.vantage_sync_runs;
DROP FUNCTION IF EXISTS vantage_sync_private.number_attempt();
DROP TRIGGER IF EXISTS vantage_sync_state_retry_policy ON public.vantage_sync_state;
DROP FUNCTION IF EXISTS vantage_sync_private.apply_retry_policy();
DROP FUNCTION IF EXISTS vantage_sync_private.retry_backoff(integer, interval, numeric, interval);
DROP FUNCTION IF EXISTS public.vantage_sync_retry_policy(text);
ALTER TABLE public.vantage_sync_runs DROP COLUMN IF EXISTS attempt;
ALTER TABLE public.vantage_sync_state DROP COLUMN IF EXISTS next_attempt_at;
ALTER TABLE public.vantage_sync_schedules
  DROP COLUMN IF EXISTS retry_max_attempts,
  DROP COLUMN IF EXISTS retry_initial_backoff,
  DROP COLUMN IF EXISTS retry_backoff_multiplier,
  DROP COLUMN IF EXISTS retry_max_backoff;
