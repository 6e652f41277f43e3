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

REVOKE ALL ON FUNCTION vantage_sync_private.refuse_bad_late_grace()
  FROM PUBLIC, anon, authenticated, service_role;

CREATE TRIGGER vantage_sync_schedules_late_grace
  BEFORE INSERT OR UPDATE OF late_grace ON public.vantage_sync_schedules
  FOR EACH ROW
  WHEN (NEW.late_grace IS NULL OR NEW.late_grace <= interval '0')
  EXECUTE FUNCTION vantage_sync_private.refuse_bad_late_grace();

