//! Superuser SQL for assertions: what the database really holds, whatever PostgREST said.

use std::collections::BTreeSet;

use serde_json::Value;
use tokio::runtime::Runtime;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Row};

use crate::error::{Error, Result};
use crate::spec::TABLE;
use crate::stack::Stack;

/// A superuser connection, driven by its own single-thread runtime so blocking tests can use it.
pub struct Db {
    // Declared before the runtime: the client is dropped while its connection task still exists.
    client: Client,
    runtime: Runtime,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Db")
    }
}

/// One row of the table, with timestamps as microseconds since the Unix epoch (exact).
#[derive(Debug, Clone, PartialEq)]
pub struct SyncState {
    /// `last_sync_status`.
    pub last_sync_status: String,
    /// `last_sync_time` (the watermark).
    pub last_sync_time_us: Option<i64>,
    /// `records_synced`.
    pub records_synced: i32,
    /// `records_created`.
    pub records_created: i32,
    /// `records_updated`.
    pub records_updated: i32,
    /// `errors`.
    pub errors: Value,
    /// `started_at`.
    pub started_at_us: Option<i64>,
    /// `completed_at`.
    pub completed_at_us: Option<i64>,
    /// `duration_ms`.
    pub duration_ms: Option<i32>,
}

impl Db {
    /// Connects to the stack's database as the superuser.
    pub fn connect(stack: &Stack) -> Result<Self> {
        Self::connect_url(stack.database_url())
    }

    /// Connects to the database at `url` (no TLS: the stack listens on 127.0.0.1).
    pub fn connect_url(url: &str) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        let (client, connection) = runtime.block_on(tokio_postgres::connect(url, NoTls))?;
        // A connection error also fails the next query, which reports it.
        runtime.spawn(async move {
            let _ = connection.await;
        });
        Ok(Self { client, runtime })
    }

    /// Runs a query and returns its rows.
    pub fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        Ok(self.runtime.block_on(self.client.query(sql, params))?)
    }

    /// Runs several statements in one round trip (simple query protocol, no parameters), such
    /// as a fixture file.
    pub fn batch(&self, sql: &str) -> Result<()> {
        Ok(self.runtime.block_on(self.client.batch_execute(sql))?)
    }

    /// Runs a query that returns exactly one row.
    pub fn query_one(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Row> {
        Ok(self.runtime.block_on(self.client.query_one(sql, params))?)
    }

    /// md5 of every row of the table (in primary-key order) and the row count: any insert,
    /// update or delete changes it.
    pub fn checksum(&self) -> Result<String> {
        self.checksum_excluding_prefix("")
    }

    /// [`Db::checksum`] over the rows whose `resource` does not start with `prefix` (all rows
    /// when it is empty): leaves out rows that concurrent tests own.
    pub fn checksum_excluding_prefix(&self, prefix: &str) -> Result<String> {
        let sql = format!(
            "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.resource), '')) \
                    || ':' || count(*) \
             FROM {TABLE} t \
             WHERE $1 = '' OR NOT starts_with(t.resource, $1)"
        );
        Ok(self.query_one(&sql, &[&prefix])?.try_get(0)?)
    }

    /// md5 of every row of every table in every schema but Postgres's own (partitioned tables
    /// once, through their parent): any write anywhere changes it.
    pub fn checksum_all_tables(&self) -> Result<String> {
        let tables = self.query(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c \
               JOIN pg_namespace n ON n.oid = c.relnamespace \
              WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition \
                AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
                AND n.nspname NOT LIKE 'pg\\_%' \
              ORDER BY 1",
            &[],
        )?;
        let mut sums = Vec::with_capacity(tables.len());
        for row in tables {
            let table: String = row.try_get(0)?;
            let sql = format!(
                "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
            );
            let sum: String = self.query_one(&sql, &[])?.try_get(0)?;
            sums.push(format!("{table}:{sum}"));
        }
        Ok(sums.join(","))
    }

    /// The `resource` of every row.
    pub fn resources(&self) -> Result<BTreeSet<String>> {
        let sql = format!("SELECT resource FROM {TABLE}");
        self.query(&sql, &[])?
            .iter()
            .map(|row| row.try_get(0).map_err(Error::from))
            .collect()
    }

    /// The row of `resource`, if there is one.
    pub fn state(&self, resource: &str) -> Result<Option<SyncState>> {
        let sql = format!(
            "SELECT last_sync_status, {}, records_synced, records_created, records_updated, \
                    errors::text, {}, {}, duration_ms \
             FROM {TABLE} WHERE resource = $1",
            epoch_us("last_sync_time"),
            epoch_us("started_at"),
            epoch_us("completed_at"),
        );
        let Some(row) = self.query(&sql, &[&resource])?.into_iter().next() else {
            return Ok(None);
        };
        let errors: String = row.try_get(5)?;
        Ok(Some(SyncState {
            last_sync_status: row.try_get(0)?,
            last_sync_time_us: row.try_get(1)?,
            records_synced: row.try_get(2)?,
            records_created: row.try_get(3)?,
            records_updated: row.try_get(4)?,
            errors: serde_json::from_str(&errors)?,
            started_at_us: row.try_get(6)?,
            completed_at_us: row.try_get(7)?,
            duration_ms: row.try_get(8)?,
        }))
    }

    /// A timestamp as PostgREST renders it (e.g. `2025-11-05T10:30:00.123+00:00`), parsed by
    /// the database, in microseconds since the Unix epoch.
    pub fn timestamp_us(&self, text: &str) -> Result<i64> {
        let sql = format!("SELECT {}", epoch_us("$1::text::timestamptz"));
        Ok(self.query_one(&sql, &[&text])?.try_get(0)?)
    }

    /// The resources among `resources` whose row differs from the matching element of
    /// `rows_json` (a JSON array of whole rows, as PostgREST returns `select=*`), or that only
    /// one side has. The database parses the JSON into its own row type, so timestamps and
    /// JSON are compared as values, not as text.
    pub fn rows_differing(&self, rows_json: &str, resources: &[&str]) -> Result<Vec<String>> {
        let resources: Vec<String> = resources.iter().map(|r| (*r).to_owned()).collect();
        let sql = format!(
            "SELECT coalesce(r.resource, t.resource) \
             FROM jsonb_populate_recordset(NULL::{TABLE}, $1::text::jsonb) r \
             FULL JOIN {TABLE} t ON t.resource = r.resource \
             WHERE coalesce(r.resource, t.resource) = ANY($2) \
               AND to_jsonb(r) IS DISTINCT FROM to_jsonb(t) \
             ORDER BY 1"
        );
        self.query(&sql, &[&rows_json, &resources])?
            .iter()
            .map(|row| row.try_get(0).map_err(Error::from))
            .collect()
    }
}

/// SQL for `column` in exact microseconds since the Unix epoch (`bigint`, NULL stays NULL).
fn epoch_us(column: &str) -> String {
    format!("(extract(epoch FROM {column}) * 1000000)::int8")
}
