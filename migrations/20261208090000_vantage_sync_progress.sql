-- Progress you can watch: heartbeats with the records so far, stuck judged by them, and a
-- completion that may report no counts (issue 25).
--
-- Why: a run that goes on for two hours looked stuck after 30 minutes however busy it was, and
-- the sweep failed it; a job that hung was only caught stuck_after from its start. A job (the
-- `vantage-sync` wrapper, through the edge's POST progress) now calls
-- progress_vantage_sync_run(resource, run_id, records_synced) every minute or so; the state row
-- and the run's history row keep the time of the last heartbeat and the records so far.
--
-- The stuck rule (everywhere stuck is decided: the rule functions behind the health view and its
-- alerts, sweep_stuck_vantage_syncs, the stuck take-over in start_vantage_sync):
--
--   running AND coalesce(last_heartbeat_at, started_at) < now - stuck_after   (strict)
--
-- A run that sends heartbeats is stuck only when its last one is older than stuck_after; a run
-- that never sends one keeps the spec's rule (started_at < now - stuck_after). The spec's own
-- stuck query stays as the spec writes it; docs/database.md says where the product departs.
-- A heartbeat of a run that is stuck but not yet swept makes it live again: it was a sign of life.
--
-- No counts: complete_vantage_sync keeps its signature; NULL for all three counts now means "not
-- reported" (before: refused with 22023). One or two of three stay refused (22023): a partial
-- report is a caller's mistake, not something to guess around. What is stored then:
--   vantage_sync_state  records_synced/created/updated = 0 (the spec's columns are NOT NULL) and
--                       counts_reported = false; every other completion sets it to true.
--   vantage_sync_runs   records_synced/created/updated = NULL (the history's columns become
--                       nullable; a reported count is never NULL).
-- The health view, the widget's changes and the webhook payload carry counts_reported, and the
-- payload's records_synced is null when none were reported: no zeros that look like a real sync.
--
-- The rule functions gain p_last_heartbeat_at as a last, defaulted parameter (a call without it
-- judges by started_at, as before); the earlier signatures are dropped so no call is ambiguous,
-- and the grants of 20261202100100 are given again. The view is restated with three columns
-- appended (last_heartbeat_at, records_so_far, counts_reported); its columns before them are as
-- 20261202100100 left them.

ALTER TABLE public.vantage_sync_state
  ADD COLUMN last_heartbeat_at timestamptz NULL,
  ADD COLUMN records_so_far bigint NULL,
  ADD COLUMN counts_reported boolean NOT NULL DEFAULT true,
  -- Named to sort after the spec's constraints (Postgres checks them in name order).
  ADD CONSTRAINT vantage_sync_state_records_so_far_check CHECK (records_so_far >= 0);

COMMENT ON COLUMN public.vantage_sync_state.last_heartbeat_at IS
  'When the current (or last) run last reported progress; NULL when it never did (cleared by start). A running run is stuck when coalesce(last_heartbeat_at, started_at) is older than stuck_after.';
COMMENT ON COLUMN public.vantage_sync_state.records_so_far IS
  'Records the current (or last) run said it had synced in its last heartbeat; NULL when none said (cleared by start).';
COMMENT ON COLUMN public.vantage_sync_state.counts_reported IS
  'false when the last successful run completed without record counts: records_synced, records_created and records_updated then hold 0 and mean nothing.';

ALTER TABLE public.vantage_sync_runs
  ADD COLUMN last_heartbeat_at timestamptz NULL,
  ADD COLUMN records_so_far bigint NULL,
  ADD CONSTRAINT vantage_sync_runs_records_so_far_check CHECK (records_so_far >= 0),
  ALTER COLUMN records_synced DROP NOT NULL,
  ALTER COLUMN records_created DROP NOT NULL,
  ALTER COLUMN records_updated DROP NOT NULL;

COMMENT ON COLUMN public.vantage_sync_runs.last_heartbeat_at IS
  'When this run last reported progress; NULL when it never did.';
COMMENT ON COLUMN public.vantage_sync_runs.records_so_far IS
  'Records this run said it had synced in its last heartbeat; NULL when none said.';
COMMENT ON COLUMN public.vantage_sync_runs.records_synced IS
  'Records the run synced as its completion reported them; NULL when it completed without counts (0 while running).';

-- The rules -----------------------------------------------------------------------------------

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
  p_late_grace        interval DEFAULT NULL,
  p_last_heartbeat_at timestamptz DEFAULT NULL
)
RETURNS integer
LANGUAGE sql
STABLE
SECURITY INVOKER
AS $$
  SELECT CASE
    WHEN p_status = 'failed' THEN 1
    WHEN p_status = 'running' AND coalesce(p_last_heartbeat_at, p_started_at) < p_now - p_stuck_after THEN 1
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
  p_late_grace           interval DEFAULT NULL,
  p_last_heartbeat_at    timestamptz DEFAULT NULL
)
RETURNS text[]
LANGUAGE sql
STABLE
SECURITY INVOKER
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

