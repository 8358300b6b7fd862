//! `src/db/schema.rs` is what `diesel print-schema` makes of the migrations. Checked without
//! diesel_cli: the migrated database's catalogue is compared with schema.rs read as text (each
//! `table!`: its name, primary key, and its columns in order with their SQL types, nullability
//! and maximum length).

use std::collections::BTreeMap;
use std::fmt::Write;

use diesel::sql_types::{Bool, Integer, Nullable, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

use crate::helpers::fresh_database;

const SCHEMA_RS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/db/schema.rs"));

#[derive(Debug, PartialEq, Eq)]
struct Table {
    primary_key: Vec<String>,
    columns: Vec<Column>,
}

#[derive(Debug, PartialEq, Eq)]
struct Column {
    name: String,
    /// As diesel writes it: `Nullable<Timestamptz>`, `Array<Nullable<Text>>`, `Varchar`.
    sql_type: String,
    max_length: Option<i32>,
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{} -> {}", self.name, self.sql_type)?;
        if let Some(n) = self.max_length {
            write!(f, " (max_length {n})")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- schema.rs, read as text

/// Every `table!` block in the file, by SQL name. Panics, saying where, on what it cannot read
/// (print-schema's output is regular: one declaration per line).
fn tables_in_schema_rs(source: &str) -> BTreeMap<String, Table> {
    let mut tables = BTreeMap::new();
    let mut lines = source.lines().map(str::trim).enumerate();
    while let Some((_, line)) = lines.next() {
        if !line.ends_with("table! {") {
            continue;
        }
        let mut table_sql_name = None;
        let mut header = None;
        for (number, line) in lines.by_ref() {
            if let Some(name) = sql_name_attribute(line) {
                table_sql_name = Some(name);
            } else if line.ends_with('{') && !line.starts_with("#[") && !line.starts_with("//") {
                header = Some((number, line.trim_end_matches('{').trim().to_string()));
                break;
            }
        }
        let (number, header) = header.expect("a table! block has a `name (key) {` line");
        let (name, key) = header.split_once('(').unwrap_or_else(|| {
            panic!(
                "schema.rs line {}: no primary key in {header:?}",
                number + 1
            )
        });
        let rust_name = name.trim().rsplit('.').next().unwrap().to_string();
        let primary_key: Vec<String> = key
            .trim_end_matches(')')
            .split(',')
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
            .collect();

        let mut columns = Vec::new();
        let (mut column_sql_name, mut max_length) = (None, None);
        let mut renamed = BTreeMap::new();
        for (number, line) in lines.by_ref() {
            if line == "}" {
                break;
            }
            if let Some(name) = sql_name_attribute(line) {
                column_sql_name = Some(name);
            } else if let Some(n) = line.strip_prefix("#[max_length = ") {
                max_length = Some(n.trim_end_matches(']').trim().parse().unwrap());
            } else if let Some((column, sql_type)) = line.split_once("->") {
                let rust_column = column.trim().to_string();
                let name = column_sql_name
                    .take()
                    .unwrap_or_else(|| rust_column.clone());
                renamed.insert(rust_column, name.clone());
                columns.push(Column {
                    name,
                    sql_type: sql_type.trim().trim_end_matches(',').trim().to_string(),
                    max_length: max_length.take(),
                });
            } else if !(line.is_empty()
                || line.starts_with("//")
                || line.starts_with("#[")
                || line.starts_with("use "))
            {
                panic!("schema.rs line {}: cannot read {line:?}", number + 1);
            }
        }
        let primary_key = primary_key
            .into_iter()
            .map(|k| renamed.get(&k).cloned().unwrap_or(k))
            .collect();
        tables.insert(
            table_sql_name.unwrap_or(rust_name),
            Table {
                primary_key,
                columns,
            },
        );
    }
    tables
}

/// `#[sql_name = "type"]` (print-schema renames columns and tables that are Rust keywords).
fn sql_name_attribute(line: &str) -> Option<String> {
    let value = line.strip_prefix("#[sql_name = \"")?.strip_suffix("\"]")?;
    Some(value.to_string())
}

// ---------------------------------------------------------------- the database's catalogue

#[derive(QueryableByName)]
struct CatalogueColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    udt_name: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
    #[diesel(sql_type = Nullable<Integer>)]
    max_length: Option<i32>,
}

#[derive(QueryableByName)]
struct KeyColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
}

/// The tables print-schema reads: the public schema's base tables except those named `__*`
/// (diesel's own migrations table), with their primary key and their columns in ordinal order.
fn tables_in_database(conn: &mut PgConnection) -> BTreeMap<String, Table> {
    let keys: Vec<KeyColumn> = diesel::sql_query(
        "SELECT k.table_name::text AS table_name, k.column_name::text AS column_name
         FROM information_schema.table_constraints c
         JOIN information_schema.key_column_usage k
           ON k.constraint_schema = c.constraint_schema AND k.constraint_name = c.constraint_name
          AND k.table_schema = c.table_schema AND k.table_name = c.table_name
         WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = 'public'
           AND c.table_name NOT LIKE '\\_\\_%'
         ORDER BY k.table_name, k.ordinal_position",
    )
    .load(conn)
    .unwrap();
    let columns: Vec<CatalogueColumn> = diesel::sql_query(
        "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name,
                c.udt_name::text AS udt_name, c.is_nullable = 'YES' AS nullable,
                c.character_maximum_length::int4 AS max_length
         FROM information_schema.columns c
         JOIN information_schema.tables t
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name
         WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'
           AND c.table_name NOT LIKE '\\_\\_%'
         ORDER BY c.table_name, c.ordinal_position",
    )
    .load(conn)
    .unwrap();
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for key in keys {
        tables
            .entry(key.table_name)
            .or_insert_with(|| Table {
                primary_key: Vec::new(),
                columns: Vec::new(),
            })
            .primary_key
            .push(key.column_name);
    }
    for column in columns {
        // A table without a primary key has none here: print-schema refuses such tables.
        tables
            .entry(column.table_name)
            .or_insert_with(|| Table {
                primary_key: Vec::new(),
                columns: Vec::new(),
            })
            .columns
            .push(Column {
                sql_type: diesel_type(&column.udt_name, column.nullable),
                name: column.column_name,
                max_length: column.max_length,
            });
    }
    tables
}

/// The type print-schema writes for a column: the type's name in upper camel case
/// (`timestamptz` is `Timestamptz`, an enum `workspace_role` is `WorkspaceRole`), arrays
/// (`_text`) as `Array<Nullable<Text>>`, and `Nullable<...>` around a nullable column.
fn diesel_type(udt_name: &str, nullable: bool) -> String {
    let (element, array) = match udt_name.strip_prefix('_') {
        Some(element) => (element, true),
        None => (udt_name, false),
    };
    let mut name: String = element
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first
                    .to_uppercase()
                    .chain(chars.flat_map(char::to_lowercase))
                    .collect()
            })
        })
        .collect();
    if array {
        name = format!("Array<Nullable<{name}>>");
    }
    if nullable {
        name = format!("Nullable<{name}>");
    }
    name
}

