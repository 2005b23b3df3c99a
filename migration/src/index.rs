//! The one naming rule for indexes, shared by every migration: `ix_<table>_<col>_<col>…`.

use sea_orm_migration::prelude::*;

/// The name of the index over `cols` of `table`.
pub(crate) fn index_name(table: &str, cols: &[&str]) -> String {
    format!("ix_{table}_{}", cols.join("_"))
}

/// An index over `cols` of `table`, named by [`index_name`].
pub(crate) fn index(
    table: &'static str,
    cols: &[&'static str],
    unique: bool,
) -> IndexCreateStatement {
    let mut i = Index::create()
        .name(index_name(table, cols))
        .table(table)
        .to_owned();
    for c in cols {
        i.col(*c);
    }
    if unique {
        i.unique();
    }
    i
}
