-- vantage_sync_health refuses writes as a permission problem, not as a server error.
--
-- Why: the view is not automatically updatable (it joins and aggregates), and Postgres decides
-- that while rewriting the statement, before it looks at privileges. So a POST, PATCH or
-- DELETE on /vantage_sync_health, even from an anonymous caller, came back from PostgREST as
-- HTTP 500 with Postgres's own text ("cannot insert into view ..."). The reliability suite's
-- attack matrix found it. With INSTEAD OF triggers the rewriter lets the statement through to
-- the privilege check, which refuses it (42501: PostgREST answers 401 to anon, 403 to a user)
-- before the trigger could run; nobody holds INSERT, UPDATE or DELETE on the view. Should a
-- grant ever appear by mistake, the trigger itself refuses with the same SQLSTATE.
CREATE FUNCTION public.vantage_sync_health_refuse_write()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
  RAISE EXCEPTION 'vantage_sync_health is read-only: sync state is written through the vantage-sync edge function'
    USING ERRCODE = '42501';
END;
$$;

COMMENT ON FUNCTION public.vantage_sync_health_refuse_write() IS
  'INSTEAD OF trigger of vantage_sync_health: the view is read-only (42501 for any write).';

REVOKE ALL ON FUNCTION public.vantage_sync_health_refuse_write() FROM PUBLIC, anon, authenticated, service_role;

CREATE TRIGGER vantage_sync_health_read_only
  INSTEAD OF INSERT OR UPDATE OR DELETE ON public.vantage_sync_health
  FOR EACH ROW EXECUTE FUNCTION public.vantage_sync_health_refuse_write();