COMMENT ON FUNCTION public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval,
  timestamptz, timestamptz, interval, interval, timestamptz) IS
  'Health rank at p_now: 1 red (failed, stuck: running and its last heartbeat, or its start without one, older than stuck_after), 2 yellow (stale, never run, late), 3 green. Without the schedule arguments nothing is late.';
COMMENT ON FUNCTION public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer,
  integer, interval, interval, interval, interval, timestamptz, interval, timestamptz) IS
  'Alerts at p_now: stuck (by the last heartbeat, or the start without one), stale, repeated_failures, slow, missed_schedule, late (late only with p_late_grace).';

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

COMMENT ON VIEW public.vantage_sync_health IS
  'Per resource: state, health (red/yellow/green), alerts, thresholds, sync_watermark, the last heartbeat and records so far. Order by health_rank, resource (or sort_key): red, yellow, green, then name.';

-- One version of each rule remains (the new ones answer every earlier call, through their
-- defaults).
DROP FUNCTION public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval,
  timestamptz, timestamptz, interval, interval);
DROP FUNCTION public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer, integer,
  interval, interval, interval, interval, timestamptz, interval);

-- The grants the earlier versions had (20261124190300, 20261125020100, 20261202100100).
REVOKE ALL ON FUNCTION public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval,
  timestamptz, timestamptz, interval, interval, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer,
  integer, interval, interval, interval, interval, timestamptz, interval, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval,
  timestamptz, timestamptz, interval, interval, timestamptz) TO anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer,
  integer, interval, interval, interval, interval, timestamptz, interval, timestamptz)
  TO anon, authenticated, service_role;

-- The state functions -------------------------------------------------------------------------

-- As 20261124190200 made it, but a running run is judged stuck by its last heartbeat when it
-- sent one, and a new run starts with no heartbeat and no records so far.
CREATE OR REPLACE FUNCTION public.start_vantage_sync(p_resource text)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_now      timestamptz;
  v_state    public.vantage_sync_state;
  v_schedule record;
  v_dep      text;
  v_dep_time timestamptz;
  v_alive    timestamptz;
  v_run_id   uuid := gen_random_uuid();
