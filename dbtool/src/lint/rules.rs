//! The lint's rules: what each one flags, why it hurts a live table, what to do instead;
//! and the statement reader that finds them.
//!
//! Reading stops at the keywords the rules need (`CREATE INDEX … ON t`, `ALTER TABLE t ADD
//! …`); anything else passes. A table created (or dropped) in the same file is not live, so
//! no rule applies to it.

use super::tokens::{Kind, Token};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Fails the lint (exit 15).
    Error,
    /// Printed, but does not fail the lint.
    Warning,
}

/// One rule: its id (used in output and in ignore comments), why the statement hurts a
/// live table, and the safe way to do the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    /// Completes a sentence whose subject is the statement ("CREATE INDEX on t …").
    pub reason: &'static str,
    /// The safe pattern, as an imperative.
    pub instead: &'static str,
}

pub const RULES: &[Rule] = &[
    Rule {
        id: "index-without-concurrently",
        severity: Severity::Error,
        reason: "blocks every write to the table (SHARE lock) for the whole index build",
        instead: "use CREATE INDEX CONCURRENTLY, alone in a file whose first line is \
                  `-- dbtool:no-transaction`",
    },
    Rule {
        id: "drop-index-without-concurrently",
        severity: Severity::Error,
        reason: "takes an ACCESS EXCLUSIVE lock on the index's table: it queues behind every \
                 running query and blocks all reads and writes while it waits",
        instead: "use DROP INDEX CONCURRENTLY in a file whose first line is \
                  `-- dbtool:no-transaction`",
    },
    Rule {
        id: "reindex-without-concurrently",
        severity: Severity::Error,
        reason: "blocks writes to the table, and reads that use the index, for the whole rebuild",
        instead: "use REINDEX … CONCURRENTLY (PostgreSQL 12+) in a file whose first line is \
                  `-- dbtool:no-transaction`",
    },
    Rule {
        id: "needs-no-transaction",
        severity: Severity::Error,
        reason: "cannot run inside a transaction block, and this file runs in one",
        instead: "make `-- dbtool:no-transaction` the file's first line, and keep its \
                  statements safe to run again",
    },
    Rule {
        id: "foreign-key-without-not-valid",
        severity: Severity::Error,
        reason: "blocks writes to both tables (SHARE ROW EXCLUSIVE) while every row is checked",
        instead: "add the constraint with NOT VALID (ALTER TABLE … ADD CONSTRAINT … FOREIGN KEY \
                  … NOT VALID), then VALIDATE CONSTRAINT in a later migration",
    },
    Rule {
        id: "check-without-not-valid",
        severity: Severity::Error,
        reason: "blocks reads and writes (ACCESS EXCLUSIVE) while every row is checked",
        instead: "add the constraint with NOT VALID (ALTER TABLE … ADD CONSTRAINT … CHECK (…) \
                  NOT VALID), then VALIDATE CONSTRAINT in a later migration",
    },
    Rule {
        id: "unique-constraint-without-index",
        severity: Severity::Error,
        reason: "builds its index under an ACCESS EXCLUSIVE lock, blocking reads and writes for \
                 the whole build",
        instead: "CREATE UNIQUE INDEX CONCURRENTLY first (in a no-transaction file), then ADD \
                  CONSTRAINT … UNIQUE USING INDEX (or PRIMARY KEY USING INDEX)",
    },
    Rule {
        id: "column-type-change",
        severity: Severity::Error,
        reason: "rewrites the table and rebuilds its indexes under an ACCESS EXCLUSIVE lock, \
                 blocking reads and writes throughout (only a few changes skip the rewrite: \
                 varchar(n) to a larger n, to varchar or to text, and numeric(p,s) to a larger p \
                 with the same s or to numeric)",
        instead: "add a new column, backfill it in batches, move the application to it, then \
                  drop the old one; for a change that skips the rewrite, silence the rule",
    },
    Rule {
        id: "set-not-null",
        severity: Severity::Error,
        reason: "blocks reads and writes (ACCESS EXCLUSIVE) while every row is scanned",
        instead: "ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT c in \
                  a later migration, then SET NOT NULL (PostgreSQL 12+ trusts the validated \
                  check and skips the scan) and DROP CONSTRAINT c",
    },
    Rule {
        id: "volatile-default",
        severity: Severity::Error,
        reason: "computes a value for every existing row, rewriting the whole table under an \
                 ACCESS EXCLUSIVE lock (a constant or stable default, such as now(), is free \
                 since PostgreSQL 11)",
        instead: "add the column without that default (or with a constant one), then SET \
                  DEFAULT for new rows and backfill existing rows in batches",
    },
    Rule {
        id: "not-null-without-default",
        severity: Severity::Error,
        reason: "fails on any table that has rows, since they would hold NULL",
        instead: "give the column a constant DEFAULT, or add it nullable, backfill it and set NOT \
                  NULL as the set-not-null rule describes",
    },
    Rule {
        id: "vacuum-full",
        severity: Severity::Error,
        reason: "rewrites the table under an ACCESS EXCLUSIVE lock, blocking reads and writes \
                 throughout",
        instead: "leave space to plain VACUUM (autovacuum), or use pg_repack outside migrations",
    },
    Rule {
        id: "cluster",
        severity: Severity::Error,
        reason: "rewrites the table under an ACCESS EXCLUSIVE lock, blocking reads and writes \
                 throughout",
        instead: "use pg_repack outside migrations",
    },
    Rule {
        id: "lock-table",
        severity: Severity::Error,
        reason: "holds its lock (ACCESS EXCLUSIVE unless a mode is given) until the migration \
                 commits, and every query on the table queues behind it",
        instead: "let each statement take the lock it needs, and keep the migration short",
    },
    Rule {
        id: "refresh-without-concurrently",
        severity: Severity::Error,
        reason: "blocks every read of the view (ACCESS EXCLUSIVE) until the refresh is done",
        instead: "use REFRESH MATERIALIZED VIEW CONCURRENTLY (the view needs a unique index)",
    },
    Rule {
        id: "detach-partition-without-concurrently",
        severity: Severity::Error,
        reason: "takes an ACCESS EXCLUSIVE lock on the partitioned table",
        instead: "use DETACH PARTITION … CONCURRENTLY (PostgreSQL 14+) in a file whose first \
                  line is `-- dbtool:no-transaction`",
    },
    Rule {
        id: "validate-in-same-transaction",
        severity: Severity::Error,
        reason: "runs in the transaction that added the constraint, so the lock ADD CONSTRAINT \
                 took (ACCESS EXCLUSIVE for CHECK, SHARE ROW EXCLUSIVE for FOREIGN KEY) is held \
                 for the whole scan",
        instead: "VALIDATE CONSTRAINT in a later migration, where it only takes a SHARE UPDATE \
                  EXCLUSIVE lock that lets reads and writes go on",
    },
    Rule {
        id: "rename-column",
        severity: Severity::Warning,
        reason: "breaks every running copy of the application that still uses the old name",
        instead: "add the new column, write both, move reads, then drop the old one; or rename \
                  only once no deployed code uses the old name",
    },
    Rule {
        id: "rename-table",
        severity: Severity::Warning,
        reason: "breaks every running copy of the application that still uses the old name",
        instead: "rename only once no deployed code uses the old name (a view with the old name \
                  can bridge the deploy)",
    },
    Rule {
        id: "unknown-lint-rule",
        severity: Severity::Error,
        reason: "silences nothing",
        instead: "use a rule id from `dbtool lint --rules`",
    },
];

pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// Functions whose value differs per row: as a new column's default they force a rewrite.
const VOLATILE_FUNCTIONS: &[&str] = &[
    "random",
    "random_normal",
    "clock_timestamp",
    "timeofday",
    "gen_random_uuid",
    "gen_random_bytes",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "nextval",
];

const SERIAL_TYPES: &[&str] = &[
    "serial",
    "serial2",
    "serial4",
    "serial8",
    "smallserial",
    "bigserial",
];

/// A relation name, schema-qualified or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub schema: Option<String>,
    pub name: String,
}

impl Name {
    /// The same relation, as far as the text can tell: equal names, and equal schemas when
    /// both are given.
    fn matches(&self, other: &Name) -> bool {
        self.name == other.name
            && match (&self.schema, &other.schema) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// What one file has done so far: relations it created or drops (not live), constraints it
/// added NOT VALID.
#[derive(Debug, Default)]
pub struct FileState {
    pub no_transaction: bool,
    new_relations: Vec<Name>,
    dropped_tables: Vec<Name>,
    new_indexes: Vec<Name>,
    not_valid: Vec<(Name, String)>,
}

impl FileState {
    pub fn new(no_transaction: bool) -> FileState {
        FileState {
            no_transaction,
            ..FileState::default()
        }
    }

    fn is_new(&self, table: &Name) -> bool {
        self.new_relations.iter().any(|t| t.matches(table))
    }

    fn is_dropped(&self, table: &Name) -> bool {
        self.dropped_tables.iter().any(|t| t.matches(table))
    }
}

/// What earlier migrations established, carried from file to file in version order.
#[derive(Debug, Clone, Default)]
pub struct Knowledge {
    /// Each index's table, from CREATE INDEX.
    index_tables: Vec<(Name, Name)>,
    /// `CHECK (col IS NOT NULL)` constraints: table, constraint, column.
    not_null_checks: Vec<(Name, String, String)>,
    /// Columns a validated `CHECK (col IS NOT NULL)` covers: SET NOT NULL skips the scan.
    proven_not_null: Vec<(Name, String)>,
}

/// One rule broken at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub rule: &'static str,
    /// Byte offset in the file.
    pub offset: usize,
    /// The statement, as the subject of the rule's reason ("CREATE INDEX on info").
    pub what: String,
}

/// Records what a statement creates or drops before any rule runs, so that a statement
/// earlier in the file than `DROP TABLE t` still counts `t` as going away.
pub fn prepare(tokens: &[Token], file: &mut FileState) {
    let mut i = 0;
    if !(word(tokens, i, "drop") && word(tokens, i + 1, "table")) {
        return;
    }
    i += 2;
    if word(tokens, i, "if") && word(tokens, i + 1, "exists") {
        i += 2;
    }
    while let Some(name) = qualified_name(tokens, &mut i) {
        file.dropped_tables.push(name);
        if !tokens.get(i).is_some_and(|t| t.is_punct(',')) {
            break;
        }
        i += 1;
    }
}

/// The rules one statement breaks; updates what the file and earlier files established.
pub fn check(tokens: &[Token], file: &mut FileState, known: &mut Knowledge) -> Vec<Hit> {
    let mut hits = Vec::new();
    let Some(first) = tokens.first() else {
        return hits;
    };
    let at = first.offset;
    let mut hit = |rule: &'static str, offset: usize, what: String| {
        hits.push(Hit { rule, offset, what });
    };
    let w = |i: usize, keyword: &str| word(tokens, i, keyword);

