//! A snapshot of a database's schema from PostgreSQL's catalogs, and the differences
//! between two, for `dbtool check`.
//!
//! Covered: schemas, extensions, tables (kind, persistence, partitioning, row security,
//! options), their columns (type, nullability, default, identity, generated expression,
//! collation), constraints (`pg_get_constraintdef`), indexes (`pg_get_indexdef`, validity),
//! views and materialized views (definition), sequences, functions, procedures and
//! aggregates (`pg_get_functiondef`), triggers, policies, rules, and types (enums with
//! their labels in order, domains with their constraints, ranges, composite types).
//! Everything in `pg_catalog`, `information_schema` and the `pg_*` schemas is left out, and
//! so are objects that belong to an extension and the history table. Owners and privileges
//! are not compared: whoever runs the check owns the scratch database. A column's position
//! is not compared either, since a dropped column can only come back at the end.

use std::collections::BTreeMap;

use tokio_postgres::Client;

use crate::error::Error;

/// What an object is; the order is the order differences are listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Schema,
    Extension,
    Type,
    Table,
    Column,
    Constraint,
    Index,
    Sequence,
    View,
    MaterializedView,
    Function,
    Procedure,
    Aggregate,
    Trigger,
    Policy,
    Rule,
}

impl Kind {
    fn from_tag(tag: &str) -> Option<Kind> {
        Some(match tag {
            "schema" => Kind::Schema,
            "extension" => Kind::Extension,
            "type" => Kind::Type,
            "table" => Kind::Table,
            "column" => Kind::Column,
            "constraint" => Kind::Constraint,
            "index" => Kind::Index,
            "sequence" => Kind::Sequence,
            "view" => Kind::View,
            "materialized view" => Kind::MaterializedView,
            "function" => Kind::Function,
            "procedure" => Kind::Procedure,
            "aggregate" => Kind::Aggregate,
            "trigger" => Kind::Trigger,
            "policy" => Kind::Policy,
            "rule" => Kind::Rule,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Schema => "schema",
            Kind::Extension => "extension",
            Kind::Type => "type",
            Kind::Table => "table",
            Kind::Column => "column",
            Kind::Constraint => "constraint",
            Kind::Index => "index",
            Kind::Sequence => "sequence",
            Kind::View => "view",
            Kind::MaterializedView => "materialized view",
            Kind::Function => "function",
            Kind::Procedure => "procedure",
            Kind::Aggregate => "aggregate",
            Kind::Trigger => "trigger",
            Kind::Policy => "policy",
            Kind::Rule => "rule",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One object of the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub kind: Kind,
    /// Qualified as PostgreSQL quotes it: `public.info`, `public.info.note`,
    /// `public.f(integer)`.
    pub name: String,
    /// A short description worth printing with the name (a column's type).
    pub summary: Option<String>,
    /// Everything compared, as text.
    pub definition: String,
}

impl std::fmt::Display for Object {
    /// `column public.info.note (text)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.name)?;
        if let Some(summary) = &self.summary {
            write!(f, " ({summary})")?;
        }
        Ok(())
    }
}

/// Every object of a database's schema, by kind and name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub objects: BTreeMap<(Kind, String), Object>,
}

impl Snapshot {
    pub fn from_objects(objects: impl IntoIterator<Item = Object>) -> Snapshot {
        Snapshot {
            objects: objects
                .into_iter()
                .map(|o| ((o.kind, o.name.clone()), o))
                .collect(),
        }
    }

    /// True when nothing but `public` (and extensions every new database has) exists.
    pub fn is_empty_database(&self) -> bool {
        self.objects.values().all(|o| match o.kind {
            Kind::Schema => o.name == "public",
            Kind::Extension => o.name == "plpgsql",
            _ => false,
        })
    }
}

/// How `actual` differs from `expected`, one object at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// In `expected` only.
    Missing(Object),
    /// In `actual` only.
    Extra(Object),
    /// In both, defined differently.
    Changed { expected: Object, actual: Object },
}

