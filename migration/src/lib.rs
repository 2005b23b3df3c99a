//! Database migrations, the same on SQLite and PostgreSQL; each has a working `down`.

pub use m20261124_000002_countries::COUNTRIES;
pub use sea_orm_migration;
use sea_orm_migration::prelude::*;

mod index;
mod m20261124_000001_foundation;
mod m20261124_000002_countries;
mod m20261124_000003_title_cycle;
mod m20261124_000004_plans;
mod m20261124_000005_assessment;
mod m20261124_000006_knowledge;
mod m20261124_000007_reporting;
mod m20261124_000008_performance;
mod m20261124_000009_kpi_rollups;
mod m20261124_000010_funnel_milestones;
mod m20261124_000011_submitted_pages;
mod m20261204_000012_live_events;
mod m20261204_000013_data_version;
mod m20261204_000014_project_facts;
mod m20261204_000015_effective_dates;
mod m20261204_000016_jury;

/// All migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_foundation::Migration),
            Box::new(m20261124_000002_countries::Migration),
            Box::new(m20261124_000003_title_cycle::Migration),
            Box::new(m20261124_000004_plans::Migration),
            Box::new(m20261124_000005_assessment::Migration),
            Box::new(m20261124_000006_knowledge::Migration),
            Box::new(m20261124_000007_reporting::Migration),
            Box::new(m20261124_000008_performance::Migration),
            Box::new(m20261124_000009_kpi_rollups::Migration),
            Box::new(m20261124_000010_funnel_milestones::Migration),
            Box::new(m20261124_000011_submitted_pages::Migration),
            Box::new(m20261204_000012_live_events::Migration),
            Box::new(m20261204_000013_data_version::Migration),
            Box::new(m20261204_000014_project_facts::Migration),
            Box::new(m20261204_000015_effective_dates::Migration),
            Box::new(m20261204_000016_jury::Migration),
        ]
    }
}
