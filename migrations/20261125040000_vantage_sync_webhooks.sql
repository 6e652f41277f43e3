-- Webhooks: subscriptions, an outbox of deliveries written in the same transaction as the
-- transition that caused them, and the calls the edge function delivers them with.
--
-- Why an outbox: an event must not be lost when the sender dies, and must not be sent twice
-- for one transition. So the database writes one delivery row per subscription and event in
-- the transaction that changes the state (a trigger; every writer path, the edge's and the
-- spec's direct SQL, goes through it), keyed by (webhook, event key) so a transition can never
-- enqueue twice. The edge claims due rows, sends them after it has answered the ETL call (or
-- from the sweep), and records each attempt; a failed attempt is retried with backoff.
--
-- Events:  failed              a run failed (an ETL job's fail, an admin's abort)
--          stuck               a run was failed for hanging (STUCK_TIMEOUT by the sweep,
--                              STUCK_SUPERSEDED by a new start)
--          repeated_failures   the third failure in a row (once per streak)
--          recovered           the first success after one or more failures
--          stale               the sweep found no successful sync within stale_after
--                              (once per last_sync_time)
--
-- Only service_role reads or writes any of it: subscriptions hold the signing secrets.

CREATE TABLE public.vantage_sync_webhooks (
  webhook_id  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  url         text        NOT NULL,
  events      text[]      NOT NULL,
  -- Only these resources' events; NULL: every resource.
  resources   text[],
  secret      text        NOT NULL,
  description text,
  active      boolean     NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT vantage_sync_webhooks_events_check CHECK (
    cardinality(events) > 0
    AND events <@ ARRAY['failed', 'stuck', 'repeated_failures', 'recovered', 'stale']::text[]),
  CONSTRAINT vantage_sync_webhooks_secret_check CHECK (length(secret) >= 24)
);

COMMENT ON TABLE public.vantage_sync_webhooks IS
  'Webhook subscriptions: where to POST which events, signed with secret (HMAC-SHA256). service_role only.';

CREATE TABLE public.vantage_sync_webhook_deliveries (
  delivery_id        uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  webhook_id         uuid        NOT NULL REFERENCES public.vantage_sync_webhooks ON DELETE CASCADE,
  event              text        NOT NULL,
  event_key          text        NOT NULL,
  resource           text        NOT NULL,
  run_id             uuid,
  payload            jsonb       NOT NULL,
  status             text        NOT NULL DEFAULT 'pending',
  attempts           integer     NOT NULL DEFAULT 0,
  last_response_code integer,
  last_error         text,
  next_attempt_at    timestamptz DEFAULT clock_timestamp(),
  -- clock_timestamp(): events of one transaction keep their order.
  created_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
  delivered_at       timestamptz,
  CONSTRAINT vantage_sync_webhook_deliveries_once UNIQUE (webhook_id, event_key),
  CONSTRAINT vantage_sync_webhook_deliveries_status_check
    CHECK (status IN ('pending', 'delivered', 'gave_up')),
  CONSTRAINT vantage_sync_webhook_deliveries_next_check
    CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL))
);

CREATE INDEX vantage_sync_webhook_deliveries_due_idx
  ON public.vantage_sync_webhook_deliveries (next_attempt_at) WHERE status = 'pending';

COMMENT ON TABLE public.vantage_sync_webhook_deliveries IS
  'One row per subscription and event (never two for one transition): pending until delivered or given up.';

CREATE TABLE public.vantage_sync_webhook_attempts (
  delivery_id   uuid        NOT NULL REFERENCES public.vantage_sync_webhook_deliveries ON DELETE CASCADE,
  attempt       integer     NOT NULL,
  attempted_at  timestamptz NOT NULL DEFAULT now(),
  response_code integer,
  error         text,
  duration_ms   integer,
  PRIMARY KEY (delivery_id, attempt)
);

COMMENT ON TABLE public.vantage_sync_webhook_attempts IS
  'Every delivery attempt: the receiver''s status code, or why there was none.';

ALTER TABLE public.vantage_sync_webhooks ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.vantage_sync_webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.vantage_sync_webhook_attempts ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE public.vantage_sync_webhooks, public.vantage_sync_webhook_deliveries,
  public.vantage_sync_webhook_attempts FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.vantage_sync_webhooks TO service_role;
GRANT SELECT ON TABLE public.vantage_sync_webhook_deliveries, public.vantage_sync_webhook_attempts
  TO service_role;

