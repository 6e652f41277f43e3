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

REVOKE ALL ON FUNCTION vantage_sync_private.check_webhook() FROM PUBLIC, anon, authenticated, service_role;

CREATE TRIGGER vantage_sync_webhooks_check
  BEFORE INSERT OR UPDATE OF url ON public.vantage_sync_webhooks
  FOR EACH ROW EXECUTE FUNCTION vantage_sync_private.check_webhook();

