//! Edition queries.

use async_graphql::{Context, Object, Result};
use entity::edition;
use sea_orm::{ColumnTrait, Order, QueryFilter};

use super::types::{Edition, EditionConnection};
use crate::error::AppError;
use crate::graphql::connection::{OrderDirection, PageArgs, cost, order_with_tiebreak, paginate};
use crate::graphql::context::req;
use crate::policy::scope;

/// Edition queries.
#[derive(Default)]
pub struct EditionQuery;

#[Object]
impl EditionQuery {
    /// Editions, newest title year first unless `direction` says otherwise.
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    async fn editions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return at most this many rows from the start (default 20, max 100).")]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return at most this many rows from the end (max 100).")] last: Option<
            i32,
        >,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
        #[graphql(desc = "Order by title year in this direction (default: descending).")]
        direction: Option<OrderDirection>,
    ) -> Result<Option<EditionConnection>> {
        let rc = req(ctx);
        let order = order_with_tiebreak(
            vec![(
                edition::Column::TitleYear,
                direction.map(|d| d.sql()).unwrap_or(Order::Desc),
            )],
            (edition::Column::TitleYear, Order::Desc),
            edition::Column::Id,
        )?;
        let args = PageArgs::new(first, after, last, before);
        let (page, total) = paginate(rc.db(), scope::editions(&rc.actor), order, &args).await?;
        Ok(Some(EditionConnection::from_page(
            page,
            total,
            Edition::from,
        )))
    }

    /// The edition of a title year (NOT_FOUND if there is none).
    async fn edition(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The title year, e.g. 2024.")] year: i32,
    ) -> Result<Option<Edition>> {
        let rc = req(ctx);
        let found = scope::editions(&rc.actor)
            .filter(edition::Column::TitleYear.eq(year))
            .one(rc.db())
            .await
            .map_err(AppError::from)?
            .ok_or_else(|| AppError::NotFound(format!("there is no {year} edition")))?;
        Ok(Some(found.into()))
    }
}
