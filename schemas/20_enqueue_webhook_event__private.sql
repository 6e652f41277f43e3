-- As 20261202100200 made it, except for PagerDuty subscriptions: they get no `recovered` from
-- here (resolve_pagerduty_incidents sends it, to the subscriptions with an open episode), and a
-- trigger queued for one opens its episode when none is open.
CREATE OR REPLACE FUNCTION vantage_sync_private.enqueue_webhook_event(
  p_event    text,
  p_resource text,
  p_run_id   uuid,
  p_key      text
)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_payload jsonb;
  v_count   integer;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM public.vantage_sync_webhooks AS w
                  WHERE w.active AND p_event = ANY (w.events)
                    AND (w.resources IS NULL OR p_resource = ANY (w.resources))
                    AND (w.kind = 'webhook' OR p_event <> 'recovered')) THEN
    RETURN 0;
  END IF;
  v_payload := vantage_sync_private.webhook_payload(p_event, p_resource, p_run_id);
  WITH queued AS (
    INSERT INTO public.vantage_sync_webhook_deliveries (webhook_id, event, event_key, resource, run_id, payload)
    SELECT w.webhook_id, p_event, p_key, p_resource, p_run_id, v_payload
      FROM public.vantage_sync_webhooks AS w
     WHERE w.active AND p_event = ANY (w.events)
       AND (w.resources IS NULL OR p_resource = ANY (w.resources))
       AND (w.kind = 'webhook' OR p_event <> 'recovered')
    ON CONFLICT ON CONSTRAINT vantage_sync_webhook_deliveries_once DO NOTHING
    RETURNING webhook_id
  ), opened AS (
    INSERT INTO vantage_sync_private.pagerduty_incidents (webhook_id, resource)
    SELECT q.webhook_id, p_resource
      FROM queued AS q JOIN public.vantage_sync_webhooks AS w USING (webhook_id)
     WHERE w.kind = 'pagerduty'
    ON CONFLICT DO NOTHING
  )
  SELECT count(*) INTO v_count FROM queued;
  IF v_count > 0 THEN
    PERFORM set_config('response.headers', '[{"X-Vantage-Webhooks": "pending"}]', true);
  END IF;
  RETURN v_count;
END;
$$;

REVOKE ALL ON FUNCTION vantage_sync_private.enqueue_webhook_event(text, text, uuid, text) FROM PUBLIC, anon, authenticated, service_role;

