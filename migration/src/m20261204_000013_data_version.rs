//! The data version: one row whose number every committing write advances in its own
//! transaction (`api/src/db.rs::commit`). The authenticating statement reads it, so a node's
//! response cache knows, with no statement of its own, whether anything was written since it
//! stored an answer — on every node at once, since the number lives in the database.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "data_version";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TABLE)
                .col(
                    ColumnDef::new("id")
                        .integer()
                        .not_null()
                        .primary_key()
                        // One row, always id 1: nothing may add a second version to read.
                        .check(Expr::col("id").eq(1)),
                )
                .col(ColumnDef::new("version").big_integer().not_null())
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::insert()
                .into_table(TABLE)
                .columns(["id", "version"])
                .values_panic([1.into(), 1.into()])
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TABLE).to_owned()).await
    }
}
