-- Sync schedules: per resource, how often it should sync, when it counts as stale, stuck or
-- slow, and which resources must have synced before it may start (spec, future work 2 and 3).
--
-- Why a table and not constants: resources differ. A daily valuation feed is not stale after 24
-- hours the way an hourly cashflow feed is; a bulk backfill is not stuck after 30 minutes. A
-- resource without a row here gets the spec's defaults (vantage_sync_default_schedule).

CREATE TABLE public.vantage_sync_schedules (
  resource          text        NOT NULL,
  expected_interval interval    NULL,
  stale_after       interval    NOT NULL DEFAULT interval '24 hours',
  stuck_after       interval    NOT NULL DEFAULT interval '30 minutes',
  slow_after        interval    NOT NULL DEFAULT interval '5 minutes',
  depends_on        text[]      NOT NULL DEFAULT '{}',
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  retry_max_attempts       integer     NULL,
  retry_initial_backoff    interval    NULL,
  retry_backoff_multiplier numeric     NULL,
  retry_max_backoff        interval    NULL,
  late_grace        interval    NOT NULL DEFAULT interval '1 hour',

  CONSTRAINT vantage_sync_schedules_pkey PRIMARY KEY (resource),
  CONSTRAINT vantage_sync_schedules_expected_interval_check
    CHECK (expected_interval IS NULL OR expected_interval > interval '0'),
  CONSTRAINT vantage_sync_schedules_stale_after_check CHECK (stale_after > interval '0'),
  CONSTRAINT vantage_sync_schedules_stuck_after_check CHECK (stuck_after > interval '0'),
  CONSTRAINT vantage_sync_schedules_slow_after_check CHECK (slow_after > interval '0'),
  -- A NULL or blank name could never be satisfied and would block the resource forever.
  CONSTRAINT vantage_sync_schedules_depends_on_names
    CHECK (array_position(depends_on, NULL) IS NULL AND array_position(depends_on, '') IS NULL),
  CONSTRAINT vantage_sync_schedules_no_self_dependency CHECK (NOT (resource = ANY (depends_on))),
  CONSTRAINT vantage_sync_schedules_retry_max_attempts_check
    CHECK (retry_max_attempts BETWEEN 1 AND 100),
  CONSTRAINT vantage_sync_schedules_retry_initial_backoff_check
    CHECK (retry_initial_backoff > interval '0' AND retry_initial_backoff <= interval '1 day'),
  CONSTRAINT vantage_sync_schedules_retry_backoff_multiplier_check
    CHECK (retry_backoff_multiplier BETWEEN 1 AND 10),
  CONSTRAINT vantage_sync_schedules_retry_max_backoff_check
    CHECK (retry_max_backoff >= coalesce(retry_initial_backoff, interval '1 minute')
    AND retry_max_backoff <= interval '7 days'),
  -- The trigger on late_grace refuses first, with a sentence; the CHECK holds when triggers
  -- are off.
  CONSTRAINT vantage_sync_schedules_late_grace_check CHECK (late_grace > interval '0')
);

ALTER TABLE public.vantage_sync_schedules ENABLE ROW LEVEL SECURITY;

COMMENT ON TABLE public.vantage_sync_schedules IS
  'Expected cadence, alert thresholds and dependencies per resource; defaults apply without a row.';

COMMENT ON COLUMN public.vantage_sync_schedules.expected_interval IS
  'How often a sync should start; NULL means unscheduled (no missed_schedule alert).';

COMMENT ON COLUMN public.vantage_sync_schedules.depends_on IS
  'Resources that must have succeeded since this resource last succeeded before it may start.';

-- Privileges: readable by the signed-in app, written by the service role only.
REVOKE ALL ON TABLE public.vantage_sync_schedules FROM PUBLIC, anon, authenticated, service_role;

GRANT SELECT ON TABLE public.vantage_sync_schedules TO authenticated;

GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.vantage_sync_schedules TO service_role;

CREATE POLICY vantage_sync_schedules_select_all ON public.vantage_sync_schedules
  FOR SELECT TO authenticated, service_role
  USING (true);

CREATE POLICY vantage_sync_schedules_insert_service ON public.vantage_sync_schedules
  FOR INSERT TO service_role
  WITH CHECK (true);

CREATE POLICY vantage_sync_schedules_update_service ON public.vantage_sync_schedules
  FOR UPDATE TO service_role
  USING (true)
  WITH CHECK (true);

CREATE POLICY vantage_sync_schedules_delete_service ON public.vantage_sync_schedules
  FOR DELETE TO service_role
  USING (true);

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

COMMENT ON COLUMN public.vantage_sync_schedules.retry_max_attempts IS
  'Attempts before the retry policy gives up (NULL: no policy, nothing waits). Backoff defaults: 1 minute, x2, at most 1 hour.';

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

COMMENT ON COLUMN public.vantage_sync_schedules.late_grace IS
  'How long past its due time (last start + expected_interval) a scheduled resource may be before it is late (yellow). Default 1 hour.';