    if w(0, "create") {
        let mut i = 1;
        if w(i, "or") && w(i + 1, "replace") {
            i += 2;
        }
        while ["global", "local", "temp", "temporary", "unlogged"]
            .iter()
            .any(|k| w(i, k))
        {
            i += 1;
        }
        if w(i, "table") || (w(i, "materialized") && w(i + 1, "view")) {
            i += if w(i, "table") { 1 } else { 2 };
            if w(i, "if") && w(i + 1, "not") && w(i + 2, "exists") {
                i += 3;
            }
            if let Some(name) = qualified_name(tokens, &mut i) {
                file.new_relations.push(name);
            }
        } else if w(i, "index") || (w(i, "unique") && w(i + 1, "index")) {
            create_index(tokens, i, file, known, &mut hit);
        }
    } else if w(0, "drop") && w(1, "index") {
        let mut i = 2;
        let concurrently = w(i, "concurrently");
        if concurrently {
            i += 1;
            if !file.no_transaction {
                hit("needs-no-transaction", at, "DROP INDEX CONCURRENTLY".into());
            }
        }
        if w(i, "if") && w(i + 1, "exists") {
            i += 2;
        }
        let mut live = Vec::new();
        while let Some(index) = qualified_name(tokens, &mut i) {
            let table = known
                .index_tables
                .iter()
                .rev()
                .find(|(ix, _)| ix.matches(&index))
                .map(|(_, t)| t);
            let not_live = file.new_indexes.iter().any(|ix| ix.matches(&index))
                || table.is_some_and(|t| file.is_new(t) || file.is_dropped(t));
            if !not_live {
                live.push(index.to_string());
            }
            if !tokens.get(i).is_some_and(|t| t.is_punct(',')) {
                break;
            }
            i += 1;
        }
        if !concurrently && !live.is_empty() {
            hit(
                "drop-index-without-concurrently",
                at,
                format!("DROP INDEX {}", live.join(", ")),
            );
        }
    } else if w(0, "reindex") {
        let concurrently = tokens.iter().any(|t| t.is("concurrently"));
        let system = tokens.iter().any(|t| t.is("system"));
        if concurrently && !file.no_transaction {
            hit("needs-no-transaction", at, "REINDEX … CONCURRENTLY".into());
        } else if !concurrently && !system {
            hit("reindex-without-concurrently", at, "REINDEX".into());
        }
    } else if w(0, "vacuum") {
        if !file.no_transaction {
            hit("needs-no-transaction", at, "VACUUM".into());
        }
        if vacuum_is_full(tokens) {
            hit("vacuum-full", at, "VACUUM FULL".into());
        }
    } else if w(0, "cluster") {
        hit("cluster", at, "CLUSTER".into());
    } else if w(0, "lock") {
        let mut i = 1;
        if w(i, "table") {
            i += 1;
        }
        if w(i, "only") {
            i += 1;
        }
        let mut live = Vec::new();
        while let Some(table) = qualified_name(tokens, &mut i) {
            if !file.is_new(&table) {
                live.push(table.to_string());
            }
            if tokens.get(i).is_some_and(|t| t.is_operator("*")) {
                i += 1;
            }
            if !tokens.get(i).is_some_and(|t| t.is_punct(',')) {
                break;
            }
            i += 1;
        }
        if !live.is_empty() {
            hit("lock-table", at, format!("LOCK TABLE {}", live.join(", ")));
        }
    } else if w(0, "refresh") && w(1, "materialized") && w(2, "view") {
        let mut i = 3;
        let concurrently = w(i, "concurrently");
        if concurrently {
            i += 1;
        }
        if let Some(view) = qualified_name(tokens, &mut i) {
            if !concurrently && !file.is_new(&view) {
                hit(
                    "refresh-without-concurrently",
                    at,
                    format!("REFRESH MATERIALIZED VIEW {view}"),
                );
            }
        }
    } else if w(0, "alter") && w(1, "table") {
        alter_table(tokens, file, known, &mut hit);
    }
    hits
}

