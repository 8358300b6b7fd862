//! Keyset paging, shared by the lists that page (Manage Users & Roles; a workspace's members,
//! requests and invitations): the SQL that starts a page of people at a key, and the rule that
//! turns one more row than a page into Previous and Next. A page costs the same whichever page
//! it is: no OFFSET, no count of the world.

use diesel::prelude::*;
use diesel::sql_types::{Text, Uuid as SqlUuid};

use crate::domain::paging::{PageKey, PageStart, Paged};

/// A row that knows its place in its list's order.
pub trait Keyed<K> {
    fn key(&self) -> K;
    fn id(&self) -> uuid::Uuid;
}

/// Rows on a page.
pub const PAGE_SIZE: i64 = 25;

/// A person's place in the order, as a page's statement returns it (`id`, `surname`,
/// `first_name`).
#[derive(QueryableByName, Debug)]
pub struct Person {
    #[diesel(sql_type = SqlUuid)]
    pub id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    pub surname: String,
    #[diesel(sql_type = Text)]
    pub first_name: String,
}

impl Keyed<PageKey> for Person {
    fn key(&self) -> PageKey {
        PageKey {
            surname: self.surname.clone(),
            first_name: self.first_name.clone(),
            id: self.id,
        }
    }

    fn id(&self) -> uuid::Uuid {
        self.id
    }
}

/// The condition and order that start a page at `start`, for a person's columns under the
/// alias `person`; the key is bound as `$n`, `$n+1`, `$n+2` (see `bind_key`). The statement
/// ends `ORDER BY {order} LIMIT {LIMIT}`.
pub fn keyset(start: &PageStart, person: &str, n: usize) -> (String, String) {
    let (cmp, direction) = match start {
        PageStart::First => (None, "ASC"),
        PageStart::After(_) => (Some(">"), "ASC"),
        PageStart::Before(_) => (Some("<"), "DESC"),
    };
    let condition = cmp.map_or_else(String::new, |cmp| {
        format!(
            " AND ({person}.surname, {person}.first_name, {person}.id) {cmp} (${n}, ${}, ${})",
            n + 1,
            n + 2
        )
    });
    let order = format!(
        "{person}.surname {direction}, {person}.first_name {direction}, {person}.id {direction}"
    );
    (condition, order)
}

/// One more than a page: whether another follows.
pub const LIMIT: i64 = PAGE_SIZE + 1;

/// Binds the key that `keyset` placed, if the page starts at one.
pub fn bind_key(statement: crate::db::cached::Sql, start: &PageStart) -> crate::db::cached::Sql {
    match start {
        PageStart::First => statement,
        PageStart::After(key) | PageStart::Before(key) => statement
            .bind::<Text, _>(key.surname.clone())
            .bind::<Text, _>(key.first_name.clone())
            .bind::<SqlUuid, _>(key.id),
    }
}

/// The page at `start`, from `fetch` (which runs the statement for a start and returns up to
/// `LIMIT` rows in the statement's order): the rows in list order, and the keys of the pages
/// either side. A Previous that reaches the beginning shows the first page whole, and a key
/// past the end (everyone after it gone) the first page too.
pub fn page<R: Keyed<K>, K: PartialEq>(
    start: &PageStart<K>,
    mut fetch: impl FnMut(&PageStart<K>) -> QueryResult<Vec<R>>,
) -> QueryResult<Paged<R, K>> {
    let mut rows = fetch(start)?;
    if rows.is_empty() && *start != PageStart::First {
        return page(&PageStart::First, fetch);
    }
    let more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    let backwards = matches!(start, PageStart::Before(_));
    if backwards {
        if !more {
            return page(&PageStart::First, fetch);
        }
        rows.reverse();
    }
    let previous = match start {
        PageStart::First => None,
        PageStart::After(_) | PageStart::Before(_) => rows.first().map(R::key),
    };
    let next = (backwards || more)
        .then(|| rows.last().map(R::key))
        .flatten();
    Ok(Paged {
        rows,
        previous,
        next,
    })
}

/// `loaded` (found by the page's ids, in any order) put in the page's order.
pub fn in_order<R: Keyed<K>, K, T>(
    page: Paged<R, K>,
    mut loaded: Vec<T>,
    id: impl Fn(&T) -> uuid::Uuid,
) -> Paged<T, K> {
    let order: Vec<uuid::Uuid> = page.rows.iter().map(R::id).collect();
    loaded.sort_by_key(|row| order.iter().position(|o| *o == id(row)));
    Paged {
        rows: loaded,
        previous: page.previous,
        next: page.next,
    }
}
