-- start_vantage_sync_run: start_vantage_sync and the run's started_at in one call.
--
-- Why: the edge function answers `start` with the run id and its start time, both from the
-- database. Reading the time back in a second request cost a third of the edge's throughput
-- (three upstream calls per start+complete cycle instead of two). Here the read happens in the
-- same transaction as the start, while the state row is still locked by it, so the time read
-- is this run's and no concurrent start can slip in between.
--
-- start_vantage_sync keeps its contract (returns the run id only); this function only adds.
-- SECURITY INVOKER: it needs no privilege its caller lacks (service_role may execute
-- start_vantage_sync and read the state table), and PostgREST answers it as one JSON object.
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
