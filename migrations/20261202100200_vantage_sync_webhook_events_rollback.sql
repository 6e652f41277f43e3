-- Rollback of 20261202100200_vantage_sync_webhook_events.sql: the events, payload and sweep of
-- 20261125040000. Subscriptions lose the events that migration does not know (completed, slow,
-- late); one that listened to nothing else is deleted, as that schema cannot hold it.
DROP TRIGGER IF EXISTS vantage_sync_webhooks_check_events ON public.vantage_sync_webhooks;
DROP FUNCTION IF EXISTS vantage_sync_private.check_webhook_events();

DELETE FROM public.vantage_sync_webhooks
 WHERE NOT events && ARRAY['failed', 'stuck', 'repeated_failures', 'recovered', 'stale']::text[];
UPDATE public.vantage_sync_webhooks
   SET events = ARRAY(SELECT e FROM unnest(events) WITH ORDINALITY AS u(e, i)
                       WHERE e = ANY (ARRAY['failed', 'stuck', 'repeated_failures', 'recovered', 'stale'])
                       ORDER BY i)
 WHERE NOT events <@ ARRAY['failed', 'stuck', 'repeated_failures', 'recovered', 'stale']::text[];

COMMENT ON COLUMN public.vantage_sync_webhooks.events IS NULL;
ALTER TABLE public.vantage_sync_webhooks
  ALTER COLUMN events DROP DEFAULT,
  DROP CONSTRAINT vantage_sync_webhooks_events_check,
  ADD CONSTRAINT vantage_sync_webhooks_events_check CHECK (
    cardinality(events) > 0
    AND events <@ ARRAY['failed', 'stuck', 'repeated_failures', 'recovered', 'stale']::text[]);

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
                    AND (w.resources IS NULL OR p_resource = ANY (w.resources))) THEN
    RETURN 0;
  END IF;
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
           'occurred_at', clock_timestamp())
    INTO v_payload
    FROM public.vantage_sync_health AS h
   WHERE h.resource = p_resource;
  INSERT INTO public.vantage_sync_webhook_deliveries (webhook_id, event, event_key, resource, run_id, payload)
  SELECT w.webhook_id, p_event, p_key, p_resource, p_run_id, v_payload
    FROM public.vantage_sync_webhooks AS w
   WHERE w.active AND p_event = ANY (w.events)
     AND (w.resources IS NULL OR p_resource = ANY (w.resources))
  ON CONFLICT ON CONSTRAINT vantage_sync_webhook_deliveries_once DO NOTHING;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  IF v_count > 0 THEN
    PERFORM set_config('response.headers', '[{"X-Vantage-Webhooks": "pending"}]', true);
  END IF;
  RETURN v_count;
END;
$$;

CREATE OR REPLACE FUNCTION vantage_sync_private.enqueue_transition_events()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_code text := NEW.errors -> 0 ->> 'code';
  v_run  text := coalesce(NEW.current_run_id::text, NEW.resource || '@' || NEW.started_at);
BEGIN
  IF NEW.last_sync_status = 'failed' THEN
    IF v_code IN ('STUCK_TIMEOUT', 'STUCK_SUPERSEDED') THEN
      PERFORM vantage_sync_private.enqueue_webhook_event('stuck', NEW.resource, NEW.current_run_id, v_run || ':stuck');
    ELSE
      PERFORM vantage_sync_private.enqueue_webhook_event('failed', NEW.resource, NEW.current_run_id, v_run || ':failed');
    END IF;
    IF NEW.consecutive_failures = 3 THEN
      PERFORM vantage_sync_private.enqueue_webhook_event('repeated_failures', NEW.resource,
        NEW.current_run_id, v_run || ':repeated_failures');
    END IF;
  ELSIF NEW.last_sync_status = 'success' AND OLD.consecutive_failures > 0 THEN
    PERFORM vantage_sync_private.enqueue_webhook_event('recovered', NEW.resource, NEW.current_run_id, v_run || ':recovered');
  END IF;
  RETURN NULL;
END;
$$;

DROP FUNCTION IF EXISTS public.sweep_vantage_syncs();
CREATE FUNCTION public.sweep_vantage_syncs()
RETURNS TABLE (swept integer, stale_events integer, deliveries_due integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_swept integer;
  v_stale integer := 0;
  v_row   record;
BEGIN
  SELECT count(*) INTO v_swept FROM public.sweep_stuck_vantage_syncs();
  FOR v_row IN
    SELECT h.resource, h.last_sync_time FROM public.vantage_sync_health AS h
     WHERE 'stale' = ANY (h.alerts)
  LOOP
    v_stale := v_stale + vantage_sync_private.enqueue_webhook_event('stale', v_row.resource, NULL,
      v_row.resource || ':stale:' || coalesce(v_row.last_sync_time::text, 'never'));
  END LOOP;
  RETURN QUERY SELECT v_swept, v_stale,
    (SELECT count(*)::integer FROM public.vantage_sync_webhook_deliveries AS d
      WHERE d.status = 'pending' AND d.next_attempt_at <= clock_timestamp());
END;
$$;

COMMENT ON FUNCTION public.sweep_vantage_syncs() IS
  'Sweeps stuck runs, queues stale events, returns how many deliveries are due. For a cron, via the edge.';
REVOKE ALL ON FUNCTION public.sweep_vantage_syncs() FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.sweep_vantage_syncs() TO service_role;
