//! Reference data: the countries of the Interreg Baltic Sea Region programme area. Organisations
//! and users refer to them, so a fresh production database must have them without a seed.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// ISO 3166-1 alpha-2 code and English name.
pub const COUNTRIES: &[(&str, &str)] = &[
    ("DE", "Germany"),
    ("DK", "Denmark"),
    ("EE", "Estonia"),
    ("FI", "Finland"),
    ("LT", "Lithuania"),
    ("LV", "Latvia"),
    ("NO", "Norway"),
    ("PL", "Poland"),
    ("SE", "Sweden"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Rows kept by a partial `down` (still in use) are left as they are.
        let mut insert = Query::insert()
            .into_table("country")
            .columns(["code", "name"])
            .on_conflict(OnConflict::column("code").do_nothing().to_owned())
            .to_owned();
        for (code, name) in COUNTRIES {
            insert.values_panic([(*code).into(), (*name).into()]);
        }
        m.exec_stmt(insert).await
    }

    /// Removes the reference rows that nothing refers to; rows in use stay, so rolling back never
    /// breaks the organisations and users that point at them.
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let used_by = |table: &'static str| {
            Query::select()
                .column("country_code")
                .from(table)
                .and_where(Expr::col("country_code").is_not_null())
                .to_owned()
        };
        let delete = Query::delete()
            .from_table("country")
            .and_where(Expr::col("code").is_in(COUNTRIES.iter().map(|(c, _)| *c)))
            .and_where(Expr::col("code").not_in_subquery(used_by("organisation")))
            .and_where(Expr::col("code").not_in_subquery(used_by("app_user")))
            .to_owned();
        m.exec_stmt(delete).await
    }
}
