//! refinery's history table, `refinery_schema_history(version, name, applied_on, checksum)`.
//!
//! dbtool creates it with refinery's own definition, writes a row per applied migration,
//! deletes rows on rollback and rewrites checksums on repair, always in refinery's exact
//! formats: `applied_on` as RFC 3339 text and `checksum` as decimal text, because refinery
//! unwraps both when it reads them.
//!
//! Every statement names the table with its schema, resolved once per run before any
//! migration runs: a migration that changes `search_path` (a `pg_dump` file empties it)
//! cannot hide the table from its own bookkeeping. An unqualified name resolves to the
//! session's `current_schema()`, which is where refinery's unqualified statements put it.

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::error::Error;

/// refinery's table name, the default.
pub const DEFAULT_TABLE: &str = "refinery_schema_history";

/// The table as configured (`--history-table`): a name, optionally with its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    pub schema: Option<String>,
    pub name: String,
}

impl Default for TableName {
    fn default() -> Self {
        TableName {
            schema: None,
            name: DEFAULT_TABLE.to_owned(),
        }
    }
}

impl std::str::FromStr for TableName {
    type Err = String;

    /// `name` or `schema.name`, unquoted SQL identifiers (folded to lower case, as
    /// PostgreSQL folds them).
    fn from_str(text: &str) -> Result<TableName, String> {
        let parts: Vec<&str> = text.split('.').collect();
        let valid = |part: &str| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
                && part.len() <= 63
        };
        match parts.as_slice() {
            [name] if valid(name) => Ok(TableName {
                schema: None,
                name: name.to_ascii_lowercase(),
            }),
            [schema, name] if valid(schema) && valid(name) => Ok(TableName {
                schema: Some(schema.to_ascii_lowercase()),
                name: name.to_ascii_lowercase(),
            }),
            _ => Err(format!(
                "{text:?} is not a table name: expected name or schema.name, letters, digits and _"
            )),
        }
    }
}

/// The history table with its schema resolved: every statement names both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub schema: String,
    pub name: String,
}

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i32,
    pub name: String,
    pub applied_on: String,
    pub checksum: u64,
}

impl AppliedMigration {
    pub fn label(&self) -> String {
        format!("V{}__{}", self.version, self.name)
    }
}

fn quote_identifier(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Now, in the RFC 3339 text refinery writes and reads.
pub fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

impl Table {
    /// Resolves `configured` for this session: its own schema, or `current_schema()`.
    pub async fn resolve(client: &Client, configured: &TableName) -> Result<Table, Error> {
        let schema = match &configured.schema {
            Some(schema) => schema.clone(),
            None => {
                let row = client
                    .query_one("SELECT current_schema()::text", &[])
                    .await
                    .map_err(|e| Error::database("finding the current schema", e))?;
                row.get::<_, Option<String>>(0).ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "no schema on the search_path can hold {}: give it one with \
                         --history-table schema.{}",
                        configured.name, configured.name
                    ))
                })?
            }
        };
        Ok(Table {
            schema,
            name: configured.name.clone(),
        })
    }

    /// `"schema"."name"`.
    pub fn qualified(&self) -> String {
        format!(
            "{}.{}",
            quote_identifier(&self.schema),
            quote_identifier(&self.name)
        )
    }

    /// refinery's own definition of the table (its `int4` version type).
    pub fn create_sql(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {}(\n    version int4 PRIMARY KEY,\n    name VARCHAR(255),\n    applied_on VARCHAR(255),\n    checksum VARCHAR(255))",
            self.qualified()
        )
    }

    /// The row refinery would write for an applied migration.
    pub fn insert_sql(&self, version: i32, name: &str, applied_on: &str, checksum: u64) -> String {
        format!(
            "INSERT INTO {} (version, name, applied_on, checksum) VALUES ({version}, {}, {}, '{checksum}')",
            self.qualified(),
            quote_literal(name),
            quote_literal(applied_on),
        )
    }

    /// `DELETE` of one version's row, as SQL text (it runs in the rollback's pipeline).
    pub fn delete_sql(&self, version: i32) -> String {
        format!("DELETE FROM {} WHERE version = {version}", self.qualified())
    }

    /// Reads the table; `None` when it does not exist (nothing applied yet).
    pub async fn read(&self, client: &Client) -> Result<Option<Vec<AppliedMigration>>, Error> {
        let query = format!(
            "SELECT version, name, applied_on, checksum FROM {} ORDER BY version ASC",
            self.qualified()
        );
        match client.simple_query(&query).await {
            Ok(messages) => parse_rows(&messages, self).map(Some),
            Err(err)
                if matches!(
                    err.code(),
                    Some(c) if *c == SqlState::UNDEFINED_TABLE || *c == SqlState::INVALID_SCHEMA_NAME
                ) =>
            {
                Ok(None)
            }
            Err(err) => Err(Error::database(
                &format!("reading {}", self.qualified()),
                err,
            )),
        }
    }

    /// Creates the table (refinery's definition), and its schema when that is missing
    /// (only then: creating a schema needs a privilege an existing one does not).
    pub async fn create(&self, client: &Client) -> Result<(), Error> {
        let schema_exists: bool = client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)",
                &[&self.schema],
            )
            .await
            .map_err(|e| Error::database("looking for the history table's schema", e))?
            .get(0);
        let mut sql = String::new();
        if !schema_exists {
            sql = format!(
                "CREATE SCHEMA IF NOT EXISTS {};\n",
                quote_identifier(&self.schema)
            );
        }
        sql.push_str(&self.create_sql());
        client
            .batch_execute(&sql)
            .await
            .map_err(|e| Error::database(&format!("creating {}", self.qualified()), e))
    }

    /// Rewrites the name and checksum of an applied version (repair).
    pub async fn update_checksum(
        &self,
        client: &Client,
        version: i32,
        name: &str,
        checksum: u64,
    ) -> Result<u64, Error> {
        client
            .execute(
                &format!(
                    "UPDATE {} SET name = $1, checksum = $2 WHERE version = $3",
                    self.qualified()
                ),
                &[&name, &checksum.to_string(), &version],
            )
            .await
            .map_err(|e| Error::database(&format!("updating {}", self.qualified()), e))
    }
}

