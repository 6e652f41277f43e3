-- What readers get ---------------------------------------------------------------------------

-- As 20261202150000 made it, plus counts_reported; records_synced is null when the completion
-- reported no counts.
CREATE OR REPLACE FUNCTION vantage_sync_private.webhook_payload(p_event text, p_resource text, p_run_id uuid)
RETURNS jsonb
LANGUAGE sql
SET search_path = ''
AS $$
  SELECT jsonb_build_object(
           'event', p_event,
           'resource', h.resource,
           'run_id', p_run_id,
           'health', h.health,
           'status', h.last_sync_status,
           'alerts', to_jsonb(h.alerts),
           'errors', h.errors,
           'consecutive_failures', h.consecutive_failures,
           'last_sync_time', h.last_sync_time,
           'started_at', h.started_at,
           'completed_at', h.completed_at,
           'duration_ms', h.duration_ms,
           'records_synced', CASE WHEN h.counts_reported THEN h.records_synced END,
           'counts_reported', h.counts_reported,
           'sync_watermark', h.sync_watermark,
           'slow_after', h.slow_after,
           'next_sync_due_at', h.next_sync_due_at,
           'late_grace', h.late_grace,
           'occurred_at', clock_timestamp())
    FROM public.vantage_sync_health AS h
   WHERE h.resource = p_resource
$$;

REVOKE ALL ON FUNCTION vantage_sync_private.webhook_payload(text, text, uuid) FROM PUBLIC, anon, authenticated, service_role;

REVOKE ALL ON FUNCTION vantage_sync_private.webhook_payload(text, text, uuid)
  FROM PUBLIC, anon, authenticated, service_role;

