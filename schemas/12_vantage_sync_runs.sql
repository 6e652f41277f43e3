CREATE TABLE public.vantage_sync_runs (
  run_id            uuid        NOT NULL,
  resource          text        NOT NULL,
  status            text        NOT NULL,
  started_at        timestamptz NOT NULL,
  completed_at      timestamptz NULL,
  duration_ms       integer     NULL,
  -- NULL when the run completed without counts (0 while it runs).
  records_synced    integer     NULL DEFAULT 0,
  records_created   integer     NULL DEFAULT 0,
  records_updated   integer     NULL DEFAULT 0,
  errors            jsonb       NOT NULL DEFAULT '[]'::jsonb,
  attempt           integer     NOT NULL DEFAULT 1,
  last_heartbeat_at timestamptz NULL,
  records_so_far    bigint      NULL,

  -- The partition key must be part of the primary key; run ids are random UUIDs.
  CONSTRAINT vantage_sync_runs_pkey PRIMARY KEY (run_id, started_at),
  CONSTRAINT vantage_sync_runs_status_check CHECK (status IN ('running', 'success', 'failed')),
  CONSTRAINT vantage_sync_runs_completed_iff_finished
    CHECK ((status = 'running') = (completed_at IS NULL)),
  CONSTRAINT vantage_sync_runs_timerange CHECK (completed_at IS NULL OR completed_at >= started_at),
  CONSTRAINT vantage_sync_runs_records_check
    CHECK (records_synced >= 0 AND records_created >= 0 AND records_updated >= 0),
  CONSTRAINT vantage_sync_runs_duration_ms_check CHECK (duration_ms >= 0),
  CONSTRAINT vantage_sync_runs_errors_is_array CHECK (jsonb_typeof(errors) = 'array'),
  CONSTRAINT vantage_sync_runs_attempt_check CHECK (attempt >= 1),
  CONSTRAINT vantage_sync_runs_records_so_far_check CHECK (records_so_far >= 0)
) PARTITION BY RANGE (started_at);

ALTER TABLE public.vantage_sync_runs ENABLE ROW LEVEL SECURITY;

COMMENT ON TABLE public.vantage_sync_runs IS
  'One row per sync run, written only by the state functions in the same transaction as the state row.';

-- "The last 20 runs of this resource", the widget's history bar and every trend query.
CREATE INDEX vantage_sync_runs_resource_started ON public.vantage_sync_runs (resource, started_at DESC);

-- Privileges: everyone signed in may read history; nobody but the state functions writes it
-- (they are SECURITY DEFINER, owned by the migration's role).
REVOKE ALL ON TABLE public.vantage_sync_runs FROM PUBLIC, anon, authenticated, service_role;

GRANT SELECT ON TABLE public.vantage_sync_runs TO authenticated, service_role;

CREATE POLICY vantage_sync_runs_select_all ON public.vantage_sync_runs
  FOR SELECT TO authenticated, service_role
  USING (true);

COMMENT ON COLUMN public.vantage_sync_runs.attempt IS
  'Attempt number within the current failure streak: 1 after a success, n + 1 after n failures in a row.';

COMMENT ON COLUMN public.vantage_sync_runs.last_heartbeat_at IS
  'When this run last reported progress; NULL when it never did.';

COMMENT ON COLUMN public.vantage_sync_runs.records_so_far IS
  'Records this run said it had synced in its last heartbeat; NULL when none said.';

COMMENT ON COLUMN public.vantage_sync_runs.records_synced IS
  'Records the run synced as its completion reported them; NULL when it completed without counts (0 while running).';