BEGIN
  IF p_resource IS NULL OR btrim(p_resource) = '' THEN
    RAISE EXCEPTION 'resource must be a non-empty name' USING ERRCODE = 'invalid_parameter_value';
  END IF;

  -- Lock the row: every start of one resource waits here for the previous transition to commit.
  -- A new resource starts tracking on its first sync (the insert is only tried when the row is
  -- missing: a speculative insert on every start would cost a fifth of the throughput).
  SELECT * INTO v_state FROM public.vantage_sync_state WHERE resource = p_resource FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO public.vantage_sync_state (resource) VALUES (p_resource) ON CONFLICT (resource) DO NOTHING;
    SELECT * INTO v_state FROM public.vantage_sync_state WHERE resource = p_resource FOR UPDATE;
  END IF;
  SELECT * INTO v_schedule FROM public.vantage_sync_effective_schedule(p_resource);
  -- Read the clock after the lock: time spent waiting for another start is not this run's.
  v_now := clock_timestamp();
  -- The running run's last sign of life: its last heartbeat, or its start if it sent none.
  v_alive := coalesce(v_state.last_heartbeat_at, v_state.started_at);

  -- Strict comparison, as in the health rules: exactly at the threshold is not yet stuck.
  IF v_state.last_sync_status = 'running' AND v_alive >= v_now - v_schedule.stuck_after THEN
    RAISE EXCEPTION 'resource "%" already has a run in progress: run % started at %',
        p_resource, v_state.current_run_id, v_state.started_at
      USING ERRCODE = 'PT409',
            DETAIL = vantage_sync_private.run_detail(v_state),
            HINT = 'Wait for it to finish, or abort it if it is stuck.';
  END IF;

  -- Before superseding anything: a start that may not happen must change nothing.
  FOREACH v_dep IN ARRAY v_schedule.depends_on LOOP
    SELECT last_sync_time INTO v_dep_time FROM public.vantage_sync_state WHERE resource = v_dep;
    IF v_dep_time IS NULL OR v_dep_time <= coalesce(v_state.last_sync_time, '-infinity') THEN
      RAISE EXCEPTION 'resource "%" depends on "%", which has not synced successfully since "%" last did',
          p_resource, v_dep, p_resource
        USING ERRCODE = 'PT409',
              DETAIL = json_build_object('resource', p_resource, 'dependency', v_dep,
                                         'dependency_last_sync_time', v_dep_time,
                                         'last_sync_time', v_state.last_sync_time)::text,
              HINT = format('Sync "%s" first.', v_dep);
    END IF;
  END LOOP;

  IF v_state.last_sync_status = 'running' THEN
    PERFORM vantage_sync_private.fail_current_run(p_resource, jsonb_build_array(jsonb_build_object(
      'code', 'STUCK_SUPERSEDED',
      'message', CASE WHEN v_state.last_heartbeat_at IS NULL
        THEN format('run was still running after %s (stuck after %s) and was replaced by run %s',
                    date_trunc('second', v_now - v_state.started_at), v_schedule.stuck_after, v_run_id)
        ELSE format('run was last heard from %s ago, after running for %s (stuck after %s), and was replaced by run %s',
                    date_trunc('second', v_now - v_state.last_heartbeat_at),
                    date_trunc('second', v_state.last_heartbeat_at - v_state.started_at),
                    v_schedule.stuck_after, v_run_id)
      END,
      'superseded_by', v_run_id,
      'timestamp', v_now)), v_now);
  END IF;

  UPDATE public.vantage_sync_state
     SET last_sync_status  = 'running',
         started_at        = v_now,
         completed_at      = NULL,
         duration_ms       = NULL,
         current_run_id    = v_run_id,
         last_heartbeat_at = NULL,
         records_so_far    = NULL
   WHERE resource = p_resource;
  INSERT INTO public.vantage_sync_runs (run_id, resource, status, started_at)
  VALUES (v_run_id, p_resource, 'running', v_now);
  RETURN v_run_id;
END;
$$;

-- As 20261124190200 made it, but with no counts at all (three NULLs) the run completes without
-- them: 0 and counts_reported = false on the state row (its spec columns are NOT NULL), NULL in
-- the history. One or two of three are refused, like a negative count.
CREATE OR REPLACE FUNCTION public.complete_vantage_sync(
  p_resource        text,
  p_records_synced  integer,
  p_records_created integer,
  p_records_updated integer,
  p_run_id          uuid DEFAULT NULL
)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_state    public.vantage_sync_state;
  v_now      timestamptz;
  v_reported boolean := p_records_synced IS NOT NULL OR p_records_created IS NOT NULL
                        OR p_records_updated IS NOT NULL;
BEGIN
  IF v_reported AND (p_records_synced IS NULL OR p_records_created IS NULL OR p_records_updated IS NULL) THEN
    RAISE EXCEPTION 'give all three record counts (synced, created, updated) or none (got synced %, created %, updated %)',
        coalesce(p_records_synced::text, 'null'), coalesce(p_records_created::text, 'null'),
        coalesce(p_records_updated::text, 'null')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_records_synced < 0 OR p_records_created < 0 OR p_records_updated < 0 THEN
    RAISE EXCEPTION 'record counts must be whole numbers >= 0 (got synced %, created %, updated %)',
        p_records_synced, p_records_created, p_records_updated
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  v_state := vantage_sync_private.lock_running(p_resource, p_run_id, 'complete');
  v_now := clock_timestamp();

  UPDATE public.vantage_sync_state
     SET last_sync_status     = 'success',
         last_sync_time       = v_now,
         records_synced       = coalesce(p_records_synced, 0),
         records_created      = coalesce(p_records_created, 0),
         records_updated      = coalesce(p_records_updated, 0),
         counts_reported      = v_reported,
         errors               = '[]'::jsonb,
         completed_at         = v_now,
         consecutive_failures = 0
   WHERE resource = p_resource;
  UPDATE public.vantage_sync_runs
     SET status = 'success', completed_at = v_now, records_synced = p_records_synced,
         records_created = p_records_created, records_updated = p_records_updated
   WHERE run_id = v_state.current_run_id AND started_at = v_state.started_at;
