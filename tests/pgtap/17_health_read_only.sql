-- 17_health_read_only: vantage_sync_health refuses every write with 42501 (20261125020000), for
-- every role, instead of Postgres's "cannot insert into view" (which PostgREST answered 500).
-- The trigger function runs as its caller with a fixed search_path and nobody may call it.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(17);

SELECT has_trigger('public', 'vantage_sync_health', 'vantage_sync_health_read_only',
  'the health view has its read-only trigger');
SELECT is((SELECT prosecdef FROM pg_proc WHERE oid = 'public.vantage_sync_health_refuse_write()'::regprocedure),
  false, 'the trigger function is SECURITY INVOKER');
SELECT ok((SELECT proconfig @> ARRAY['search_path=""'] FROM pg_proc
            WHERE oid = 'public.vantage_sync_health_refuse_write()'::regprocedure),
  'its search_path is fixed to empty');
SELECT ok(NOT has_function_privilege(r, 'public.vantage_sync_health_refuse_write()', 'EXECUTE'),
  format('%s may not execute the trigger function', r))
  FROM unnest(ARRAY['anon', 'authenticated', 'service_role']) AS r;

-- every role, every verb: permission denied (PostgREST: 401 for anon, 403 otherwise)
CREATE FUNCTION pg_temp.as_role(p_role text, p_sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('SET LOCAL ROLE %I', p_role);
  EXECUTE p_sql;
  RESET ROLE;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  RESET ROLE;
  RETURN SQLSTATE;
END;
$$;
SELECT is(pg_temp.as_role(r, s), '42501', format('%s: %s is refused with 42501', r, s))
  FROM unnest(ARRAY['anon', 'authenticated', 'service_role']) AS r,
       unnest(ARRAY[
         $$INSERT INTO public.vantage_sync_health (resource) VALUES ('x')$$,
         $$UPDATE public.vantage_sync_health SET resource = 'x'$$,
         $$DELETE FROM public.vantage_sync_health$$]) AS s;

-- and the owner, who holds every privilege, is refused by the trigger itself
SELECT throws_ok($$DELETE FROM public.vantage_sync_health$$, '42501',
  'vantage_sync_health is read-only: sync state is written through the vantage-sync edge function',
  'even the owner cannot write through the view');
SELECT is((SELECT count(*)::int FROM vantage_sync_state), 7, 'no row was touched');

SELECT * FROM finish();
ROLLBACK;
