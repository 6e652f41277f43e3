-- Late is a state: a scheduled resource whose next run is overdue by more than its grace period
-- is yellow (the widget shows it as "Late"), with the alert `late`.
--
-- Why: until now a job that silently stopped kept a green card. missed_schedule (not running,
-- last start more than expected_interval ago) was an alert on that green card, and the card
-- turned yellow only once the last success was older than stale_after (24 h by default),
-- whatever the schedule. The model is Healthchecks: a check has a period and a grace time, and
-- is late once the period plus the grace have passed without a ping.
--
-- The rule (strict, like the others): a resource with a schedule (expected_interval set) that is
-- not running and whose last start (its creation, if it never started) is more than
-- expected_interval + late_grace ago is late. late_grace is per schedule, default 1 hour (the
-- column default below; Healthchecks' default grace too), and must be positive: anything else
-- is refused with a sentence (22023, which PostgREST answers with 400) and nothing changes.
--
-- Precedence (CASE order): red beats yellow, so failed and stuck stay red when late as well (the
-- alert says both). Among the yellow reasons, late, stale and never run all give yellow; the
-- widget names the card after the cause in this order: late (the job did not run when it
-- should have), then stale (the data is old), then never run. A running resource is never late:
-- it did start, and stuck covers a run that does not end.
--
-- missed_schedule keeps its meaning (overdue at all, no grace): between the due time and the end
-- of the grace a resource is green with missed_schedule; after it, yellow with missed_schedule
-- and late.
--
-- The rule functions get the inputs the rule needs as parameters after p_now, with defaults
-- (NULL: no schedule, nothing is late), so every earlier call of them still works and means what
-- it meant; the view passes them. They stay plain SQL without SET clauses, so the planner
-- inlines them (20261125020100 explains why anon may execute them).
--
-- The view is restated with sync_watermark (20261202100000) and late_grace appended; its
-- columns before them are as 20261125070000 left them.

ALTER TABLE public.vantage_sync_schedules
  ADD COLUMN late_grace interval NOT NULL DEFAULT interval '1 hour',
  -- The trigger below refuses first, with a sentence; the CHECK holds when triggers are off.
  ADD CONSTRAINT vantage_sync_schedules_late_grace_check CHECK (late_grace > interval '0');

COMMENT ON COLUMN public.vantage_sync_schedules.late_grace IS
  'How long past its due time (last start + expected_interval) a scheduled resource may be before it is late (yellow). Default 1 hour.';

CREATE FUNCTION vantage_sync_private.refuse_bad_late_grace()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
  RAISE EXCEPTION 'late_grace of "%" must be a positive interval such as ''1 hour'' or ''15 minutes'', not %',
      NEW.resource, coalesce(NEW.late_grace::text, 'null')
    USING ERRCODE = 'invalid_parameter_value',
          HINT = 'Leave late_grace out to get the default of 1 hour.';
END;
$$;

CREATE TRIGGER vantage_sync_schedules_late_grace
  BEFORE INSERT OR UPDATE OF late_grace ON public.vantage_sync_schedules
  FOR EACH ROW
  WHEN (NEW.late_grace IS NULL OR NEW.late_grace <= interval '0')
  EXECUTE FUNCTION vantage_sync_private.refuse_bad_late_grace();

REVOKE ALL ON FUNCTION vantage_sync_private.refuse_bad_late_grace()
  FROM PUBLIC, anon, authenticated, service_role;

-- The rules ---------------------------------------------------------------------------------

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
  p_late_grace        interval DEFAULT NULL
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
    WHEN p_status <> 'running'
         AND coalesce(p_started_at, p_created_at) < p_now - p_expected_interval - p_late_grace THEN 2
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
  p_now                  timestamptz,
  p_late_grace           interval DEFAULT NULL
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
         THEN 'missed_schedule' END,
    CASE WHEN p_status <> 'running'
          AND coalesce(p_started_at, p_created_at) < p_now - p_expected_interval - p_late_grace
         THEN 'late' END
  ], NULL)
$$;

COMMENT ON FUNCTION public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval,
  timestamptz, timestamptz, interval, interval) IS
  'Health rank at p_now: 1 red (failed, stuck), 2 yellow (stale, never run, late), 3 green. Without the schedule arguments nothing is late.';
COMMENT ON FUNCTION public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer,
  integer, interval, interval, interval, interval, timestamptz, interval) IS
  'Alerts at p_now: stuck, stale, repeated_failures, slow, missed_schedule, late (late only with p_late_grace).';

-- The view ------------------------------------------------------------------------------------

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
         e.slow_after, e.expected_interval, now(), sc.late_grace)
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
       sc.late_grace
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
            e.stale_after, e.stuck_after, now(), s.created_at, e.expected_interval, sc.late_grace)
            AS health_rank
 ) AS r;

COMMENT ON VIEW public.vantage_sync_health IS
  'Per resource: state, health (red/yellow/green), alerts, thresholds, sync_watermark. Order by health_rank, resource (or sort_key): red, yellow, green, then name.';

-- The view no longer uses the rules' earlier signatures: one version of each rule remains (the
-- new ones answer every earlier call, through their defaults).
DROP FUNCTION public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval, timestamptz);
DROP FUNCTION public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer, integer,
  interval, interval, interval, interval, timestamptz);

-- The grants the earlier versions had (20261124190300, 20261125020100).
REVOKE ALL ON FUNCTION public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval,
  timestamptz, timestamptz, interval, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer,
  integer, interval, interval, interval, interval, timestamptz, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval,
  timestamptz, timestamptz, interval, interval) TO anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer,
  integer, interval, interval, interval, interval, timestamptz, interval) TO anon, authenticated, service_role;
