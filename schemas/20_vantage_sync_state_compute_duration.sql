-- The duration is derived, never reported: a caller cannot send a duration that disagrees with
-- the timestamps. Rows without both timestamps keep what they were given, so the CHECK on
-- duration_ms still guards direct writes. Capped at the integer range: a run that was stuck for
-- weeks must still be able to finish.
CREATE FUNCTION public.vantage_sync_state_compute_duration()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
  IF NEW.started_at IS NOT NULL AND NEW.completed_at IS NOT NULL
     AND NEW.completed_at >= NEW.started_at THEN
    NEW.duration_ms := least(
      round(extract(epoch FROM NEW.completed_at - NEW.started_at) * 1000),
      2147483647
    )::integer;
  END IF;
  RETURN NEW;
END;
$$;

REVOKE ALL ON FUNCTION public.vantage_sync_state_compute_duration()
  FROM PUBLIC, anon, authenticated, service_role;

CREATE TRIGGER vantage_sync_state_duration
  BEFORE INSERT OR UPDATE OF started_at, completed_at ON public.vantage_sync_state
  FOR EACH ROW EXECUTE FUNCTION public.vantage_sync_state_compute_duration();

-- The same trigger as the state table: durations are derived from timestamps, never reported.
CREATE TRIGGER vantage_sync_runs_duration
  BEFORE INSERT OR UPDATE OF started_at, completed_at ON public.vantage_sync_runs
  FOR EACH ROW EXECUTE FUNCTION public.vantage_sync_state_compute_duration();