-- Where a webhook may point. Only http(s), no credentials in the URL, and no loopback, private,
-- link-local or unspecified address given literally, nor localhost: a subscription must not
-- make the edge function call into the network it runs in. The local stack, whose receivers
-- listen on 127.0.0.1, turns this off with vantage_sync.webhooks_allow_private = on.
CREATE FUNCTION vantage_sync_private.webhook_url_problem(p_url text)
RETURNS text
LANGUAGE plpgsql
IMMUTABLE
SET search_path = ''
AS $$
DECLARE
  v_host text;
  v_addr inet;
BEGIN
  IF p_url IS NULL OR p_url !~ '^https?://[^/?#@[:space:]]+([/?#][^[:space:]]*)?$' THEN
    RETURN 'must be an http:// or https:// URL without spaces or user:password@';
  END IF;
  IF length(p_url) > 2048 THEN
    RETURN 'must be at most 2048 characters';
  END IF;
  v_host := lower(substring(p_url FROM '^https?://([^/?#]+)'));
  v_host := CASE WHEN v_host LIKE '[%' THEN substring(v_host FROM '^\[([^]]+)\]')
                 ELSE regexp_replace(v_host, ':[0-9]*$', '') END;
  IF v_host IS NULL OR v_host = '' THEN
    RETURN 'has no host';
  END IF;
  IF v_host = 'localhost' OR v_host LIKE '%.localhost' THEN
    RETURN format('points at %s, this machine', v_host);
  END IF;
  BEGIN
    v_addr := v_host::inet;
  EXCEPTION WHEN invalid_text_representation THEN
    RETURN NULL;  -- a name, not an address
  END;
  IF v_addr << '127.0.0.0/8' OR v_addr << '10.0.0.0/8' OR v_addr << '172.16.0.0/12'
     OR v_addr << '192.168.0.0/16' OR v_addr << '169.254.0.0/16' OR v_addr << '100.64.0.0/10'
     OR v_addr << '0.0.0.0/8' OR v_addr = '::1'::inet OR v_addr = '::'::inet
     OR v_addr << 'fc00::/7' OR v_addr << 'fe80::/10' OR v_addr << '::ffff:0:0/96' THEN
    RETURN format('points at %s, a loopback, private or link-local address', v_host);
  END IF;
  RETURN NULL;
END;
$$;

CREATE FUNCTION vantage_sync_private.check_webhook()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_problem text := vantage_sync_private.webhook_url_problem(NEW.url);
BEGIN
  IF v_problem IS NOT NULL
     AND NOT (v_problem LIKE 'points at %'
              AND current_setting('vantage_sync.webhooks_allow_private', true) = 'on') THEN
    RAISE EXCEPTION 'webhook url %', v_problem
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Use the public https:// address of the receiver.';
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER vantage_sync_webhooks_check
  BEFORE INSERT OR UPDATE OF url ON public.vantage_sync_webhooks
  FOR EACH ROW EXECUTE FUNCTION vantage_sync_private.check_webhook();