END;
$$;

-- A heartbeat of the resource's current running run: its time (the database's clock) and, when
-- given, the records synced so far, on the state row and the run's history row. Returns the
-- time stored. A run that is not the current running one gets the 409 (PT409, DETAIL the
-- current run as JSON) that complete and fail give; an unknown resource PT404.
CREATE FUNCTION public.progress_vantage_sync_run(
  p_resource       text,
  p_run_id         uuid,
  p_records_synced bigint DEFAULT NULL
)
RETURNS timestamptz
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_state public.vantage_sync_state;
  v_now   timestamptz;
BEGIN
  IF p_run_id IS NULL THEN
    RAISE EXCEPTION 'run_id is required: progress is reported for the run that start returned'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_records_synced < 0 THEN
    RAISE EXCEPTION 'records synced so far must be a whole number >= 0 (got %)', p_records_synced
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  v_state := vantage_sync_private.lock_running(p_resource, p_run_id, 'report progress of');
  v_now := clock_timestamp();

  UPDATE public.vantage_sync_state
     SET last_heartbeat_at = v_now,
         records_so_far    = coalesce(p_records_synced, records_so_far)
   WHERE resource = p_resource;
  UPDATE public.vantage_sync_runs
     SET last_heartbeat_at = v_now,
         records_so_far    = coalesce(p_records_synced, records_so_far)
   WHERE run_id = v_state.current_run_id AND started_at = v_state.started_at;
  RETURN v_now;
END;
$$;

-- As 20261124190200 made it, but stuck by the last heartbeat when the run sent one; stuck_for is
-- the time since the run's last sign of life (its start when it sent no heartbeat).
CREATE OR REPLACE FUNCTION public.sweep_stuck_vantage_syncs()
RETURNS TABLE (resource text, run_id uuid, started_at timestamptz, stuck_for interval)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_row record;
  v_now timestamptz := clock_timestamp();
BEGIN
  FOR v_row IN
    SELECT s.resource, s.current_run_id, s.started_at, s.last_heartbeat_at,
           coalesce(s.last_heartbeat_at, s.started_at) AS alive_at,
           coalesce(sc.stuck_after, d.stuck_after) AS stuck_after
      FROM public.vantage_sync_state AS s
      LEFT JOIN public.vantage_sync_schedules AS sc ON sc.resource = s.resource
     CROSS JOIN public.vantage_sync_default_schedule() AS d
     WHERE s.last_sync_status = 'running'
       AND coalesce(s.last_heartbeat_at, s.started_at) < v_now - coalesce(sc.stuck_after, d.stuck_after)
     ORDER BY s.resource
       FOR UPDATE OF s SKIP LOCKED
  LOOP
    PERFORM vantage_sync_private.fail_current_run(v_row.resource, jsonb_build_array(jsonb_build_object(
      'code', 'STUCK_TIMEOUT',
      'message', CASE WHEN v_row.last_heartbeat_at IS NULL
        THEN format('run %s was still running after %s (stuck after %s); the sweep marked it failed',
                    v_row.current_run_id, date_trunc('second', v_now - v_row.started_at), v_row.stuck_after)
        ELSE format('run %s was last heard from %s ago (stuck after %s); the sweep marked it failed',
                    v_row.current_run_id, date_trunc('second', v_now - v_row.last_heartbeat_at),
                    v_row.stuck_after)
      END,
      'timestamp', v_now)), v_now);
    resource := v_row.resource;
    run_id := v_row.current_run_id;
    started_at := v_row.started_at;
    stuck_for := v_now - v_row.alive_at;
    RETURN NEXT;
  END LOOP;
END;
$$;

COMMENT ON FUNCTION public.start_vantage_sync(text) IS
  'Starts a run of p_resource and returns its run id; 409 (PT409) while another run is in progress and not stuck (by its last heartbeat, or its start without one).';
COMMENT ON FUNCTION public.complete_vantage_sync(text, integer, integer, integer, uuid) IS
  'Completes the running sync of p_resource (and p_run_id, when given); advances the watermark. Three NULL counts: completed without counts (state row 0 and counts_reported false, history NULL).';
