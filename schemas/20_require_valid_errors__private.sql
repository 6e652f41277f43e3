-- 400-class errors for bad input: a caller gets a plain sentence, not a constraint dump.
CREATE FUNCTION vantage_sync_private.require_valid_errors(p_errors jsonb)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
  IF p_errors IS NULL THEN
    RETURN '[]'::jsonb;
  END IF;
  IF jsonb_typeof(p_errors) <> 'array' THEN
    RAISE EXCEPTION 'errors must be a JSON array of objects, got a JSON %', jsonb_typeof(p_errors)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_errors) AS e WHERE jsonb_typeof(e) <> 'object') THEN
    RAISE EXCEPTION 'errors must be a JSON array of objects, like [{"code": "API_TIMEOUT", "message": "..."}]'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN p_errors;
END;
$$;

