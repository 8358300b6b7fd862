//! The `import_reports` table: the report of each person's latest finished import in an
//! organisation, as JSON, so the page after an upload is a GET (Post/Redirect/Get).

use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid};

use crate::domain::{ImportReportId, OrganisationId, UserId};

/// Keeps `report` (JSON) as this person's latest in the organisation, replacing any earlier one:
/// the file's addresses are not kept longer than the page needs them.
pub fn keep(
    conn: &mut PgConnection,
    id: ImportReportId,
    organisation: OrganisationId,
    by: UserId,
    report: &str,
) -> QueryResult<()> {
    diesel::sql_query("DELETE FROM import_reports WHERE organisation_id = $1 AND created_by = $2")
        .bind::<Uuid, _>(organisation)
        .bind::<Uuid, _>(by)
        .execute(conn)?;
    diesel::sql_query(
        "INSERT INTO import_reports (id, organisation_id, created_by, report)
         VALUES ($1, $2, $3, $4)",
    )
    .bind::<Uuid, _>(id)
    .bind::<Uuid, _>(organisation)
    .bind::<Uuid, _>(by)
    .bind::<Text, _>(report)
    .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Kept {
    #[diesel(sql_type = Text)]
    report: String,
}

/// The report with this id, if it is this person's in this organisation (anyone else's, or
/// another organisation's, is not found).
pub fn find(
    conn: &mut PgConnection,
    id: ImportReportId,
    organisation: OrganisationId,
    by: UserId,
) -> QueryResult<Option<String>> {
    let kept: Option<Kept> = diesel::sql_query(
        "SELECT report FROM import_reports
          WHERE id = $1 AND organisation_id = $2 AND created_by = $3",
    )
    .bind::<Uuid, _>(id)
    .bind::<Uuid, _>(organisation)
    .bind::<Uuid, _>(by)
    .get_result(conn)
    .optional()?;
    Ok(kept.map(|k| k.report))
}