COMMENT ON FUNCTION public.progress_vantage_sync_run(text, uuid, bigint) IS
  'A heartbeat of the current running run p_run_id of p_resource: stores the time (returned) and, when given, the records synced so far; 409 (PT409) for a run that is not the current running one.';
COMMENT ON FUNCTION public.sweep_stuck_vantage_syncs() IS
  'Fails every run stuck past its threshold (by its last heartbeat, or its start without one; error code STUCK_TIMEOUT); returns what it swept.';

-- Privileges: the service role (behind the edge function) alone may report progress. CREATE OR
-- REPLACE keeps the other functions' grants.
REVOKE ALL ON FUNCTION public.progress_vantage_sync_run(text, uuid, bigint) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.progress_vantage_sync_run(text, uuid, bigint) TO service_role;

-- What readers get ---------------------------------------------------------------------------

-- As 20261202150000 made it, plus counts_reported; records_synced is null when the completion
-- reported no counts.
CREATE OR REPLACE FUNCTION vantage_sync_private.webhook_payload(p_event text, p_resource text, p_run_id uuid)
RETURNS jsonb
LANGUAGE sql
SET search_path = ''
AS $$
  SELECT jsonb_build_object(
           'event', p_event,
           'resource', h.resource,
           'run_id', p_run_id,
           'health', h.health,
           'status', h.last_sync_status,
           'alerts', to_jsonb(h.alerts),
           'errors', h.errors,
           'consecutive_failures', h.consecutive_failures,
           'last_sync_time', h.last_sync_time,
           'started_at', h.started_at,
           'completed_at', h.completed_at,
           'duration_ms', h.duration_ms,
           'records_synced', CASE WHEN h.counts_reported THEN h.records_synced END,
           'counts_reported', h.counts_reported,
           'sync_watermark', h.sync_watermark,
           'slow_after', h.slow_after,
           'next_sync_due_at', h.next_sync_due_at,
           'late_grace', h.late_grace,
           'occurred_at', clock_timestamp())
    FROM public.vantage_sync_health AS h
   WHERE h.resource = p_resource
$$;

REVOKE ALL ON FUNCTION vantage_sync_private.webhook_payload(text, text, uuid)
  FROM PUBLIC, anon, authenticated, service_role;

-- As 20261207190000 made it, with the card columns last_heartbeat_at, records_so_far and
-- counts_reported appended to the rows.
CREATE OR REPLACE FUNCTION public.vantage_sync_health_changes(p_since timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = ''
AS $$
  SELECT jsonb_build_object(
    'now', now(),
    'total', (SELECT count(*) FROM public.vantage_sync_state),
    'checksum', (SELECT (coalesce(sum((extract(epoch FROM s.updated_at) * 1000000)::bigint), 0)
                         % 9007199254740992)::bigint
                   FROM public.vantage_sync_state AS s),
    'schedules', (SELECT md5(coalesce(string_agg(sc::text, '|' ORDER BY sc.resource), '')
                             || (SELECT d::text FROM public.vantage_sync_default_schedule() AS d))
                    FROM public.vantage_sync_schedules AS sc),
    'counts', CASE WHEN p_since IS NULL THEN
                (SELECT jsonb_build_object(
                          'red', count(*) FILTER (WHERE h.health = 'red'),
                          'yellow', count(*) FILTER (WHERE h.health = 'yellow'),
                          'green', count(*) FILTER (WHERE h.health = 'green'),
                          'late', count(*) FILTER (WHERE 'late' = ANY (h.alerts)))
                   FROM public.vantage_sync_health AS h)
              END,
    'rows', CASE WHEN p_since IS NULL THEN '[]'::jsonb ELSE
              (SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.resource), '[]'::jsonb)
                 FROM (SELECT h.resource, h.last_sync_status, h.last_sync_time, h.started_at,
                              h.completed_at, h.created_at, h.updated_at, h.duration_ms,
                              h.records_synced, h.errors, h.consecutive_failures,
                              h.stale_after, h.stuck_after, h.slow_after, h.expected_interval,
                              h.late_grace, h.next_attempt, h.retry_max_attempts,
                              h.next_attempt_at, h.retries_exhausted,
                              h.last_heartbeat_at, h.records_so_far, h.counts_reported
                         FROM public.vantage_sync_health AS h
                        WHERE h.updated_at >= p_since) AS r)
            END
  )
$$;
