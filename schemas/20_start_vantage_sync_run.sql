CREATE FUNCTION public.start_vantage_sync_run(
  p_resource         text,
  OUT run_id         uuid,
  OUT started_at     timestamptz,
  OUT sync_watermark timestamptz
)
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
  run_id := public.start_vantage_sync(p_resource);
  SELECT s.started_at, s.sync_watermark INTO started_at, sync_watermark
    FROM public.vantage_sync_state AS s
   WHERE s.resource = p_resource;
END;
$$;

COMMENT ON FUNCTION public.start_vantage_sync_run(text) IS
  'Starts a sync run like start_vantage_sync; returns its run id, started_at (database clock) and sync_watermark, the point to sync from (NULL: everything).';

REVOKE ALL ON FUNCTION public.start_vantage_sync_run(text) FROM PUBLIC, anon, authenticated;

GRANT EXECUTE ON FUNCTION public.start_vantage_sync_run(text) TO service_role;

