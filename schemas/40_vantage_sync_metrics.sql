-- Per-resource numbers for Prometheus: vantage_sync_metrics() answers one row per resource of
-- the health view, each number computed with the database's clock in the same statement (the
-- edge's GET metrics serves them in the OpenMetrics text format, docs/metrics.md).
--
-- Why a function and not the view's columns: the view carries timestamps (last_sync_time,
-- sync_watermark) and hours_since_sync as a fraction of hours; Prometheus wants seconds. Turning
-- them into seconds here keeps the one clock (now() of this statement) and keeps date parsing out
-- of the edge.
--
-- Columns (NULL where there is nothing to say; the edge then leaves the sample out):
--   health_value                0 green, 1 yellow, 2 red (higher is worse, for alert rules)
--   last_success_age_seconds    since the last successful completion (last_sync_time)
--   last_duration_seconds       the last finished run's duration (duration_ms / 1000)
--   running_seconds             how long the current run has been running; 0 when none runs
--   watermark_seconds           sync_watermark as Unix seconds
--
-- Plain SQL, STABLE, SECURITY INVOKER and without a SET clause, so the planner inlines it: a page
-- (?order=resource&limit=…&offset=…) is planned as a query on the view, and RLS and the view's
-- privileges apply as the caller's. EXECUTE for service_role only (the edge); authenticated users
-- read the view itself.

CREATE FUNCTION public.vantage_sync_metrics()
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

COMMENT ON FUNCTION public.vantage_sync_metrics() IS
  'Per resource, for Prometheus (the edge''s GET metrics): health 0/1/2, seconds since the last success, last duration, consecutive failures, running seconds, sync_watermark as Unix seconds.';

REVOKE ALL ON FUNCTION public.vantage_sync_metrics() FROM PUBLIC, anon, authenticated;

GRANT EXECUTE ON FUNCTION public.vantage_sync_metrics() TO service_role;

