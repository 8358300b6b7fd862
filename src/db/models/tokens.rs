//! The `one_time_tokens` table: links that carry a token (verification, password reset, setup).
//! Only SHA-256 hashes are stored; consuming is one conditional UPDATE ... RETURNING.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::db::schema::one_time_tokens;
use crate::domain::{TokenId, TokenPurpose, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = one_time_tokens)]
pub struct OneTimeToken {
    pub id: TokenId,
    pub token_hash: String,
    pub purpose: String,
    pub user_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// Why a link no longer works, said on its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    Valid,
    Used,
    Expired,
    Unknown,
}

impl OneTimeToken {
    pub fn state(&self) -> TokenState {
        if self.used_at.is_some() {
            TokenState::Used
        } else if self.expires_at <= Utc::now() {
            TokenState::Expired
        } else {
            TokenState::Valid
        }
    }
}

/// Issues a token; earlier live tokens of the same purpose for the same user stop working, so
/// only the newest link is ever good.
pub fn issue(
    conn: &mut PgConnection,
    purpose: TokenPurpose,
    user: Option<UserId>,
    token_hash: &str,
    valid_for: Duration,
) -> QueryResult<OneTimeToken> {
    revoke_live(conn, purpose, user)?;
    diesel::insert_into(one_time_tokens::table)
        .values((
            one_time_tokens::id.eq(TokenId::new()),
            one_time_tokens::token_hash.eq(token_hash),
            one_time_tokens::purpose.eq(purpose.as_str()),
            one_time_tokens::user_id.eq(user),
            one_time_tokens::expires_at.eq(Utc::now() + valid_for),
        ))
        .returning(OneTimeToken::as_returning())
        .get_result(conn)
}

/// Ends every live token of this purpose for this user (or, with no user, every setup token).
pub fn revoke_live(
    conn: &mut PgConnection,
    purpose: TokenPurpose,
    user: Option<UserId>,
) -> QueryResult<usize> {
    let base = one_time_tokens::table
        .filter(one_time_tokens::purpose.eq(purpose.as_str()))
        .filter(one_time_tokens::used_at.is_null())
        .filter(one_time_tokens::expires_at.gt(diesel::dsl::now));
    match user {
        Some(user) => diesel::update(base.filter(one_time_tokens::user_id.eq(user)))
            .set(one_time_tokens::expires_at.eq(diesel::dsl::now))
            .execute(conn),
        None => diesel::update(base.filter(one_time_tokens::user_id.is_null()))
            .set(one_time_tokens::expires_at.eq(diesel::dsl::now))
            .execute(conn),
    }
}

/// Looks a token up without consuming it (GET pages).
pub fn find(
    conn: &mut PgConnection,
    purpose: TokenPurpose,
    token_hash: &str,
) -> QueryResult<Option<OneTimeToken>> {
    one_time_tokens::table
        .filter(one_time_tokens::token_hash.eq(token_hash))
        .filter(one_time_tokens::purpose.eq(purpose.as_str()))
        .select(OneTimeToken::as_select())
        .first(conn)
        .optional()
}

/// Consumes a live token in one statement; `None` when it is unknown, used or expired.
pub fn consume(
    conn: &mut PgConnection,
    purpose: TokenPurpose,
    token_hash: &str,
) -> QueryResult<Option<OneTimeToken>> {
    diesel::update(
        one_time_tokens::table
            .filter(one_time_tokens::token_hash.eq(token_hash))
            .filter(one_time_tokens::purpose.eq(purpose.as_str()))
            .filter(one_time_tokens::used_at.is_null())
            .filter(one_time_tokens::expires_at.gt(diesel::dsl::now)),
    )
    .set(one_time_tokens::used_at.eq(diesel::dsl::now))
    .returning(OneTimeToken::as_returning())
    .get_result(conn)
    .optional()
}
