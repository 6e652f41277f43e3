CREATE FUNCTION public.sweep_vantage_syncs()
RETURNS TABLE (swept integer, stale_events integer, late_events integer, deliveries_due integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_swept integer;
  v_stale integer := 0;
  v_late  integer := 0;
  v_row   record;
BEGIN
  SELECT count(*) INTO v_swept FROM public.sweep_stuck_vantage_syncs();
  FOR v_row IN
    SELECT h.resource, h.last_sync_time, h.alerts, coalesce(h.started_at, h.created_at) AS last_start
      FROM public.vantage_sync_health AS h
     WHERE h.alerts && ARRAY['stale', 'late']
  LOOP
    IF 'stale' = ANY (v_row.alerts) THEN
      v_stale := v_stale + vantage_sync_private.enqueue_webhook_event('stale', v_row.resource, NULL,
        v_row.resource || ':stale:' || coalesce(v_row.last_sync_time::text, 'never'));
    END IF;
    IF 'late' = ANY (v_row.alerts) THEN
      v_late := v_late + vantage_sync_private.enqueue_webhook_event('late', v_row.resource, NULL,
        v_row.resource || ':late:' || v_row.last_start::text);
    END IF;
  END LOOP;
  RETURN QUERY SELECT v_swept, v_stale, v_late,
    (SELECT count(*)::integer FROM public.vantage_sync_webhook_deliveries AS d
      WHERE d.status = 'pending' AND d.next_attempt_at <= clock_timestamp());
END;
$$;

COMMENT ON FUNCTION public.sweep_vantage_syncs() IS
  'Sweeps stuck runs, queues stale and late events, returns how many deliveries are due. For a cron, via the edge.';

REVOKE ALL ON FUNCTION public.sweep_vantage_syncs() FROM PUBLIC, anon, authenticated;

GRANT EXECUTE ON FUNCTION public.sweep_vantage_syncs() TO service_role;