/// Differences in kind order, then name order.
pub fn diff(expected: &Snapshot, actual: &Snapshot) -> Vec<Difference> {
    let mut keys: Vec<&(Kind, String)> = expected
        .objects
        .keys()
        .chain(actual.objects.keys())
        .collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(
            |key| match (expected.objects.get(key), actual.objects.get(key)) {
                (Some(e), None) => Some(Difference::Missing(e.clone())),
                (None, Some(a)) => Some(Difference::Extra(a.clone())),
                (Some(e), Some(a)) if e.definition != a.definition || e.summary != a.summary => {
                    Some(Difference::Changed {
                        expected: e.clone(),
                        actual: a.clone(),
                    })
                }
                _ => None,
            },
        )
        .collect()
}

/// A short account of how two definitions differ: both in full when short, otherwise the
/// first line that differs.
pub fn describe_change(expected: &str, actual: &str) -> String {
    const SHORT: usize = 100;
    if expected.len() <= SHORT
        && actual.len() <= SHORT
        && !expected.contains('\n')
        && !actual.contains('\n')
    {
        return format!("was `{expected}`, now `{actual}`");
    }
    let mut expected_lines = expected.lines();
    let mut actual_lines = actual.lines();
    let mut line = 1;
    loop {
        match (expected_lines.next(), actual_lines.next()) {
            (Some(e), Some(a)) if e == a => line += 1,
            (e, a) => {
                let show = |text: Option<&str>| {
                    text.map_or("(nothing)".to_owned(), |t| {
                        let t = t.trim();
                        if t.chars().count() > SHORT {
                            format!("`{}…`", t.chars().take(SHORT).collect::<String>())
                        } else {
                            format!("`{t}`")
                        }
                    })
                };
                return format!("line {line} was {}, now {}", show(e), show(a));
            }
        }
    }
}

/// Relations to leave out of every snapshot: `(schema, name)`, any schema when `None`.
#[derive(Debug, Clone, Default)]
pub struct Exclude {
    pub relations: Vec<(Option<String>, String)>,
}

/// Reads the schema of the database `client` is connected to.
pub async fn snapshot(client: &Client, exclude: &Exclude) -> Result<Snapshot, Error> {
    let excluded: Vec<String> = exclude
        .relations
        .iter()
        .map(|(schema, name)| format!("{}.{}", schema.as_deref().unwrap_or("*"), name))
        .collect();
    let rows = client
        .query(SNAPSHOT_SQL, &[&excluded])
        .await
        .map_err(|e| Error::database("reading the schema for the round-trip check", e))?;
    let mut objects = Vec::with_capacity(rows.len());
    for row in rows {
        let tag: String = row.get(0);
        let Some(kind) = Kind::from_tag(&tag) else {
            continue;
        };
        objects.push(Object {
            kind,
            name: row.get(1),
            summary: row.get(2),
            definition: row.get::<_, Option<String>>(3).unwrap_or_default(),
        });
    }
    Ok(Snapshot::from_objects(objects))
}

/// One query for the whole snapshot: kind, name, summary, definition. `$1` lists the
/// excluded relations as `schema.name` (`*.name` for any schema).
const SNAPSHOT_SQL: &str = r#"
WITH
ns AS (
    SELECT n.oid, n.nspname
    FROM pg_namespace n
    WHERE n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\_%'
),
ext_member AS (
    SELECT d.classid, d.objid FROM pg_depend d WHERE d.deptype = 'e'
),
rel AS (
    SELECT c.oid, c.relname, c.relkind, c.relpersistence, c.relrowsecurity,
           c.relforcerowsecurity, c.reloptions, c.relpartbound, c.relispartition,
           ns.nspname,
           quote_ident(ns.nspname) || '.' || quote_ident(c.relname) AS qname
    FROM pg_class c
    JOIN ns ON ns.oid = c.relnamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext_member e
                      WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid)
      AND NOT (ns.nspname || '.' || c.relname = ANY ($1::text[])
               OR '*.' || c.relname = ANY ($1::text[]))
)
SELECT 'schema', quote_ident(ns.nspname), NULL::text, ''
FROM ns
WHERE NOT EXISTS (SELECT 1 FROM ext_member e
                  WHERE e.classid = 'pg_namespace'::regclass AND e.objid = ns.oid)

