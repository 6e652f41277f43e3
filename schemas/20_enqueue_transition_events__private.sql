-- As 20261202100200 made it, and a success resolves the open PagerDuty episodes first (before
-- the look at the subscriptions: a subscription that no longer lists the resource still gets
-- the resolve of the incident it opened).
CREATE OR REPLACE FUNCTION vantage_sync_private.enqueue_transition_events()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_code   text := NEW.errors -> 0 ->> 'code';
  v_run    text := coalesce(NEW.current_run_id::text, NEW.resource || '@' || NEW.started_at);
  v_wanted text[];
  v_slow   interval;
BEGIN
  IF NEW.last_sync_status = 'success' THEN
    PERFORM vantage_sync_private.resolve_pagerduty_incidents(NEW.resource, NEW.current_run_id, v_run || ':recovered');
  END IF;

  -- One look at the subscriptions: a transition nobody listens to costs nothing more.
  SELECT array_agg(DISTINCT e) INTO v_wanted
    FROM public.vantage_sync_webhooks AS w CROSS JOIN LATERAL unnest(w.events) AS e
   WHERE w.active AND (w.resources IS NULL OR NEW.resource = ANY (w.resources));
  IF v_wanted IS NULL THEN
    RETURN NULL;
  END IF;

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
  ELSIF NEW.last_sync_status = 'success' THEN
    PERFORM vantage_sync_private.enqueue_webhook_event('completed', NEW.resource, NEW.current_run_id, v_run || ':completed');
    IF OLD.consecutive_failures > 0 THEN
      PERFORM vantage_sync_private.enqueue_webhook_event('recovered', NEW.resource, NEW.current_run_id, v_run || ':recovered');
    END IF;
  END IF;

  IF 'slow' = ANY (v_wanted) THEN
    SELECT coalesce(sc.slow_after, d.slow_after) INTO v_slow
      FROM public.vantage_sync_default_schedule() AS d
      LEFT JOIN public.vantage_sync_schedules AS sc ON sc.resource = NEW.resource;
    -- The rule of the `slow` alert (vantage_sync_alerts_of).
    IF NEW.duration_ms * interval '1 millisecond' > v_slow THEN
      PERFORM vantage_sync_private.enqueue_webhook_event('slow', NEW.resource, NEW.current_run_id, v_run || ':slow');
    END IF;
  END IF;
  RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION vantage_sync_private.enqueue_transition_events() FROM PUBLIC, anon, authenticated, service_role;

CREATE TRIGGER vantage_sync_state_webhook_events
  AFTER UPDATE OF last_sync_status ON public.vantage_sync_state
  FOR EACH ROW
  WHEN (OLD.last_sync_status = 'running' AND NEW.last_sync_status IN ('success', 'failed'))
  EXECUTE FUNCTION vantage_sync_private.enqueue_transition_events();