/// Turns simple-query rows into history rows, refusing values refinery could not read.
fn parse_rows(
    messages: &[SimpleQueryMessage],
    table: &Table,
) -> Result<Vec<AppliedMigration>, Error> {
    let bad = |what: String| Error::Database {
        context: format!("reading {}", table.qualified()),
        message: what,
    };
    let mut rows = Vec::new();
    for message in messages {
        let SimpleQueryMessage::Row(row) = message else {
            continue;
        };
        let version = row
            .get(0)
            .and_then(|v| v.parse::<i32>().ok())
            .ok_or_else(|| bad(format!("row with an unreadable version: {:?}", row.get(0))))?;
        let checksum = row
            .get(3)
            .and_then(|c| c.parse::<u64>().ok())
            .ok_or_else(|| bad(format!("version {version} has an unreadable checksum")))?;
        let applied_on = row.get(2).unwrap_or_default().to_owned();
        if OffsetDateTime::parse(&applied_on, &Rfc3339).is_err() {
            return Err(bad(format!(
                "applied_on of version {version} is not RFC 3339: {applied_on:?}"
            )));
        }
        rows.push(AppliedMigration {
            version,
            name: row.get(1).unwrap_or_default().to_owned(),
            applied_on,
            checksum,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_parse_like_unquoted_identifiers() {
        let ok: &[(&str, Option<&str>, &str)] = &[
            ("refinery_schema_history", None, "refinery_schema_history"),
            ("Ops.History", Some("ops"), "history"),
            ("_a$1", None, "_a$1"),
        ];
        for (text, schema, name) in ok {
            let parsed: TableName = text.parse().expect(text);
            assert_eq!(parsed.schema.as_deref(), *schema, "{text}");
            assert_eq!(parsed.name, *name, "{text}");
        }
        for bad in ["", "a.b.c", "1abc", "a b", "a;drop", "\"x\"", "a."] {
            assert!(bad.parse::<TableName>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn statements_name_the_schema() {
        let table = Table {
            schema: "we\"ird".into(),
            name: "h".into(),
        };
        assert_eq!(table.qualified(), "\"we\"\"ird\".\"h\"");
        assert_eq!(
            table.insert_sql(3, "it's", "2026-01-01T00:00:00Z", 42),
            "INSERT INTO \"we\"\"ird\".\"h\" (version, name, applied_on, checksum) VALUES (3, 'it''s', '2026-01-01T00:00:00Z', '42')"
        );
        assert!(table
            .create_sql()
            .starts_with("CREATE TABLE IF NOT EXISTS \"we\"\"ird\".\"h\"("));
    }
}