UNION ALL
SELECT 'extension', quote_ident(x.extname), NULL,
       'version ' || x.extversion || ' in schema ' || quote_ident(n.nspname)
FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace

UNION ALL
SELECT CASE r.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'table' END,
       r.qname, NULL,
       concat_ws(' ',
           CASE r.relkind WHEN 'p' THEN 'partitioned table' WHEN 'f' THEN 'foreign table'
                          WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' ELSE 'table' END,
           CASE r.relpersistence WHEN 'u' THEN 'unlogged' END,
           'partition by ' || pg_get_partkeydef(r.oid),
           'partition of ' || (SELECT string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno)
                               FROM pg_inherits i WHERE i.inhrelid = r.oid AND r.relispartition),
           pg_get_expr(r.relpartbound, r.oid),
           'inherits ' || (SELECT string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno)
                           FROM pg_inherits i WHERE i.inhrelid = r.oid AND NOT r.relispartition),
           CASE WHEN r.relrowsecurity THEN 'row level security' END,
           CASE WHEN r.relforcerowsecurity THEN 'forced' END,
           'with (' || array_to_string(r.reloptions, ', ') || ')',
           CASE WHEN r.relkind IN ('v', 'm') THEN 'as ' || pg_get_viewdef(r.oid, true) END)
FROM rel r
WHERE r.relkind IN ('r', 'p', 'f', 'v', 'm')

UNION ALL
SELECT 'column', r.qname || '.' || quote_ident(a.attname),
       format_type(a.atttypid, a.atttypmod),
       concat_ws(' ',
           format_type(a.atttypid, a.atttypmod),
           CASE WHEN a.attcollation <> t.typcollation
                THEN 'collate ' || (SELECT quote_ident(co.collname) FROM pg_collation co
                                    WHERE co.oid = a.attcollation) END,
           CASE WHEN a.attnotnull THEN 'not null' END,
           CASE WHEN a.attgenerated = 's' THEN 'generated always as (' || pg_get_expr(d.adbin, d.adrelid) || ') stored'
                WHEN a.attgenerated <> '' THEN 'generated always as (' || pg_get_expr(d.adbin, d.adrelid) || ')'
                ELSE 'default ' || pg_get_expr(d.adbin, d.adrelid) END,
           CASE a.attidentity WHEN 'a' THEN 'generated always as identity'
                              WHEN 'd' THEN 'generated by default as identity' END)
FROM rel r
JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE r.relkind IN ('r', 'p', 'f')

UNION ALL
SELECT 'constraint', r.qname || '.' || quote_ident(con.conname), NULL,
       pg_get_constraintdef(con.oid)
FROM pg_constraint con
JOIN rel r ON r.oid = con.conrelid
WHERE con.contype <> 'n'

UNION ALL
SELECT 'index', quote_ident(r.nspname) || '.' || quote_ident(ic.relname), NULL,
       pg_get_indexdef(i.indexrelid)
       || CASE WHEN NOT i.indisvalid THEN ' (invalid)' ELSE '' END
       || CASE WHEN i.indisclustered THEN ' (clustered)' ELSE '' END
FROM pg_index i
JOIN rel r ON r.oid = i.indrelid
JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint con
                  WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                    AND con.contype IN ('p', 'u', 'x'))