// ---------------------------------------------------------------- the comparison

/// What differs, one line each, naming the table and column.
fn differences(database: &BTreeMap<String, Table>, schema_rs: &BTreeMap<String, Table>) -> String {
    let mut out = String::new();
    for (name, table) in database {
        if table.primary_key.is_empty() {
            let _ = writeln!(
                out,
                "table {name}: has no primary key (diesel print-schema refuses such tables)"
            );
            continue;
        }
        let Some(declared) = schema_rs.get(name) else {
            let _ = writeln!(out, "table {name}: in the database, missing from schema.rs");
            continue;
        };
        if table.primary_key != declared.primary_key {
            let _ = writeln!(
                out,
                "table {name}: primary key ({}) in the database, ({}) in schema.rs",
                table.primary_key.join(", "),
                declared.primary_key.join(", ")
            );
        }
        for column in &table.columns {
            match declared.columns.iter().find(|c| c.name == column.name) {
                None => {
                    let _ = writeln!(
                        out,
                        "{name}.{}: in the database ({column}), missing from schema.rs",
                        column.name
                    );
                }
                Some(c) if c != column => {
                    let _ = writeln!(
                        out,
                        "{name}.{}: `{column}` in the database, `{c}` in schema.rs",
                        column.name
                    );
                }
                Some(_) => {}
            }
        }
        for column in &declared.columns {
            if !table.columns.iter().any(|c| c.name == column.name) {
                let _ = writeln!(
                    out,
                    "{name}.{}: in schema.rs ({column}), not in the database",
                    column.name
                );
            }
        }
        let order = |t: &Table| t.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        if out.is_empty() && order(table) != order(declared) {
            let _ = writeln!(
                out,
                "table {name}: columns in the order ({}) in the database, ({}) in schema.rs",
                order(table).join(", "),
                order(declared).join(", ")
            );
        }
    }
    for name in schema_rs.keys().filter(|n| !database.contains_key(*n)) {
        let _ = writeln!(out, "table {name}: in schema.rs, not in the database");
    }
    out
}

#[test]
fn schema_rs_declares_exactly_the_tables_and_columns_the_migrations_create() {
    let mut conn = PgConnection::establish(&fresh_database()).unwrap();
    let database = tables_in_database(&mut conn);
    let schema_rs = tables_in_schema_rs(SCHEMA_RS);
    assert!(database.contains_key("users") && schema_rs.contains_key("users"));

    let differences = differences(&database, &schema_rs);
    assert!(
        differences.is_empty(),
        "src/db/schema.rs and the migrations disagree:\n{differences}\n\
         Regenerate it from a migrated database (see \"Regenerating the schema\" in README.md):\n  \
         diesel print-schema --database-url \"$DATABASE_URL\" > src/db/schema.rs"
    );
}

#[test]
fn the_schema_check_reads_what_print_schema_writes() {
    let tables = tables_in_schema_rs(
        r#"
// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "workspace_role"))]
    pub struct WorkspaceRole;
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::WorkspaceRole;

    /// Representation of the `notes` table.
    notes (id) {
        id -> Int8,
        #[sql_name = "type"]
        type_ -> Text,
        #[max_length = 20]
        code -> Nullable<Varchar>,
        role -> WorkspaceRole,
        tags -> Array<Nullable<Text>>,
    }
}
"#,
    );
    let notes = &tables["notes"];
    assert_eq!(notes.primary_key, ["id"]);
    let read: Vec<String> = notes.columns.iter().map(|c| c.to_string()).collect();
    assert_eq!(
        read,
        [
            "id -> Int8",
            "type -> Text",
            "code -> Nullable<Varchar> (max_length 20)",
            "role -> WorkspaceRole",
            "tags -> Array<Nullable<Text>>",
        ]
    );
    assert_eq!(diesel_type("workspace_role", false), "WorkspaceRole");
    assert_eq!(
        diesel_type("_text", true),
        "Nullable<Array<Nullable<Text>>>"
    );
    assert_eq!(diesel_type("timestamptz", true), "Nullable<Timestamptz>");
}
