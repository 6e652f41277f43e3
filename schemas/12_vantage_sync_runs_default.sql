CREATE TABLE vantage_sync_private.vantage_sync_runs_default
  PARTITION OF public.vantage_sync_runs DEFAULT;

ALTER TABLE vantage_sync_private.vantage_sync_runs_default ENABLE ROW LEVEL SECURITY;
