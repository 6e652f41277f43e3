-- A success ends the open PagerDuty episodes of its resource: one `recovered` (a resolve) for
-- each subscription with one, keyed like the webhooks' recovered (once per transition). An
-- inactive subscription keeps its episode until it is active again and a success comes.
-- Invoker: its one caller, the definer enqueue_transition_events, runs it as the owner.
CREATE FUNCTION vantage_sync_private.resolve_pagerduty_incidents(
  p_resource text,
  p_run_id   uuid,
  p_key      text
)
RETURNS integer
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
DECLARE
  v_count integer;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM vantage_sync_private.pagerduty_incidents AS i WHERE i.resource = p_resource) THEN
    RETURN 0;
  END IF;
  WITH closed AS (
    DELETE FROM vantage_sync_private.pagerduty_incidents AS i
     USING public.vantage_sync_webhooks AS w
     WHERE i.resource = p_resource AND w.webhook_id = i.webhook_id AND w.active
    RETURNING i.webhook_id
  ), queued AS (
    INSERT INTO public.vantage_sync_webhook_deliveries (webhook_id, event, event_key, resource, run_id, payload)
    SELECT c.webhook_id, 'recovered', p_key, p_resource, p_run_id,
           vantage_sync_private.webhook_payload('recovered', p_resource, p_run_id)
      FROM closed AS c
    ON CONFLICT ON CONSTRAINT vantage_sync_webhook_deliveries_once DO NOTHING
    RETURNING 1
  )
  SELECT count(*) INTO v_count FROM queued;
  IF v_count > 0 THEN
    PERFORM set_config('response.headers', '[{"X-Vantage-Webhooks": "pending"}]', true);
  END IF;
  RETURN v_count;
END;
$$;

REVOKE ALL ON FUNCTION vantage_sync_private.resolve_pagerduty_incidents(text, uuid, text) FROM PUBLIC, anon, authenticated, service_role;