-- Queues `p_event` for every active subscription to it, once per key. Builds the payload from
-- the health view as it is now, in the transaction of the transition. Tells PostgREST's caller
-- (the edge) that deliveries are waiting through a response header, so the edge makes no
-- extra call after transitions that queued nothing.
CREATE FUNCTION vantage_sync_private.enqueue_webhook_event(
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

-- The transitions that are events: a run that ends failed (and the third failure in a row),
-- and the first success after failures.
CREATE FUNCTION vantage_sync_private.enqueue_transition_events()
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

CREATE TRIGGER vantage_sync_state_webhook_events
  AFTER UPDATE OF last_sync_status ON public.vantage_sync_state
  FOR EACH ROW
  WHEN (OLD.last_sync_status = 'running' AND NEW.last_sync_status IN ('success', 'failed'))
  EXECUTE FUNCTION vantage_sync_private.enqueue_transition_events();

-- Claims up to p_limit due deliveries for sending (of p_resource only, when given: the edge's
-- follow-up to one transition; all of them for the sweep), each with its subscription's URL
-- and secret.
-- A claim is a lease: next_attempt_at moves p_lease ahead, so a sender that dies before it
-- records the outcome leaves the delivery to be claimed again, and two senders never claim the
-- same row (SKIP LOCKED).
CREATE FUNCTION public.claim_vantage_sync_deliveries(
  p_limit    integer DEFAULT 20,
  p_lease    interval DEFAULT '2 minutes',
  p_resource text DEFAULT NULL
)
RETURNS TABLE (delivery_id uuid, url text, secret text, event text, resource text,
               payload jsonb, attempt integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  RETURN QUERY
  WITH due AS (
    SELECT d.delivery_id
      FROM public.vantage_sync_webhook_deliveries AS d
     WHERE d.status = 'pending' AND d.next_attempt_at <= clock_timestamp()
       AND (p_resource IS NULL OR d.resource = p_resource)
     ORDER BY d.next_attempt_at, d.created_at
     LIMIT greatest(1, least(p_limit, 100))
       FOR UPDATE SKIP LOCKED
  ), leased AS (
    UPDATE public.vantage_sync_webhook_deliveries AS d
       SET next_attempt_at = clock_timestamp() + p_lease
      FROM due
     WHERE d.delivery_id = due.delivery_id
    RETURNING d.delivery_id, d.webhook_id, d.event, d.resource, d.payload, d.attempts, d.created_at
  )
  SELECT l.delivery_id, w.url, w.secret, l.event, l.resource, l.payload, l.attempts + 1
    FROM leased AS l
    JOIN public.vantage_sync_webhooks AS w USING (webhook_id)
   ORDER BY l.created_at;
END;
$$;

-- Records one attempt. A 2xx delivers; anything else is retried after 30 s, 1, 2, 4 … min (at
-- most an hour apart), and given up after the 10th attempt.
CREATE FUNCTION public.record_vantage_sync_delivery(
  p_delivery_id   uuid,
  p_response_code integer,
  p_error         text DEFAULT NULL,
  p_duration_ms   integer DEFAULT NULL
)
RETURNS TABLE (status text, attempts integer, next_attempt_at timestamptz)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_delivery public.vantage_sync_webhook_deliveries;
  v_now      timestamptz := clock_timestamp();
  v_ok       boolean := p_response_code BETWEEN 200 AND 299;
BEGIN
  SELECT * INTO v_delivery FROM public.vantage_sync_webhook_deliveries AS d
   WHERE d.delivery_id = p_delivery_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no webhook delivery %', p_delivery_id USING ERRCODE = 'PT404';
  END IF;
  IF v_delivery.status <> 'pending' THEN
    -- Already settled (a second sender's late report): keep the first outcome.
    RETURN QUERY SELECT v_delivery.status, v_delivery.attempts, v_delivery.next_attempt_at;
    RETURN;
  END IF;
  INSERT INTO public.vantage_sync_webhook_attempts (delivery_id, attempt, attempted_at, response_code, error, duration_ms)
  VALUES (p_delivery_id, v_delivery.attempts + 1, v_now, p_response_code, left(p_error, 500), p_duration_ms);
  UPDATE public.vantage_sync_webhook_deliveries AS d
     SET attempts = d.attempts + 1,
         last_response_code = p_response_code,
         last_error = left(p_error, 500),
         status = CASE WHEN v_ok THEN 'delivered'
                       WHEN d.attempts + 1 >= 10 THEN 'gave_up'
                       ELSE 'pending' END,
         delivered_at = CASE WHEN v_ok THEN v_now END,
         next_attempt_at = CASE WHEN v_ok OR d.attempts + 1 >= 10 THEN NULL
                                ELSE v_now + least(interval '1 hour',
                                                   interval '30 seconds' * power(2, d.attempts)) END
   WHERE d.delivery_id = p_delivery_id
  RETURNING d.status, d.attempts, d.next_attempt_at
    INTO v_delivery.status, v_delivery.attempts, v_delivery.next_attempt_at;
  RETURN QUERY SELECT v_delivery.status, v_delivery.attempts, v_delivery.next_attempt_at;
END;
$$;

-- The cron's one call (through the edge's POST sweep): fails stuck runs (their `stuck` events
-- are queued by the trigger), queues `stale` once per resource and last_sync_time, and says how
-- many deliveries are due.
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

COMMENT ON FUNCTION public.claim_vantage_sync_deliveries(integer, interval, text) IS
  'Leases up to p_limit due webhook deliveries (with URL and secret) to the caller for sending.';
COMMENT ON FUNCTION public.record_vantage_sync_delivery(uuid, integer, text, integer) IS
  'Records one delivery attempt: 2xx delivers; otherwise retried with backoff, given up after 10.';
COMMENT ON FUNCTION public.sweep_vantage_syncs() IS
  'Sweeps stuck runs, queues stale events, returns how many deliveries are due. For a cron, via the edge.';

REVOKE ALL ON FUNCTION vantage_sync_private.webhook_url_problem(text),
  vantage_sync_private.check_webhook(), vantage_sync_private.enqueue_webhook_event(text, text, uuid, text),
  vantage_sync_private.enqueue_transition_events() FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.claim_vantage_sync_deliveries(integer, interval, text),
  public.record_vantage_sync_delivery(uuid, integer, text, integer),
  public.sweep_vantage_syncs() FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.claim_vantage_sync_deliveries(integer, interval, text),
  public.record_vantage_sync_delivery(uuid, integer, text, integer),
  public.sweep_vantage_syncs() TO service_role;