UNION ALL
SELECT 'sequence', r.qname, NULL,
       concat_ws(' ',
           'as ' || format_type(s.seqtypid, NULL),
           'increment ' || s.seqincrement,
           'minvalue ' || s.seqmin,
           'maxvalue ' || s.seqmax,
           'start ' || s.seqstart,
           'cache ' || s.seqcache,
           CASE WHEN s.seqcycle THEN 'cycle' END,
           (SELECT 'owned by ' || d.refobjid::regclass::text || '.' || quote_ident(a.attname)
            FROM pg_depend d
            JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
            WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid
              AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'
            LIMIT 1))
FROM rel r
JOIN pg_sequence s ON s.seqrelid = r.oid
WHERE r.relkind = 'S'
  -- An identity column's sequence belongs to the column: compared there.
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid AND d.deptype = 'i')

UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
       quote_ident(ns.nspname) || '.' || quote_ident(p.proname)
           || '(' || pg_get_function_identity_arguments(p.oid) || ')',
       NULL,
       CASE WHEN p.prokind = 'a' THEN
           (SELECT concat_ws(' ',
                'aggregate sfunc ' || ag.aggtransfn::regproc::text,
                'stype ' || format_type(ag.aggtranstype, NULL),
                'finalfunc ' || NULLIF(ag.aggfinalfn::oid, 0)::regproc::text,
                'combinefunc ' || NULLIF(ag.aggcombinefn::oid, 0)::regproc::text,
                'initcond ' || ag.agginitval)
            FROM pg_aggregate ag WHERE ag.aggfnoid = p.oid)
       ELSE pg_get_functiondef(p.oid) END
FROM pg_proc p
JOIN ns ON ns.oid = p.pronamespace
WHERE NOT EXISTS (SELECT 1 FROM ext_member e
                  WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid)

UNION ALL
SELECT 'trigger', r.qname || '.' || quote_ident(tg.tgname), NULL,
       pg_get_triggerdef(tg.oid)
       || CASE tg.tgenabled WHEN 'D' THEN ' (disabled)' WHEN 'R' THEN ' (replica)'
                            WHEN 'A' THEN ' (always)' ELSE '' END
FROM pg_trigger tg
JOIN rel r ON r.oid = tg.tgrelid
WHERE NOT tg.tgisinternal

UNION ALL
SELECT 'policy', r.qname || '.' || quote_ident(pol.polname), NULL,
       concat_ws(' ',
           CASE WHEN pol.polpermissive THEN 'permissive' ELSE 'restrictive' END,
           'for ' || CASE pol.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert'
                                     WHEN 'w' THEN 'update' WHEN 'd' THEN 'delete' ELSE 'all' END,
           'to ' || (SELECT string_agg(role, ', ' ORDER BY role)
                     FROM (SELECT CASE WHEN ro = 0 THEN 'public'
                                       ELSE quote_ident(pg_get_userbyid(ro)::text) END AS role
                           FROM unnest(pol.polroles) AS ro) AS roles),
           'using (' || pg_get_expr(pol.polqual, pol.polrelid) || ')',
           'with check (' || pg_get_expr(pol.polwithcheck, pol.polrelid) || ')')
FROM pg_policy pol
JOIN rel r ON r.oid = pol.polrelid

UNION ALL
SELECT 'rule', r.qname || '.' || quote_ident(rw.rulename), NULL, pg_get_ruledef(rw.oid, true)
FROM pg_rewrite rw
JOIN rel r ON r.oid = rw.ev_class
WHERE rw.rulename <> '_RETURN'

