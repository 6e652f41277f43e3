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

REVOKE ALL ON FUNCTION vantage_sync_private.number_attempt() FROM PUBLIC, anon, authenticated, service_role;

CREATE TRIGGER vantage_sync_runs_attempt
  BEFORE INSERT ON public.vantage_sync_runs
  FOR EACH ROW EXECUTE FUNCTION vantage_sync_private.number_attempt();

