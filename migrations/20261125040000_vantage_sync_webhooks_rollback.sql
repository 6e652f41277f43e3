-- Rollback of 20261125040000_vantage_sync_webhooks.sql.
DROP FUNCTION IF EXISTS public.sweep_vantage_syncs();
DROP FUNCTION IF EXISTS public.record_vantage_sync_delivery(uuid, integer, text, integer);
DROP FUNCTION IF EXISTS public.claim_vantage_sync_deliveries(integer, interval, text);
DROP TRIGGER IF EXISTS vantage_sync_state_webhook_events ON public.vantage_sync_state;
DROP FUNCTION IF EXISTS vantage_sync_private.enqueue_transition_events();
DROP FUNCTION IF EXISTS vantage_sync_private.enqueue_webhook_event(text, text, uuid, text);
DROP TABLE IF EXISTS public.vantage_sync_webhook_attempts;
DROP TABLE IF EXISTS public.vantage_sync_webhook_deliveries;
DROP TABLE IF EXISTS public.vantage_sync_webhooks;
DROP FUNCTION IF EXISTS vantage_sync_private.check_webhook();
DROP FUNCTION IF EXISTS vantage_sync_private.webhook_url_problem(text);
