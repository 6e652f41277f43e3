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
SET search_path = ''
AS $$
  SELECT * FROM public.vantage_sync_metrics_by_resource
$$;

COMMENT ON FUNCTION public.vantage_sync_metrics() IS
  'Per resource, for Prometheus (the edge''s GET metrics): health 0/1/2, seconds since the last success, last duration, consecutive failures, running seconds, sync_watermark as Unix seconds.';

REVOKE ALL ON FUNCTION public.vantage_sync_metrics() FROM PUBLIC, anon, authenticated;

GRANT EXECUTE ON FUNCTION public.vantage_sync_metrics() TO service_role;

