-- The run that just succeeded (or the successful row being inserted) started at NEW.started_at.
CREATE FUNCTION vantage_sync_private.advance_sync_watermark()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
  NEW.sync_watermark := NEW.started_at;
  RETURN NEW;
END;
$$;

REVOKE ALL ON FUNCTION vantage_sync_private.advance_sync_watermark()
  FROM PUBLIC, anon, authenticated, service_role;

-- WHEN clauses, so a start or a failure calls no function at all.
CREATE TRIGGER vantage_sync_state_sync_watermark
  BEFORE UPDATE OF last_sync_status ON public.vantage_sync_state
  FOR EACH ROW
  WHEN (OLD.last_sync_status = 'running' AND NEW.last_sync_status = 'success')
  EXECUTE FUNCTION vantage_sync_private.advance_sync_watermark();

CREATE TRIGGER vantage_sync_state_sync_watermark_on_insert
  BEFORE INSERT ON public.vantage_sync_state
  FOR EACH ROW
  WHEN (NEW.last_sync_status = 'success' AND NEW.sync_watermark IS NULL)
  EXECUTE FUNCTION vantage_sync_private.advance_sync_watermark();

