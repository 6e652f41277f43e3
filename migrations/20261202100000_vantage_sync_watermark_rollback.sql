-- Rollback of 20261202100000_vantage_sync_watermark.sql: start_vantage_sync_run as
-- 20261124220000 made it, no sync_watermark.
DROP FUNCTION IF EXISTS public.start_vantage_sync_run(text);

CREATE FUNCTION public.start_vantage_sync_run(
  p_resource     text,
  OUT run_id     uuid,
  OUT started_at timestamptz
)
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
  run_id := public.start_vantage_sync(p_resource);
  SELECT s.started_at INTO started_at
    FROM public.vantage_sync_state AS s
   WHERE s.resource = p_resource;
END;
$$;

COMMENT ON FUNCTION public.start_vantage_sync_run(text) IS
  'Starts a sync run like start_vantage_sync and returns its run id and started_at (database clock).';

REVOKE ALL ON FUNCTION public.start_vantage_sync_run(text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.start_vantage_sync_run(text) TO service_role;

DROP TRIGGER IF EXISTS vantage_sync_state_sync_watermark_on_insert ON public.vantage_sync_state;
DROP TRIGGER IF EXISTS vantage_sync_state_sync_watermark ON public.vantage_sync_state;
DROP FUNCTION IF EXISTS vantage_sync_private.advance_sync_watermark();
ALTER TABLE public.vantage_sync_state DROP COLUMN IF EXISTS sync_watermark;
