-- fail_vantage_sync, answering what the policy does next: the edge's fail in one call.
CREATE FUNCTION public.fail_vantage_sync_run(
  p_resource          text,
  p_errors            jsonb,
  p_run_id            uuid DEFAULT NULL,
  OUT run_id          uuid,
  OUT attempt         integer,
  OUT max_attempts    integer,
  OUT will_retry      boolean,
  OUT next_attempt_at timestamptz
)
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
  PERFORM public.fail_vantage_sync(p_resource, p_errors, p_run_id);
  SELECT s.current_run_id, s.consecutive_failures, p.max_attempts,
         s.next_attempt_at IS NOT NULL, s.next_attempt_at
    INTO run_id, attempt, max_attempts, will_retry, next_attempt_at
    FROM public.vantage_sync_state AS s
   CROSS JOIN public.vantage_sync_retry_policy(p_resource) AS p
   WHERE s.resource = p_resource;
END;
$$;

COMMENT ON FUNCTION public.fail_vantage_sync_run(text, jsonb, uuid) IS
  'fail_vantage_sync, returning the failed run, its attempt number and whether and when the retry policy allows the next.';

REVOKE ALL ON FUNCTION public.fail_vantage_sync_run(text, jsonb, uuid) FROM PUBLIC, anon, authenticated;

GRANT EXECUTE ON FUNCTION public.fail_vantage_sync_run(text, jsonb, uuid) TO service_role;

