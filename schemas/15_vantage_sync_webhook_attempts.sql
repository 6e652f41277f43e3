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

ALTER TABLE public.vantage_sync_webhook_attempts ENABLE ROW LEVEL SECURITY;

REVOKE ALL ON TABLE public.vantage_sync_webhook_attempts FROM PUBLIC, anon, authenticated, service_role;

GRANT SELECT ON TABLE public.vantage_sync_webhook_attempts TO service_role;
