-- Triggers -------------------------------------------------------------------------------------

-- clock_timestamp(), not now(): two writes inside one transaction must still be ordered in time.
CREATE FUNCTION public.vantage_sync_state_touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
  NEW.updated_at := clock_timestamp();
  RETURN NEW;
END;
$$;

-- Trigger functions are never called directly; nobody needs EXECUTE on them.
REVOKE ALL ON FUNCTION public.vantage_sync_state_touch_updated_at()
  FROM PUBLIC, anon, authenticated, service_role;

CREATE TRIGGER vantage_sync_state_updated_at
  BEFORE UPDATE ON public.vantage_sync_state
  FOR EACH ROW EXECUTE FUNCTION public.vantage_sync_state_touch_updated_at();

CREATE TRIGGER vantage_sync_schedules_updated_at
  BEFORE UPDATE ON public.vantage_sync_schedules
  FOR EACH ROW EXECUTE FUNCTION public.vantage_sync_state_touch_updated_at();

