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

  CONSTRAINT vantage_sync_schedules_pkey PRIMARY KEY (resource),
  CONSTRAINT vantage_sync_schedules_expected_interval_check
    CHECK (expected_interval IS NULL OR expected_interval > interval '0'),
  CONSTRAINT vantage_sync_schedules_stale_after_check CHECK (stale_after > interval '0'),
  CONSTRAINT vantage_sync_schedules_stuck_after_check CHECK (stuck_after > interval '0'),
  CONSTRAINT vantage_sync_schedules_slow_after_check CHECK (slow_after > interval '0'),
  -- A NULL or blank name could never be satisfied and would block the resource forever.
  CONSTRAINT vantage_sync_schedules_depends_on_names
    CHECK (array_position(depends_on, NULL) IS NULL AND array_position(depends_on, '') IS NULL),
  CONSTRAINT vantage_sync_schedules_no_self_dependency CHECK (NOT (resource = ANY (depends_on)))
);

ALTER TABLE public.vantage_sync_schedules ENABLE ROW LEVEL SECURITY;

COMMENT ON TABLE public.vantage_sync_schedules IS
  'Expected cadence, alert thresholds and dependencies per resource; defaults apply without a row.';
COMMENT ON COLUMN public.vantage_sync_schedules.expected_interval IS
  'How often a sync should start; NULL means unscheduled (no missed_schedule alert).';
COMMENT ON COLUMN public.vantage_sync_schedules.depends_on IS
  'Resources that must have succeeded since this resource last succeeded before it may start.';

CREATE TRIGGER vantage_sync_schedules_updated_at
  BEFORE UPDATE ON public.vantage_sync_schedules
  FOR EACH ROW EXECUTE FUNCTION public.vantage_sync_state_touch_updated_at();

-- A dependency cycle would block every resource in it forever: refuse it when it is written.
CREATE FUNCTION public.vantage_sync_schedules_reject_cycles()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
DECLARE
  v_path text[];
BEGIN
  -- Two transactions adding a -> b and b -> a at once would each miss the other's row: one at
  -- a time. Each statement after the lock sees what the previous holder committed.
  PERFORM pg_advisory_xact_lock(hashtext('public.vantage_sync_schedules dependencies'));
  WITH RECURSIVE reach(resource, path) AS (
    SELECT dep, ARRAY[NEW.resource, dep] FROM unnest(NEW.depends_on) AS dep
    UNION ALL
    SELECT dep, r.path || dep
      FROM reach r
      JOIN public.vantage_sync_schedules s ON s.resource = r.resource AND s.resource <> NEW.resource
      CROSS JOIN LATERAL unnest(s.depends_on) AS dep
     WHERE NOT (dep = ANY (r.path[2:]))
  )
  SELECT path INTO v_path FROM reach WHERE resource = NEW.resource LIMIT 1;

  IF v_path IS NOT NULL THEN
    RAISE EXCEPTION 'dependency cycle: %', array_to_string(v_path, ' -> ')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER vantage_sync_schedules_no_cycles
  BEFORE INSERT OR UPDATE OF resource, depends_on ON public.vantage_sync_schedules
  FOR EACH ROW EXECUTE FUNCTION public.vantage_sync_schedules_reject_cycles();

-- The spec's thresholds for a resource without a schedule row: the one place they live for
-- queries (the table's column defaults above say the same for new rows). IMMUTABLE plain SQL,
-- so the planner folds it into constants wherever it is used.
CREATE FUNCTION public.vantage_sync_default_schedule()
RETURNS TABLE (stale_after interval, stuck_after interval, slow_after interval)
LANGUAGE sql
IMMUTABLE
SECURITY INVOKER
AS $$
  SELECT interval '24 hours', interval '30 minutes', interval '5 minutes'
$$;

-- The thresholds that apply to one resource: its schedule's, or the defaults.
CREATE FUNCTION public.vantage_sync_effective_schedule(p_resource text)
RETURNS TABLE (
  expected_interval interval,
  stale_after       interval,
  stuck_after       interval,
  slow_after        interval,
  depends_on        text[]
)
LANGUAGE sql
STABLE
SECURITY INVOKER
AS $$
  SELECT s.expected_interval,
         coalesce(s.stale_after, d.stale_after),
         coalesce(s.stuck_after, d.stuck_after),
         coalesce(s.slow_after, d.slow_after),
         coalesce(s.depends_on, '{}')
    FROM public.vantage_sync_default_schedule() AS d
    LEFT JOIN public.vantage_sync_schedules AS s ON s.resource = p_resource
$$;

-- Privileges: readable by the signed-in app, written by the service role only.
REVOKE ALL ON TABLE public.vantage_sync_schedules FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON TABLE public.vantage_sync_schedules TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.vantage_sync_schedules TO service_role;

REVOKE ALL ON FUNCTION public.vantage_sync_schedules_reject_cycles()
  FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.vantage_sync_default_schedule() FROM PUBLIC, anon;
REVOKE ALL ON FUNCTION public.vantage_sync_effective_schedule(text) FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.vantage_sync_default_schedule() TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.vantage_sync_effective_schedule(text) TO authenticated, service_role;

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
