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

REVOKE ALL ON FUNCTION public.vantage_sync_schedules_reject_cycles()
  FROM PUBLIC, anon, authenticated, service_role;

CREATE TRIGGER vantage_sync_schedules_no_cycles
  BEFORE INSERT OR UPDATE OF resource, depends_on ON public.vantage_sync_schedules
  FOR EACH ROW EXECUTE FUNCTION public.vantage_sync_schedules_reject_cycles();

