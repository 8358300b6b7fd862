//! The `specialties` table: NHS Data Dictionary treatment functions, seeded by a migration.

use diesel::prelude::*;

use crate::db::schema::specialties;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = specialties)]
pub struct Specialty {
    pub code: String,
    pub name: String,
}

pub fn all(conn: &mut PgConnection) -> QueryResult<Vec<Specialty>> {
    specialties::table
        .select(Specialty::as_select())
        .order(specialties::name)
        .load(conn)
}
