-- Retry metadata (the spec's future work, item 4): a retry policy per resource in its schedule,
-- the attempt number of every run, and the time the next attempt is due.
--
-- A policy is opt-in per resource: with retry_max_attempts NULL (the default) nothing waits and
-- nothing is refused, exactly as before, so every ETL-001 call and every earlier behaviour holds.
-- With a policy, a failure sets next_attempt_at = failure time + min(cap, initial x multiplier^(n-1))
-- for the n-th failure in a row, until n reaches retry_max_attempts: then next_attempt_at stays
-- NULL and the health view says the policy gave up (alert retries_exhausted; the resource is
-- failing, so red already). A start before next_attempt_at is refused with PT409 (HTTP 409)
-- saying when; a success or a start clears it. Every failure counts (an ETL job's fail, an
-- admin's abort, the stuck sweep), except a run failed as STUCK_SUPERSEDED: the start that
-- supersedes it is its retry. An operator who must start early sets next_attempt_at to NULL as
-- service_role (or the table's owner).
--
-- Each run records its attempt: 1 after a success (or for a first run), n + 1 after n failures
-- in a row.

ALTER TABLE public.vantage_sync_schedules
  ADD COLUMN retry_max_attempts       integer,
  ADD COLUMN retry_initial_backoff    interval,
  ADD COLUMN retry_backoff_multiplier numeric,
  ADD COLUMN retry_max_backoff        interval,
  ADD CONSTRAINT vantage_sync_schedules_retry_max_attempts_check
    CHECK (retry_max_attempts BETWEEN 1 AND 100),
  ADD CONSTRAINT vantage_sync_schedules_retry_initial_backoff_check
    CHECK (retry_initial_backoff > interval '0' AND retry_initial_backoff <= interval '1 day'),
  ADD CONSTRAINT vantage_sync_schedules_retry_backoff_multiplier_check
    CHECK (retry_backoff_multiplier BETWEEN 1 AND 10),
  ADD CONSTRAINT vantage_sync_schedules_retry_max_backoff_check
    CHECK (retry_max_backoff >= coalesce(retry_initial_backoff, interval '1 minute')
           AND retry_max_backoff <= interval '7 days');

COMMENT ON COLUMN public.vantage_sync_schedules.retry_max_attempts IS
  'Attempts before the retry policy gives up (NULL: no policy, nothing waits). Backoff defaults: 1 minute, x2, at most 1 hour.';

ALTER TABLE public.vantage_sync_state ADD COLUMN next_attempt_at timestamptz;
COMMENT ON COLUMN public.vantage_sync_state.next_attempt_at IS
  'With a retry policy: when the next attempt may start after a failure (NULL: now, or the policy gave up).';

ALTER TABLE public.vantage_sync_runs
  ADD COLUMN attempt integer NOT NULL DEFAULT 1,
  ADD CONSTRAINT vantage_sync_runs_attempt_check CHECK (attempt >= 1);
COMMENT ON COLUMN public.vantage_sync_runs.attempt IS
  'Attempt number within the current failure streak: 1 after a success, n + 1 after n failures in a row.';

-- The effective policy of a resource: one row; max_attempts NULL when it has none.
CREATE FUNCTION public.vantage_sync_retry_policy(p_resource text)
RETURNS TABLE (max_attempts integer, initial_backoff interval, backoff_multiplier numeric,
               max_backoff interval)
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = ''
AS $$
  SELECT sc.retry_max_attempts,
         coalesce(sc.retry_initial_backoff, interval '1 minute'),
         coalesce(sc.retry_backoff_multiplier, 2),
         coalesce(sc.retry_max_backoff, greatest(interval '1 hour', coalesce(sc.retry_initial_backoff, interval '1 minute')))
    FROM (SELECT 1) AS one
    LEFT JOIN public.vantage_sync_schedules AS sc ON sc.resource = p_resource
$$;

COMMENT ON FUNCTION public.vantage_sync_retry_policy(text) IS
  'The retry policy of a resource with its defaults filled in (max_attempts NULL: no policy).';

-- The wait before attempt n + 1 after the n-th failure in a row.
CREATE FUNCTION vantage_sync_private.retry_backoff(p_failures integer, p_initial interval,
                                                   p_multiplier numeric, p_cap interval)
RETURNS interval
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
  SELECT least(p_cap, p_initial * power(p_multiplier, greatest(p_failures - 1, 0))::double precision)
$$;

-- Keeps next_attempt_at, and refuses a start that comes too early. A BEFORE trigger on the
-- state row, so every writer path (the edge, the spec's SQL, the sweep) goes through it.
CREATE FUNCTION vantage_sync_private.apply_retry_policy()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_policy record;
  v_now    timestamptz := clock_timestamp();
BEGIN
  IF NEW.last_sync_status = 'running' AND OLD.last_sync_status IS DISTINCT FROM 'running' THEN
    IF OLD.next_attempt_at > v_now THEN
      SELECT * INTO v_policy FROM public.vantage_sync_retry_policy(NEW.resource);
      RAISE EXCEPTION 'resource "%" may not start before % (attempt % of % failed; the retry policy waits)',
          NEW.resource, OLD.next_attempt_at, OLD.consecutive_failures, v_policy.max_attempts
        USING ERRCODE = 'PT409',
              DETAIL = json_build_object('resource', NEW.resource, 'status', OLD.last_sync_status,
                                         'next_attempt_at', OLD.next_attempt_at,
                                         'attempt', OLD.consecutive_failures + 1,
                                         'max_attempts', v_policy.max_attempts)::text,
              HINT = 'Wait until next_attempt_at, or clear it as service_role to start now.';
    END IF;
    NEW.next_attempt_at := NULL;
  ELSIF NEW.last_sync_status = 'failed' AND OLD.last_sync_status = 'running' THEN
    SELECT * INTO v_policy FROM public.vantage_sync_retry_policy(NEW.resource);
    IF v_policy.max_attempts IS NOT NULL
       AND NEW.consecutive_failures < v_policy.max_attempts
       AND NEW.errors -> 0 ->> 'code' IS DISTINCT FROM 'STUCK_SUPERSEDED' THEN
      NEW.next_attempt_at := v_now + vantage_sync_private.retry_backoff(NEW.consecutive_failures,
        v_policy.initial_backoff, v_policy.backoff_multiplier, v_policy.max_backoff);
    ELSE
      NEW.next_attempt_at := NULL;
    END IF;
  ELSIF NEW.last_sync_status = 'success' THEN
    NEW.next_attempt_at := NULL;
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER vantage_sync_state_retry_policy
  BEFORE UPDATE OF last_sync_status ON public.vantage_sync_state
  FOR EACH ROW EXECUTE FUNCTION vantage_sync_private.apply_retry_policy();

-- Each new run's attempt number, from the failures in a row before it.
CREATE FUNCTION vantage_sync_private.number_attempt()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  NEW.attempt := coalesce((SELECT s.consecutive_failures FROM public.vantage_sync_state AS s
                            WHERE s.resource = NEW.resource), 0) + 1;
  RETURN NEW;
END;
$$;

CREATE TRIGGER vantage_sync_runs_attempt
  BEFORE INSERT ON public.vantage_sync_runs
  FOR EACH ROW EXECUTE FUNCTION vantage_sync_private.number_attempt();

-- fail_vantage_sync, answering what the policy does next: the edge's fail in one call.
CREATE FUNCTION public.fail_vantage_sync_run(
  p_resource          text,
  p_errors            jsonb,
  p_run_id            uuid DEFAULT NULL,
  OUT run_id          uuid,
  OUT attempt         integer,
  OUT max_attempts    integer,
  OUT will_retry      boolean,
  OUT next_attempt_at timestamptz
)
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
  PERFORM public.fail_vantage_sync(p_resource, p_errors, p_run_id);
  SELECT s.current_run_id, s.consecutive_failures, p.max_attempts,
         s.next_attempt_at IS NOT NULL, s.next_attempt_at
    INTO run_id, attempt, max_attempts, will_retry, next_attempt_at
    FROM public.vantage_sync_state AS s
   CROSS JOIN public.vantage_sync_retry_policy(p_resource) AS p
   WHERE s.resource = p_resource;
END;
$$;

COMMENT ON FUNCTION public.fail_vantage_sync_run(text, jsonb, uuid) IS
  'fail_vantage_sync, returning the failed run, its attempt number and whether and when the retry policy allows the next.';

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
            THEN format('gave up after %s attempts', s.consecutive_failures)
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

REVOKE ALL ON FUNCTION vantage_sync_private.retry_backoff(integer, interval, numeric, interval),
  vantage_sync_private.apply_retry_policy(), vantage_sync_private.number_attempt()
  FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.vantage_sync_retry_policy(text) FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.vantage_sync_retry_policy(text) TO authenticated, service_role;
REVOKE ALL ON FUNCTION public.fail_vantage_sync_run(text, jsonb, uuid) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.fail_vantage_sync_run(text, jsonb, uuid) TO service_role;
