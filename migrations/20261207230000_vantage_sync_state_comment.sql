-- The table's comment said it was "written only through start/complete/fail_vantage_sync",
-- which stopped being true when the run-aware functions, abort and the sweeps arrived
-- (20261124190200 onwards) and was never true of service_role, which the spec lets write the
-- table directly. The comment now says who writes it and who reads it.

COMMENT ON TABLE public.vantage_sync_state IS
  'ETL-001: sync state per Vantage resource, one row each. Written by the state functions (start_vantage_sync_run, complete_vantage_sync, fail_vantage_sync_run, abort_vantage_sync, the sweeps and the spec''s start/complete/fail_vantage_sync), which the edge function calls for ETL jobs; service_role may also write it directly. Signed-in users read it (RLS).';
