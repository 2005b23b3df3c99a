//! The public list of title holders ("BSR Cultural Pearls"), readable without signing in.
//!
//! A Pearl is the public face of an awarded application: it is read through the anonymous
//! visitor's scope whoever asks, so it can never show more than the public may see.

use std::collections::HashMap;

use async_graphql::{ComplexObject, Context, ID, Object, Result, SimpleObject};
use entity::{application, edition};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder, Select};
use uuid::Uuid;

use crate::error::AppResult;
use crate::graphql::context::req;
use crate::graphql::ids;
use crate::graphql::loaders::OrganisationById;
use crate::graphql::scalars::Timestamp;
use crate::organisations::types::Organisation;
use crate::policy::{Actor, scope};

/// A municipality holding the title "BSR Cultural Pearl" of one year.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Pearl {
    /// Opaque global id.
    pub id: ID,
    /// The title year.
    pub title_year: i32,
    /// The title of its application.
    pub title: String,
    /// When the title was awarded (null for title holders imported without history).
    pub awarded_at: Option<Timestamp>,
    /// Whether its title year is under way or over.
    pub title_year_status: crate::graphql::enums::ApplicationStatus,
    #[graphql(skip)]
    pub municipality_id: Uuid,
}

#[ComplexObject]
impl Pearl {
    /// The municipality (the lead of the application).
    async fn municipality(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        Ok(req(ctx)
            .loaders
            .load_one(OrganisationById(self.municipality_id))
            .await?
            .map(Organisation::from))
    }
}

/// The Pearls among the applications `narrow` selects, newest title year first, then by title.
pub async fn pearls(
    db: &DatabaseConnection,
    narrow: impl FnOnce(Select<application::Entity>) -> Select<application::Entity>,
) -> AppResult<Vec<Pearl>> {
    let public = Actor::Anonymous;
    let apps = narrow(scope::applications(&public))
        .order_by_asc(application::Column::Title)
        .order_by_asc(application::Column::Id)
        .all(db)
        .await?;
    let years: HashMap<Uuid, i32> = scope::editions(&public)
        .filter(edition::Column::Id.is_in(apps.iter().map(|a| a.edition_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e.title_year))
        .collect();
    let awarded: HashMap<Uuid, Timestamp> = scope::award_records()
        .filter(
            entity::application_status_change::Column::ApplicationId
                .is_in(apps.iter().map(|a| a.id)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.application_id, c.effective_at.into()))
        .collect();
    let mut out: Vec<Pearl> = apps
        .into_iter()
        .map(|a| Pearl {
            id: ids::encode("Pearl", a.id),
            title_year: years.get(&a.edition_id).copied().unwrap_or_default(),
            awarded_at: awarded.get(&a.id).copied(),
            title: a.title,
            title_year_status: a.status.into(),
            municipality_id: a.lead_municipality_id,
        })
        .collect();
    out.sort_by_key(|p| std::cmp::Reverse(p.title_year));
    Ok(out)
}

/// Public queries about the title holders.
#[derive(Default)]
pub struct PearlQuery;

#[Object]
impl PearlQuery {
    /// The title holders, newest title year first; optionally of one year. Public.
    async fn pearls(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the title holders of this year.")] title_year: Option<i32>,
    ) -> Result<Vec<Pearl>> {
        let db = req(ctx).db();
        let found = pearls(db, |s| match title_year {
            Some(y) => s.filter(
                application::Column::EditionId.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(edition::Column::Id)
                        .from(edition::Entity)
                        .and_where(edition::Column::TitleYear.eq(y))
                        .to_owned(),
                ),
            ),
            None => s,
        })
        .await?;
        Ok(found)
    }
}
