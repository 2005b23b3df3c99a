//! Page planning: a connection field whose whole selection the planner can read is answered by
//! one SQL statement — the page, its `totalCount` when selected, and every nested object and
//! list the selection asks for, built as JSON by the database — and its response is built from
//! that JSON in one pass, instead of resolving some hundreds of fields one by one through
//! DataLoaders. Each nested relation carries the row scope its DataLoader applies
//! (`shape.rs`, from `policy/scope.rs`), so a planned page answers exactly what the loaders
//! would; `tests/planner.rs` compares the two answers for many selections, roles and both
//! databases.
//!
//! What the planner does not cover — a field it has no column for, an argument on a nested
//! field, a field some readers get an error for, two different selections of the node — makes
//! the whole field go through the resolvers, as before. Nothing else changes for the client:
//! same schema, same values, same key order, same errors.

mod build;
mod collect;
mod shape;
mod sql;
mod text;

use std::borrow::Cow;
use std::sync::Mutex;

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::{
    Context, ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value,
};
use sea_orm::{EntityTrait, Order, Select};

pub use build::{instant, uuid};
pub use collect::Selected;
pub use shape::{APPLICATION, ASSESSMENT, EDITION, EVENT, ORGANISATION, PRACTICE, Shape, USER};
pub use sql::{as_text, cursor_keys};
pub use text::{Fragment, MARKER};

use crate::error::AppResult;
use crate::graphql::connection::{self, PageArgs};
use crate::graphql::context::req;

/// A field's answer: already built by the planner, or an object for the resolvers. The schema
/// sees `T` either way.
pub enum Planned<T> {
    /// The response value of the whole field (taken once, when the field is resolved).
    Built(Mutex<Option<Value>>),
    /// Resolved field by field, as before.
    Resolved(T),
}

impl<T> Planned<T> {
    pub fn built(value: Value) -> Self {
        Self::Built(Mutex::new(Some(value)))
    }
}

impl<T: OutputType> OutputType for Planned<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        match self {
            Self::Built(value) => Ok(value
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
                .unwrap_or_default()),
            Self::Resolved(t) => t.resolve(ctx, field).await,
        }
    }
}

/// The names of a connection's types, for `__typename`.
pub struct ConnectionTypes {
    pub connection: &'static str,
    pub edge: &'static str,
}

/// The collected selection of the field being resolved.
fn selection(ctx: &Context<'_>) -> Vec<Selected> {
    let env = ctx.query_env;
    let variable = |name: &Name| {
        env.variables.get(name).cloned().unwrap_or_else(|| {
            env.operation
                .node
                .variable_definitions
                .iter()
                .find(|d| &d.node.name.node == name)
                .and_then(|d| d.node.default_value())
                .cloned()
                .unwrap_or_default()
        })
    };
    let request = collect::Request {
        fragments: &env.fragments,
        variable: &variable,
    };
    collect::collect(&request, &ctx.item.node.selection_set.node)
}

/// What a connection's selection asks of its node, if the planner can answer all of it.
struct ConnectionPlan {
    /// The connection's own selection.
    fields: Vec<Selected>,
    /// The one selection of the node (through `edges { node }` and/or `nodes`).
    node: Vec<Selected>,
}

fn plan_connection(fields: Vec<Selected>) -> Option<ConnectionPlan> {
    let mut node: Option<Vec<Selected>> = None;
    let mut take = |children: &[Selected]| match &node {
        Some(n) if n != children => false,
        Some(_) => true,
        None => {
            node = Some(children.to_vec());
            true
        }
    };
    for f in &fields {
        let ok = match f.name.as_str() {
            "__typename" | "totalCount" => f.args.is_empty(),
            "pageInfo" => f.children.iter().all(|c| {
                matches!(
                    c.name.as_str(),
                    "hasNextPage" | "hasPreviousPage" | "startCursor" | "endCursor" | "__typename"
                )
            }),
            "nodes" => take(&f.children),
            "edges" => f.children.iter().all(|c| match c.name.as_str() {
                "cursor" | "__typename" => true,
                "node" => take(&c.children),
                _ => false,
            }),
            _ => false,
        };
        if !ok {
            return None;
        }
    }
    Some(ConnectionPlan {
        fields,
        node: node.unwrap_or_default(),
    })
}

