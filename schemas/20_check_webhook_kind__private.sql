-- What a PagerDuty subscription may be. Runs before vantage_sync_webhooks_check (triggers of
-- one event fire in name order: "by_kind" < "check"), so the default URL is set before the URL
-- is checked, and before the secret's CHECK (CHECKs run after BEFORE triggers): a bad routing
-- key gets this sentence, not 23514.
CREATE FUNCTION vantage_sync_private.check_webhook_kind()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
DECLARE
  v_triggers text[] := ARRAY['failed', 'stuck', 'repeated_failures', 'stale', 'late'];
  v_problem  text;
  v_refused  text[];
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.kind IS DISTINCT FROM OLD.kind THEN
    RAISE EXCEPTION 'a webhook subscription''s kind cannot change (it is %); create a new subscription', OLD.kind
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NEW.kind IS DISTINCT FROM 'pagerduty' THEN
    RETURN NEW;
  END IF;
  NEW.url := coalesce(NEW.url, 'https://events.pagerduty.com/v2/enqueue');
  -- The key's value is never part of the sentence: it is a credential.
  v_problem := CASE
    WHEN NEW.secret IS NULL OR NEW.secret = '' THEN 'this one is empty'
    WHEN NEW.secret !~ '^[A-Za-z0-9]*$' THEN 'this one has characters other than letters and digits'
    WHEN length(NEW.secret) <> 32 THEN format('this one has %s character%s', length(NEW.secret),
                                                CASE WHEN length(NEW.secret) = 1 THEN '' ELSE 's' END)
  END;
  IF v_problem IS NOT NULL THEN
    RAISE EXCEPTION 'a PagerDuty routing key (secret) must be the 32 letters and digits of an Events API v2 Integration Key; %', v_problem
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'In PagerDuty: the service''s Integrations tab, add an "Events API v2" integration, copy its Integration Key.';
  END IF;
  SELECT array_agg(DISTINCT e ORDER BY e) INTO v_refused
    FROM unnest(NEW.events) AS e WHERE e IN ('completed', 'slow');
  IF v_refused IS NOT NULL THEN
    RAISE EXCEPTION 'a PagerDuty subscription cannot take %: they are not incidents; its events are %',
        array_to_string(v_refused, ' or '), array_to_string(v_triggers, ', ')
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Send completed and slow to a webhook subscription; PagerDuty resolves on recovery by itself.';
  END IF;
  IF NEW.events IS NOT NULL AND NOT NEW.events && v_triggers THEN
    RAISE EXCEPTION 'a PagerDuty subscription needs at least one event that triggers, from: %', array_to_string(v_triggers, ', ')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN NEW;
END;
$$;

REVOKE ALL ON FUNCTION vantage_sync_private.check_webhook_kind() FROM PUBLIC, anon, authenticated, service_role;

CREATE TRIGGER vantage_sync_webhooks_by_kind
  BEFORE INSERT OR UPDATE OF kind, url, secret, events ON public.vantage_sync_webhooks
  FOR EACH ROW EXECUTE FUNCTION vantage_sync_private.check_webhook_kind();

