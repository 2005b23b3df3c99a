//! Building blocks for typed filters, identical on SQLite and PostgreSQL.

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ColumnTrait, Condition};

/// Case-insensitive "contains" on a text column. `%`, `_` and `\` in the search text match
/// themselves: user input is text, never a pattern.
pub fn contains<C: ColumnTrait>(col: C, text: &str) -> Condition {
    let mut escaped = String::with_capacity(text.len() + 2);
    escaped.push('%');
    for ch in text.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(ch);
    }
    escaped.push('%');
    Condition::all().add(
        Expr::expr(Func::lower(Expr::col((col.entity_name(), col))))
            .like(LikeExpr::new(escaped).escape('\\')),
    )
}
