//! The public list of title holders ("BSR Cultural Pearls"), readable without signing in.

use std::collections::HashMap;

use async_graphql::{ComplexObject, Context, Object, Result, SimpleObject};
use entity::{ApplicationStatus, application, application_status_change, edition};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::error::AppError;
use crate::graphql::context::req;
use crate::graphql::loaders::OrganisationById;
use crate::graphql::scalars::Timestamp;
use crate::organisations::types::Organisation;
use crate::policy::scope::PUBLIC_STATUSES;

/// A municipality holding the title "BSR Cultural Pearl" of one year.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Pearl {
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
        let mut editions = edition::Entity::find();
        if let Some(y) = title_year {
            editions = editions.filter(edition::Column::TitleYear.eq(y));
        }
        let years: HashMap<Uuid, i32> = editions
            .all(db)
            .await
            .map_err(AppError::from)?
            .into_iter()
            .map(|e| (e.id, e.title_year))
            .collect();
        let apps = application::Entity::find()
            .filter(application::Column::EditionId.is_in(years.keys().copied()))
            .filter(application::Column::Status.is_in(PUBLIC_STATUSES))
            .order_by_asc(application::Column::Title)
            .all(db)
            .await
            .map_err(AppError::from)?;
        let awarded: HashMap<Uuid, Timestamp> = application_status_change::Entity::find()
            .filter(
                application_status_change::Column::ApplicationId.is_in(apps.iter().map(|a| a.id)),
            )
            .filter(application_status_change::Column::ToStatus.eq(ApplicationStatus::Awarded))
            .all(db)
            .await
            .map_err(AppError::from)?
            .into_iter()
            .map(|c| (c.application_id, c.changed_at.into()))
            .collect();
        let mut out: Vec<Pearl> = apps
            .into_iter()
            .map(|a| Pearl {
                title_year: years.get(&a.edition_id).copied().unwrap_or_default(),
                awarded_at: awarded.get(&a.id).copied(),
                title: a.title,
                title_year_status: a.status.into(),
                municipality_id: a.lead_municipality_id,
            })
            .collect();
        out.sort_by(|a, b| b.title_year.cmp(&a.title_year).then(a.title.cmp(&b.title)));
        Ok(out)
    }
}
