-- Rolls back 20261207230000_vantage_sync_state_comment.sql: the spec's original comment.

COMMENT ON TABLE public.vantage_sync_state IS
  'ETL-001: sync state per Vantage resource. Written only through start/complete/fail_vantage_sync.';
