//! Raw SQL that diesel keeps prepared on each connection, by its text. diesel never caches
//! `sql_query` (its text could be anything, one statement per call), so a page's keyset and
//! search statements were parsed and planned on every request. These texts are few and fixed
//! (one per shape of page: first, after a key, before a key), with every value bound, so the
//! cache stays small. PostgreSQL still plans a statement afresh for values where its generic
//! plan would cost more (a search's pattern that an index can use), so nothing gets slower.

use std::marker::PhantomData;

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};
use diesel::{QueryResult, RunQueryDsl};

/// `sql_query(text).into_boxed()`, but prepared once per connection.
pub struct Sql {
    sql: String,
    binds: Vec<Box<dyn QueryFragment<Pg> + Send>>,
}

/// A statement of fixed text (its values bound as `$1`, `$2`, ...), kept prepared.
pub fn sql(text: impl Into<String>) -> Sql {
    Sql {
        sql: text.into(),
        binds: Vec::new(),
    }
}

struct Bound<ST, T> {
    value: T,
    sql_type: PhantomData<fn() -> ST>,
}

impl<ST, T> QueryFragment<Pg> for Bound<ST, T>
where
    Pg: HasSqlType<ST>,
    T: ToSql<ST, Pg>,
{
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        pass.push_bind_param::<ST, T>(&self.value)
    }
}

impl Sql {
    /// Binds the next parameter.
    pub fn bind<ST, T>(mut self, value: T) -> Self
    where
        Pg: HasSqlType<ST>,
        T: ToSql<ST, Pg> + Send + 'static,
        ST: 'static,
    {
        self.binds.push(Box::new(Bound {
            value,
            sql_type: PhantomData,
        }));
        self
    }
}

impl QueryFragment<Pg> for Sql {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // Unlike `sql_query`, no `unsafe_to_cache_prepared`: diesel caches it by its text.
        out.push_sql(&self.sql);
        // The text names its parameters itself (`$1`, some more than once). diesel writes a
        // placeholder where each value is pushed, and only its own `sql_query` may push a value
        // without one, so the placeholders go in a trailing comment, where PostgreSQL ignores
        // them; the values still go with the statement, in order.
        if !self.binds.is_empty() {
            out.push_sql(" /* ");
            for bind in &self.binds {
                bind.walk_ast(out.reborrow())?;
                out.push_sql(" ");
            }
            out.push_sql("*/");
        }
        Ok(())
    }
}

impl QueryId for Sql {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Sql {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Sql {}
