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

REVOKE ALL ON FUNCTION vantage_sync_private.webhook_url_problem(text) FROM PUBLIC, anon, authenticated, service_role;

