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

ALTER TABLE public.vantage_sync_webhook_deliveries ENABLE ROW LEVEL SECURITY;

REVOKE ALL ON TABLE public.vantage_sync_webhook_deliveries FROM PUBLIC, anon, authenticated, service_role;

GRANT SELECT ON TABLE public.vantage_sync_webhook_deliveries TO service_role;

-- The ordering rule of claim looks up a subscription's pending deliveries of one resource.
CREATE INDEX vantage_sync_webhook_deliveries_pending_idx
  ON public.vantage_sync_webhook_deliveries (webhook_id, resource, created_at) WHERE status = 'pending';