/// Answers a connection field from one statement, when the planner covers its selection
/// (`None`: resolve it as before). `select` is the scoped, filtered rows; `order` ends with the
/// primary key.
pub async fn connection<E>(
    ctx: &Context<'_>,
    shape: &'static Shape,
    types: &ConnectionTypes,
    select: Select<E>,
    order: &[(E::Column, Order)],
    args: &PageArgs,
) -> AppResult<Option<Value>>
where
    E: EntityTrait,
{
    let rc = req(ctx);
    let Some(plan) = plan_connection(selection(ctx)) else {
        return Ok(None);
    };
    let backend = rc.db().get_database_backend();
    let Ok(json) = text::planned(backend, &rc.actor, shape, &plan.node) else {
        return Ok(None);
    };
    let (page, total) =
        connection::paginate_json(rc.db(), select, &json, order.to_vec(), args).await?;
    let count = if plan.fields.iter().any(|f| f.name == "totalCount") {
        Some(total.get().await?)
    } else {
        None
    };
    // Each node written once, then placed wherever the selection asks for it.
    let mut nodes = Vec::with_capacity(page.rows.len());
    for (_, row) in &page.rows {
        let mut text = Vec::with_capacity(row.len() + 64);
        build::object(&mut text, shape, &plan.node, build::raw(row)?)?;
        nodes.push(text);
    }
    let mut out = Vec::with_capacity(nodes.iter().map(Vec::len).sum::<usize>() * 2 + 64);
    build::fields(&mut out, &plan.fields, |out, f| {
        match f.name.as_str() {
            "__typename" => build::string(out, types.connection),
            "totalCount" => build::value(out, &Value::from(count.unwrap_or_default())),
            "nodes" => build::list(
                out,
                nodes.iter().map(|n| {
                    |out: &mut Vec<u8>| {
                        out.extend_from_slice(n);
                        Ok(())
                    }
                }),
            )?,
            "pageInfo" => page_info(out, &f.children, &page.page_info),
            "edges" => build::list(
                out,
                page.rows.iter().zip(&nodes).map(|((cursor, _), node)| {
                    |out: &mut Vec<u8>| {
                        edge(out, &f.children, types, cursor, node);
                        Ok(())
                    }
                }),
            )?,
            _ => unreachable!("checked by plan_connection"),
        }
        Ok(())
    })?;
    Ok(Some(match rc.splices.put(out) {
        Ok(marker) => Value::String(marker),
        Err(text) => serde_json::from_slice(&text)
            .map_err(|e| crate::error::AppError::internal_from("a planned page", e))?,
    }))
}

fn edge(
    out: &mut Vec<u8>,
    fields: &[Selected],
    types: &ConnectionTypes,
    cursor: &str,
    node: &[u8],
) {
    let _ = build::fields(out, fields, |out, f| {
        match f.name.as_str() {
            "__typename" => build::string(out, types.edge),
            "cursor" => build::string(out, cursor),
            _ => out.extend_from_slice(node),
        }
        Ok(())
    });
}

fn page_info(out: &mut Vec<u8>, fields: &[Selected], info: &connection::PageInfo) {
    let text = |out: &mut Vec<u8>, t: &Option<String>| match t {
        Some(t) => build::string(out, t),
        None => out.extend_from_slice(b"null"),
    };
    let flag =
        |out: &mut Vec<u8>, b: bool| out.extend_from_slice(if b { b"true" } else { b"false" });
    let _ = build::fields(out, fields, |out, f| {
        match f.name.as_str() {
            "__typename" => build::string(out, "PageInfo"),
            "hasNextPage" => flag(out, info.has_next_page),
            "hasPreviousPage" => flag(out, info.has_previous_page),
            "startCursor" => text(out, &info.start_cursor),
            _ => text(out, &info.end_cursor),
        }
        Ok(())
    });
}
