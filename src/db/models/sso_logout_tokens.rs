//! The `sso_logout_tokens` table: the `jti` of each back-channel logout token accepted, kept
//! until it could no longer pass the checks, so that a replayed token is refused.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::db::schema::sso_logout_tokens;

/// Records the token; `false` when it was seen before (a replay).
pub fn record(
    conn: &mut PgConnection,
    provider: &str,
    jti: &str,
    keep_until: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::delete(
        sso_logout_tokens::table.filter(sso_logout_tokens::expires_at.lt(diesel::dsl::now)),
    )
    .execute(conn)?;
    let added = diesel::insert_into(sso_logout_tokens::table)
        .values((
            sso_logout_tokens::provider.eq(provider),
            sso_logout_tokens::jti.eq(jti),
            sso_logout_tokens::expires_at.eq(keep_until),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(added == 1)
}