UNION ALL
SELECT 'type', quote_ident(ns.nspname) || '.' || quote_ident(t.typname),
       CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain'
                      WHEN 'r' THEN 'range' ELSE 'composite' END,
       CASE t.typtype
           WHEN 'e' THEN
               'enum (' || (SELECT string_agg(quote_literal(en.enumlabel), ', ' ORDER BY en.enumsortorder)
                            FROM pg_enum en WHERE en.enumtypid = t.oid) || ')'
           WHEN 'd' THEN
               concat_ws(' ',
                   'domain over ' || format_type(t.typbasetype, t.typtypmod),
                   CASE WHEN t.typnotnull THEN 'not null' END,
                   'default ' || t.typdefault,
                   (SELECT string_agg(quote_ident(con.conname) || ' ' || pg_get_constraintdef(con.oid), ', '
                                      ORDER BY con.conname)
                    FROM pg_constraint con WHERE con.contypid = t.oid))
           WHEN 'r' THEN
               (SELECT 'range of ' || format_type(rg.rngsubtype, NULL)
                FROM pg_range rg WHERE rg.rngtypid = t.oid)
           ELSE
               'composite (' || (SELECT string_agg(quote_ident(a.attname) || ' '
                                                   || format_type(a.atttypid, a.atttypmod), ', '
                                                   ORDER BY a.attnum)
                                 FROM pg_attribute a
                                 WHERE a.attrelid = t.typrelid AND a.attnum > 0
                                   AND NOT a.attisdropped) || ')'
       END
FROM pg_type t
JOIN ns ON ns.oid = t.typnamespace
WHERE (t.typtype IN ('e', 'd', 'r')
       OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))
  AND NOT EXISTS (SELECT 1 FROM ext_member e
                  WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid)
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn object(kind: Kind, name: &str, definition: &str) -> Object {
        Object {
            kind,
            name: name.into(),
            summary: None,
            definition: definition.into(),
        }
    }

    #[test]
    fn diff_names_missing_extra_and_changed_objects_in_kind_order() {
        let before = Snapshot::from_objects([
            object(Kind::Table, "public.info", "table"),
            Object {
                summary: Some("text".into()),
                ..object(Kind::Column, "public.info.note", "text")
            },
            object(Kind::Function, "public.f()", "BEGIN RETURN 1; END"),
        ]);
        let after = Snapshot::from_objects([
            object(Kind::Table, "public.info", "table"),
            object(Kind::Index, "public.info_idx", "CREATE INDEX …"),
            object(Kind::Function, "public.f()", "BEGIN RETURN 2; END"),
        ]);
        let found: Vec<String> = diff(&before, &after)
            .iter()
            .map(|d| match d {
                Difference::Missing(o) => format!("missing {o}"),
                Difference::Extra(o) => format!("extra {o}"),
                Difference::Changed { expected, .. } => format!("changed {expected}"),
            })
            .collect();
        assert_eq!(
            found,
            [
                "missing column public.info.note (text)",
                "extra index public.info_idx",
                "changed function public.f()"
            ]
        );
        assert_eq!(diff(&before, &before), []);
    }

    #[test]
    fn describe_change_shows_short_definitions_whole_and_long_ones_by_line() {
        assert_eq!(
            describe_change("text", "character varying(10)"),
            "was `text`, now `character varying(10)`"
        );
        let old = "CREATE FUNCTION f()\n RETURNS int\nAS $$ SELECT 1 $$";
        let new = "CREATE FUNCTION f()\n RETURNS int\nAS $$ SELECT 2 $$";
        assert_eq!(
            describe_change(old, new),
            "line 3 was `AS $$ SELECT 1 $$`, now `AS $$ SELECT 2 $$`"
        );
        assert_eq!(
            describe_change("a\nb", "a\nb\nc"),
            "line 3 was (nothing), now `c`"
        );
    }

    #[test]
    fn an_empty_database_has_only_public_and_plpgsql() {
        let empty = Snapshot::from_objects([
            object(Kind::Schema, "public", ""),
            object(Kind::Extension, "plpgsql", "version 1.0"),
        ]);
        assert!(empty.is_empty_database());
        let mut used = empty.clone();
        used.objects.insert(
            (Kind::Table, "public.t".into()),
            object(Kind::Table, "public.t", "table"),
        );
        assert!(!used.is_empty_database());
    }
}
