//! Raw SQL with its values bound, kept prepared on each connection by its text (`sql`), or
//! planned afresh for its values each time (`planned`).
//!
//! diesel never caches `sql_query` (its text could be anything), so the session read, the
//! frame and the inbox were parsed and planned on every page. Their texts are fixed and their
//! best plans do not depend on the values (a key, a user, a workspace), so `sql` keeps them:
//! after a few runs PostgreSQL reuses one generic plan. Statements whose best plan does depend
//! on the values (a page of a workspace's members: fifty or a hundred thousand; a search in a
//! trust of any size) use `planned`, with the same binding, so that each run gets its own plan.

use std::marker::PhantomData;

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};
use diesel::{QueryResult, RunQueryDsl};

/// A statement and its bound values (`$1`, `$2`, ... in its text).
pub struct Sql {
    sql: String,
    binds: Vec<Box<dyn QueryFragment<Pg> + Send>>,
    /// Kept prepared by its text (`sql`), or planned for its values each run (`planned`).
    keep: bool,
}

/// A statement of fixed text, kept prepared on each connection.
pub fn sql(text: impl Into<String>) -> Sql {
    Sql {
        sql: text.into(),
        binds: Vec::new(),
        keep: true,
    }
}

/// A statement planned for its values on every run (as `sql_query` is).
pub fn planned(text: impl Into<String>) -> Sql {
    Sql {
        keep: false,
        ..sql(text)
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
        // Without `unsafe_to_cache_prepared` (which `sql_query` always says), diesel caches it
        // by its text.
        if !self.keep {
            out.unsafe_to_cache_prepared();
        }
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