fn create_index(
    tokens: &[Token],
    mut i: usize,
    file: &mut FileState,
    known: &mut Knowledge,
    hit: &mut impl FnMut(&'static str, usize, String),
) {
    let at = tokens[0].offset;
    let w = |i: usize, keyword: &str| word(tokens, i, keyword);
    i += if w(i, "unique") { 2 } else { 1 };
    let concurrently = w(i, "concurrently");
    if concurrently {
        i += 1;
    }
    if w(i, "if") && w(i + 1, "not") && w(i + 2, "exists") {
        i += 3;
    }
    let index = if w(i, "on") {
        None
    } else {
        qualified_name(tokens, &mut i)
    };
    if !w(i, "on") {
        return;
    }
    i += 1;
    if w(i, "only") {
        i += 1;
    }
    let Some(table) = qualified_name(tokens, &mut i) else {
        return;
    };
    let new_table = file.is_new(&table);
    if let Some(index) = index {
        // An index lives in its table's schema.
        let index = Name {
            schema: table.schema.clone(),
            name: index.name,
        };
        if new_table {
            file.new_indexes.push(index.clone());
        }
        known.index_tables.push((index, table.clone()));
    }
    if concurrently && !file.no_transaction {
        hit(
            "needs-no-transaction",
            at,
            "CREATE INDEX CONCURRENTLY".into(),
        );
    } else if !concurrently && !new_table {
        hit(
            "index-without-concurrently",
            at,
            format!("CREATE INDEX on {table}"),
        );
    }
}

fn alter_table(
    tokens: &[Token],
    file: &mut FileState,
    known: &mut Knowledge,
    hit: &mut impl FnMut(&'static str, usize, String),
) {
    let w = |i: usize, keyword: &str| word(tokens, i, keyword);
    let mut i = 2;
    if w(i, "all") {
        return;
    }
    if w(i, "if") && w(i + 1, "exists") {
        i += 2;
    }
    if w(i, "only") {
        i += 1;
    }
    let Some(table) = qualified_name(tokens, &mut i) else {
        return;
    };
    if tokens.get(i).is_some_and(|t| t.is_operator("*")) {
        i += 1;
    }
    let new_table = file.is_new(&table);
    let mut hits = Vec::new();
    for action in split_top_level(&tokens[i..]) {
        alter_action(action, &table, file, known, &mut |rule, offset, what| {
            hits.push((rule, offset, what));
        });
    }
    if !new_table && !file.is_dropped(&table) {
        for (rule, offset, what) in hits {
            hit(rule, offset, what);
        }
    }
}

fn alter_action(
    action: &[Token],
    table: &Name,
    file: &mut FileState,
    known: &mut Knowledge,
    hit: &mut impl FnMut(&'static str, usize, String),
) {
    let Some(first) = action.first() else {
        return;
    };
    let at = first.offset;
    let w = |i: usize, keyword: &str| word(action, i, keyword);
    if w(0, "add") {
        let constraint_start = [
            "constraint",
            "check",
            "foreign",
            "unique",
            "primary",
            "exclude",
        ];
        if w(1, "column") {
            add_column(&action[2..], at, table, hit);
        } else if constraint_start.iter().any(|k| w(1, k)) {
            add_constraint(&action[1..], at, table, file, known, hit);
        } else {
            add_column(&action[1..], at, table, hit);
        }
    } else if w(0, "alter") {
        let mut i = if w(1, "column") { 2 } else { 1 };
        let Some(column) = action.get(i).and_then(Token::identifier) else {
            return;
        };
        i += 1;
        if w(i, "type") || (w(i, "set") && w(i + 1, "data") && w(i + 2, "type")) {
            hit(
                "column-type-change",
                at,
                format!("ALTER COLUMN {table}.{column} TYPE"),
            );
        } else if w(i, "set") && w(i + 1, "not") && w(i + 2, "null") {
            let proven = known
                .proven_not_null
                .iter()
                .any(|(t, c)| t.matches(table) && *c == column);
            if !proven {
                hit(
                    "set-not-null",
                    at,
                    format!("SET NOT NULL on {table}.{column}"),
                );
            }
        }
    } else if w(0, "validate") && w(1, "constraint") {
        let Some(constraint) = action.get(2).and_then(Token::identifier) else {
            return;
        };
        let added_here = file
            .not_valid
            .iter()
            .any(|(t, c)| t.matches(table) && *c == constraint);
        if added_here && !file.no_transaction {
            hit(
                "validate-in-same-transaction",
                at,
                format!("VALIDATE CONSTRAINT {constraint} on {table}"),
            );
        }
        let proven: Vec<_> = known
            .not_null_checks
            .iter()
            .filter(|(t, c, _)| t.matches(table) && *c == constraint)
            .map(|(_, _, column)| (table.clone(), column.clone()))
            .collect();
        known.proven_not_null.extend(proven);
    } else if w(0, "rename") {
        if w(1, "to") {
            let new = action
                .get(2)
                .and_then(Token::identifier)
                .unwrap_or_default();
            hit(
                "rename-table",
                at,
                format!("RENAME of table {table} to {new}"),
            );
        } else if !w(1, "constraint") {
            let i = if w(1, "column") { 2 } else { 1 };
            let old = action
                .get(i)
                .and_then(Token::identifier)
                .unwrap_or_default();
            let new = action
                .get(i + 2)
                .and_then(Token::identifier)
                .unwrap_or_default();
            hit(
                "rename-column",
                at,
                format!("RENAME of column {table}.{old} to {new}"),
            );
        }
    } else if w(0, "detach") && w(1, "partition") {
        if action.iter().any(|t| t.is("concurrently")) {
            if !file.no_transaction {
                hit(
                    "needs-no-transaction",
                    at,
                    "DETACH PARTITION … CONCURRENTLY".into(),
                );
            }
        } else if !action.iter().any(|t| t.is("finalize")) {
            hit(
                "detach-partition-without-concurrently",
                at,
                format!("DETACH PARTITION from {table}"),
            );
        }
    }
}

/// `ADD [COLUMN] [IF NOT EXISTS] name type [constraints…]`, from after `COLUMN`.
fn add_column(
    def: &[Token],
    at: usize,
    table: &Name,
    hit: &mut impl FnMut(&'static str, usize, String),
) {
    let w = |i: usize, keyword: &str| word(def, i, keyword);
    let mut i = 0;
    if w(i, "if") && w(i + 1, "not") && w(i + 2, "exists") {
        i += 3;
    }
    let Some(column) = def.get(i).and_then(Token::identifier) else {
        return;
    };
    let rest = &def[i + 1..];
    let subject = format!("ADD COLUMN {table}.{column}");
    let top = top_level_indexes(rest);
    let top_word = |keyword: &str| top.iter().position(|&k| rest[k].is(keyword));

    let serial = rest
        .first()
        .filter(|t| t.kind == Kind::Word)
        .map(|t| t.text.to_ascii_lowercase())
        .filter(|t| SERIAL_TYPES.contains(&t.as_str()));
    let default = top_word("default");
    let volatile = default.and_then(|d| {
        let start = top[d] + 1;
        let end = top[d + 1..]
            .iter()
            .copied()
            .find(|&k| is_column_constraint_start(rest, k))
            .unwrap_or(rest.len());
        rest[start..end].windows(2).find_map(|pair| {
            let name = pair[0].identifier()?;
            (pair[0].kind == Kind::Word
                && pair[1].is_punct('(')
                && VOLATILE_FUNCTIONS.contains(&name.as_str()))
            .then_some(name)
        })
    });
    let generated = top_word("generated");
    let identity = generated.is_some_and(|g| rest[top[g]..].iter().any(|t| t.is("identity")));
    let stored = generated.is_some_and(|g| rest[top[g]..].iter().any(|t| t.is("stored")));
    let not_null = top
        .windows(2)
        .any(|k| rest[k[0]].is("not") && rest[k[1]].is("null"));

    if let Some(serial) = serial {
        hit("volatile-default", at, format!("{subject} {serial}"));
    } else if let Some(function) = volatile {
        hit(
            "volatile-default",
            at,
            format!("{subject} with DEFAULT {function}()"),
        );
    } else if identity {
        hit(
            "volatile-default",
            at,
            format!("{subject} GENERATED AS IDENTITY"),
        );
    } else if stored {
        hit(
            "volatile-default",
            at,
            format!("{subject} GENERATED … STORED"),
        );
    } else if not_null && default.is_none() {
        hit(
            "not-null-without-default",
            at,
            format!("{subject} NOT NULL without a DEFAULT"),
        );
    }
    if top_word("references").is_some() {
        hit(
            "foreign-key-without-not-valid",
            at,
            format!("{subject} … REFERENCES"),
        );
    }
    if top_word("check").is_some() {
        hit("check-without-not-valid", at, format!("{subject} … CHECK"));
    }
    if top_word("unique").is_some() || top_word("primary").is_some() {
        hit(
            "unique-constraint-without-index",
            at,
            format!("{subject} … UNIQUE/PRIMARY KEY"),
        );
    }
}

fn is_column_constraint_start(tokens: &[Token], k: usize) -> bool {
    const STARTS: &[&str] = &[
        "not",
        "null",
        "check",
        "references",
        "unique",
        "primary",
        "constraint",
        "generated",
        "collate",
        "deferrable",
        "initially",
    ];
    STARTS.iter().any(|s| tokens[k].is(s))
}

/// `ADD [CONSTRAINT name] CHECK|FOREIGN KEY|UNIQUE|PRIMARY KEY …`, from after `ADD`.
fn add_constraint(
    def: &[Token],
    at: usize,
    table: &Name,
    file: &mut FileState,
    known: &mut Knowledge,
    hit: &mut impl FnMut(&'static str, usize, String),
) {
    let w = |i: usize, keyword: &str| word(def, i, keyword);
    let mut i = 0;
    let mut name = None;
    if w(0, "constraint") {
        name = def.get(1).and_then(Token::identifier);
        i = 2;
    }
    let top = top_level_indexes(def);
    let not_valid = top
        .windows(2)
        .any(|k| def[k[0]].is("not") && def[k[1]].is("valid"));
    let using_index = top
        .windows(2)
        .any(|k| def[k[0]].is("using") && def[k[1]].is("index"));
    let label = name
        .as_deref()
        .map_or(String::new(), |n| format!(" CONSTRAINT {n}"));
    if w(i, "check") {
        let column = not_null_check_column(&def[i + 1..]);
        let name = name
            .clone()
            .or_else(|| column.as_ref().map(|c| format!("{}_{c}_check", table.name)));
        if let (Some(name), Some(column)) = (&name, &column) {
            known
                .not_null_checks
                .push((table.clone(), name.clone(), column.clone()));
            if !not_valid {
                known.proven_not_null.push((table.clone(), column.clone()));
            }
        }
        if not_valid {
            if let Some(name) = name {
                file.not_valid.push((table.clone(), name));
            }
        } else {
            hit(
                "check-without-not-valid",
                at,
                format!("ADD{label} CHECK on {table}"),
            );
        }
    } else if w(i, "foreign") {
        if not_valid {
            if let Some(name) = name {
                file.not_valid.push((table.clone(), name));
            }
        } else {
            hit(
                "foreign-key-without-not-valid",
                at,
                format!("ADD{label} FOREIGN KEY on {table}"),
            );
        }
    } else if (w(i, "unique") || w(i, "primary")) && !using_index {
        let kind = if w(i, "unique") {
            "UNIQUE"
        } else {
            "PRIMARY KEY"
        };
        hit(
            "unique-constraint-without-index",
            at,
            format!("ADD{label} {kind} on {table}"),
        );
    }
}

/// The column of `(col IS NOT NULL)`, the check the safe SET NOT NULL pattern adds, from
/// the tokens after `CHECK`.
fn not_null_check_column(after_check: &[Token]) -> Option<String> {
    let close = matching_paren(after_check, 0)?;
    let mut inner = &after_check[1..close];
    while inner.first().is_some_and(|t| t.is_punct('('))
        && matching_paren(inner, 0) == Some(inner.len() - 1)
    {
        inner = &inner[1..inner.len() - 1];
    }
    match inner {
        [column, is, not, null] if is.is("is") && not.is("not") && null.is("null") => {
            column.identifier()
        }
        _ => None,
    }
}

/// Index of the `)` matching the `(` at `open`.
fn matching_paren(tokens: &[Token], open: usize) -> Option<usize> {
    if !tokens.get(open)?.is_punct('(') {
        return None;
    }
    let mut depth = 0usize;
    for (k, t) in tokens.iter().enumerate().skip(open) {
        if t.is_punct('(') || t.is_punct('[') {
            depth += 1;
        } else if t.is_punct(')') || t.is_punct(']') {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return Some(k);
            }
        }
    }
    None
}

/// Indexes of the tokens outside any parentheses.
fn top_level_indexes(tokens: &[Token]) -> Vec<usize> {
    let mut depth = 0usize;
    let mut out = Vec::new();
    for (k, t) in tokens.iter().enumerate() {
        if t.is_punct('(') || t.is_punct('[') {
            depth += 1;
        } else if t.is_punct(')') || t.is_punct(']') {
            depth = depth.saturating_sub(1);
        } else if depth == 0 {
            out.push(k);
        }
    }
    out
}

/// Splits ALTER TABLE's actions at the commas outside parentheses.
fn split_top_level<'t, 'a>(tokens: &'t [Token<'a>]) -> Vec<&'t [Token<'a>]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (k, t) in tokens.iter().enumerate() {
        if t.is_punct('(') || t.is_punct('[') {
            depth += 1;
        } else if t.is_punct(')') || t.is_punct(']') {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && (t.is_punct(',') || t.is_punct(';')) {
            parts.push(&tokens[start..k]);
            start = k + 1;
        }
    }
    parts.push(&tokens[start..]);
    parts
}

fn vacuum_is_full(tokens: &[Token]) -> bool {
    if word(tokens, 1, "full") {
        return true;
    }
    if !tokens.get(1).is_some_and(|t| t.is_punct('(')) {
        return false;
    }
    let end = matching_paren(tokens, 1).unwrap_or(tokens.len());
    tokens[2..end].iter().enumerate().any(|(k, t)| {
        t.is("full")
            && !tokens
                .get(2 + k + 1)
                .is_some_and(|v| v.is("false") || v.is("off") || v.text == "0")
    })
}

fn word(tokens: &[Token], i: usize, keyword: &str) -> bool {
    tokens.get(i).is_some_and(|t| t.is(keyword))
}

/// `name`, `schema.name` or `db.schema.name` at `i`; moves `i` past it.
fn qualified_name(tokens: &[Token], i: &mut usize) -> Option<Name> {
    let mut parts = vec![tokens.get(*i)?.identifier()?];
    let mut k = *i + 1;
    while tokens.get(k).is_some_and(|t| t.is_punct('.')) {
        parts.push(tokens.get(k + 1)?.identifier()?);
        k += 2;
    }
    *i = k;
    let name = parts.pop()?;
    Some(Name {
        schema: parts.pop(),
        name,
    })
}
