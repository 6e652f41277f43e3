-- Run history: one row per sync run, not just the last one (spec, future work 1).
--
-- Why: the state row answers "how is it now"; on-call engineers also ask "since when", "how
-- often" and "is it getting slower". The state functions write a run's row in the same
-- transaction as the state row, so the current run's row always agrees with the state row
-- (status, times, errors). Nobody else writes it.
--
-- Why partitioned by month on started_at: history grows without bound while the questions asked
-- of it are about recent runs; old months can be detached and archived in one statement. Rows
-- outside the prepared months land in a default partition, so an insert never fails for lack
-- of one; create_vantage_sync_run_partitions() prepares the coming months (schedule it monthly
-- with pg_cron, see README).
--
-- Partitions live in the private schema vantage_sync_private, which PostgREST does not expose:
-- the API reads history through the parent table and its RLS only.

CREATE SCHEMA vantage_sync_private;

REVOKE ALL ON SCHEMA vantage_sync_private FROM PUBLIC;

COMMENT ON SCHEMA vantage_sync_private IS
  'Internals of vantage sync status: run partitions and helpers. Not exposed through the API.';

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA vantage_sync_private FROM PUBLIC, anon, authenticated, service_role;

