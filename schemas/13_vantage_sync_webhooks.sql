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
  kind        text NOT NULL DEFAULT 'webhook',
  CONSTRAINT vantage_sync_webhooks_events_check CHECK (
    cardinality(events) > 0
    AND events <@ ARRAY['failed', 'stuck', 'repeated_failures', 'recovered', 'stale']::text[]),
  CONSTRAINT vantage_sync_webhooks_secret_check CHECK (length(secret) >= 24),
  CONSTRAINT vantage_sync_webhooks_kind_check CHECK (kind IN ('webhook', 'pagerduty'))
);

COMMENT ON TABLE public.vantage_sync_webhooks IS
  'Webhook subscriptions: where to POST which events, signed with secret (HMAC-SHA256). service_role only.';

ALTER TABLE public.vantage_sync_webhooks ENABLE ROW LEVEL SECURITY;

REVOKE ALL ON TABLE public.vantage_sync_webhooks FROM PUBLIC, anon, authenticated, service_role;

GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.vantage_sync_webhooks TO service_role;

-- Every event, opt-in: a subscription may also pick `completed`, `slow` and `late`.
--
-- Why: the spec's future work asks for a hook on "completion/failure", and a subscription could
-- only hear about failures and alerts (failed, stuck, repeated_failures, recovered, stale).
-- New events:
--   completed  every successful run (running -> success), recovered or not
--   slow       a run ended (success or failure) after more than its slow_after, the rule of the
--              `slow` alert (once per run)
--   late       the sweep found a scheduled resource late (20261202100100), once per missed run
--              (per last start)
-- A subscription gets only the events it lists. The column now defaults to the alerting set as
-- it was (failed, stuck, repeated_failures, recovered, stale), so existing subscriptions, and new
-- ones that name no events, see no new traffic.
--
-- An unknown event, or no event at all, is refused with a sentence naming the known ones (22023:
-- PostgREST answers 400) instead of the CHECK's 23514; the CHECK stays as the backstop when
-- triggers are off. Nothing changes on refusal.
--
-- Payloads gain what the new events are about: started_at, completed_at, duration_ms,
-- records_synced, sync_watermark, slow_after, next_sync_due_at, late_grace.
-- sweep_vantage_syncs also returns late_events (dropped and created again: its result type
-- changes).

ALTER TABLE public.vantage_sync_webhooks
  DROP CONSTRAINT vantage_sync_webhooks_events_check,
  ADD CONSTRAINT vantage_sync_webhooks_events_check CHECK (
    cardinality(events) > 0
    AND events <@ ARRAY['failed', 'stuck', 'repeated_failures', 'recovered', 'stale',
                        'completed', 'slow', 'late']::text[]),
  ALTER COLUMN events SET DEFAULT ARRAY['failed', 'stuck', 'repeated_failures', 'recovered', 'stale']::text[];

COMMENT ON COLUMN public.vantage_sync_webhooks.events IS
  'Events to deliver: failed, stuck, repeated_failures, recovered, stale (the default), completed, slow, late.';

-- PagerDuty: a receiver kind for the Events API v2 (issue 19), and subscription secrets that no
-- read returns.
--
-- A subscription now has a kind: `webhook` (every subscription so far: a signed POST of the
-- payload) or `pagerduty` (the edge POSTs a v2 alert event to url, by default
-- https://events.pagerduty.com/v2/enqueue). For `pagerduty`, secret holds the routing key (the
-- Integration Key of a service's "Events API v2" integration) and:
--   trigger   failed, stuck, repeated_failures, stale, late (those the subscription lists), with
--             dedup_key = the resource. The first one opens an episode; later ones go to the
--             same dedup_key, so PagerDuty appends them to the open incident.
--   resolve   the first success after an episode opened, whatever opened it (a failure, a stuck
--             run, stale or late), queued as `recovered` for that subscription alone, once; it
--             closes the episode. The next trigger opens a new episode (PagerDuty: a new incident).
-- Episodes live in vantage_sync_private.pagerduty_incidents (no API role sees them).
--
-- Refused with 22023 and a sentence (PostgREST answers 400), nothing written: a routing key
-- that is empty or not the 32 letters and digits of an Integration Key (the sentence never
-- quotes the key), `completed` or `slow` on a PagerDuty subscription (they are not incidents),
-- a PagerDuty subscription with no event that triggers, and a change of kind.
--
-- Order: PagerDuty must get a trigger before the resolve that ends it, also when the trigger is
-- being retried. claim_vantage_sync_deliveries hands out a PagerDuty delivery only when no
-- earlier delivery of the same subscription and resource is still pending, and now returns the
-- kind (dropped and created again: its result type changes).
--
-- Giving up: PagerDuty's 4xx other than 429 says the event is invalid (a bad routing key, a
-- field too long); retrying cannot make it valid. record_vantage_sync_delivery gives such a
-- delivery up at once (its reason is the attempt's error); 429, 5xx and no answer are retried
-- with the backoff of every receiver. The rule is the database's, where the kind is known, so
-- the function keeps its signature and every caller its grant.
--
-- Secrets: service_role could SELECT secret. Now it may read every column but secret (column
-- privileges); it still inserts, updates and deletes subscriptions. Only the edge's claim (a
-- definer function) hands secrets and routing keys out, to sign or to send.

COMMENT ON COLUMN public.vantage_sync_webhooks.kind IS
  'webhook (a signed POST of the payload) or pagerduty (an Events API v2 alert; secret is the routing key).';

COMMENT ON COLUMN public.vantage_sync_webhooks.secret IS
  'The signing secret (webhook) or the routing key (pagerduty). Never readable through the API.';

-- Secrets and routing keys: written by service_role, read by no API role.
REVOKE SELECT ON TABLE public.vantage_sync_webhooks FROM service_role;

GRANT SELECT (webhook_id, url, events, resources, description, active, created_at, kind)
  ON TABLE public.vantage_sync_webhooks TO service_role;
