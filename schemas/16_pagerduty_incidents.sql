-- Open PagerDuty episodes: one row per subscription and resource while an incident is open.
CREATE TABLE vantage_sync_private.pagerduty_incidents (
  webhook_id uuid        NOT NULL REFERENCES public.vantage_sync_webhooks ON DELETE CASCADE,
  resource   text        NOT NULL,
  opened_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (resource, webhook_id)
);

ALTER TABLE vantage_sync_private.pagerduty_incidents ENABLE ROW LEVEL SECURITY;

REVOKE ALL ON TABLE vantage_sync_private.pagerduty_incidents
  FROM PUBLIC, anon, authenticated, service_role;

COMMENT ON TABLE vantage_sync_private.pagerduty_incidents IS
  'Open PagerDuty episodes: a trigger was queued for (webhook_id, resource) and no resolve yet.';

-- Deleting a subscription cascades here by webhook_id, the key's second column: its own index
-- keeps that delete from scanning the table (Supabase's lint 0001).
CREATE INDEX pagerduty_incidents_webhook_id_idx
  ON vantage_sync_private.pagerduty_incidents (webhook_id);
