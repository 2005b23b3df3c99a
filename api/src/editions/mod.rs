//! Editions of the title (one per title year), their award policy and their phases.

pub mod graphql;
pub mod service;
pub mod types;

use chrono::{DateTime, Utc};
use entity::{PhaseKind, deadline_extension, phase};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// Requires that the edition's phase of `kind` is open at `now`; otherwise CONFLICT with a message
/// naming the dates, so the frontend can show it as is. Deadlines are the server's, not the UI's.
/// For an application, a coordinator's deadline extension moves the end of the phase.
pub async fn require_open_phase(
    db: &impl ConnectionTrait,
    edition_id: Uuid,
    title_year: i32,
    kind: PhaseKind,
    now: DateTime<Utc>,
    application: Option<Uuid>,
) -> AppResult<phase::Model> {
    let label = match kind {
        PhaseKind::Call => "call for applications",
        PhaseKind::Preselection => "pre-selection",
        PhaseKind::CureapDevelopment => "CuReAP development phase",
        PhaseKind::Jury => "jury phase",
        PhaseKind::Award => "award phase",
        PhaseKind::TitleYear => "title year",
    };
    let phase = phase::Entity::find()
        .filter(phase::Column::EditionId.eq(edition_id))
        .filter(phase::Column::Kind.eq(kind))
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::conflict(format!(
                "the {label} of the {title_year} edition has no dates yet"
            ))
        })?;
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    if now < phase.starts_at {
        return Err(AppError::conflict(format!(
            "the {label} of the {title_year} edition opens on {}",
            fmt(phase.starts_at)
        )));
    }
    let extended = match application {
        Some(app) => deadline_extension::Entity::find()
            .filter(deadline_extension::Column::ApplicationId.eq(app))
            .filter(deadline_extension::Column::PhaseKind.eq(kind))
            .one(db)
            .await?
            .map(|e| e.extended_until),
        None => None,
    };
    if let Some(until) = extended.filter(|u| *u > phase.ends_at) {
        if now > until {
            return Err(AppError::conflict(format!(
                "the extended deadline of the {label} for this application passed on {}",
                fmt(until)
            )));
        }
        return Ok(phase);
    }
    if now > phase.ends_at {
        return Err(AppError::conflict(format!(
            "the {label} of the {title_year} edition closed on {} (deadline passed)",
            fmt(phase.ends_at)
        )));
    }
    Ok(phase)
}
