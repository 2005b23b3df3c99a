//! The coordinator's view of the audit log.

use crate::graphql::scalars::Timestamp;
use async_graphql::{ComplexObject, Context, ID, InputObject, Object, Result, SimpleObject};
use entity::audit_entry;
use sea_orm::{ColumnTrait, Order, QueryFilter};

use crate::graphql::connection::{PageArgs, cost, order_with_tiebreak, paginate};
use crate::graphql::context::req;
use crate::graphql::ids;
use crate::graphql::loaders::UserById;
use crate::policy::scope;
use crate::users::types::User;

/// One recorded change: who did what to which object, and what changed.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct AuditEntry {
    /// Opaque global id.
    pub id: ID,
    /// When the change was committed.
    pub occurred_at: Timestamp,
    /// What was done, e.g. `application.submit`.
    pub action: String,
    /// Type of the changed object, e.g. `Application`.
    pub entity_type: String,
    /// Global id of the changed object.
    pub entity_id: ID,
    /// What changed (JSON; shape depends on the action).
    pub changes: crate::graphql::scalars::JsonValue,
    #[graphql(skip)]
    pub actor_id: Option<uuid::Uuid>,
}

impl From<audit_entry::Model> for AuditEntry {
    fn from(m: audit_entry::Model) -> Self {
        let entity_id = uuid::Uuid::parse_str(&m.entity_id)
            .map(|u| ids::encode(&m.entity_type, u))
            .unwrap_or_else(|_| ID(m.entity_id.clone()));
        Self {
            id: ids::encode("AuditEntry", m.id),
            occurred_at: m.occurred_at.into(),
            action: m.action,
            entity_type: m.entity_type,
            entity_id,
            changes: crate::graphql::scalars::JsonValue(m.changes),
            actor_id: m.actor_id,
        }
    }
}

#[ComplexObject]
impl AuditEntry {
    /// Who made the change (null for system actions).
    async fn actor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.actor_id else {
            return Ok(None);
        };
        Ok(req(ctx)
            .loaders
            .load_one(UserById(id))
            .await?
            .map(User::from))
    }
}

crate::connection!(
    AuditEntryConnection,
    AuditEntryEdge,
    AuditEntry,
    "A page of audit entries."
);

/// Which audit entries to list; all conditions must hold.
#[derive(InputObject, Default)]
pub struct AuditEntryFilter {
    /// Only changes to objects of this type (e.g. `Application`; at most 200 characters).
    pub entity_type: Option<String>,
    /// Only changes to this object.
    pub entity_id: Option<ID>,
    /// Only changes by this user.
    pub actor_id: Option<ID>,
    /// Only changes at or after this time.
    pub occurred_after: Option<Timestamp>,
    /// Only changes before this time.
    pub occurred_before: Option<Timestamp>,
}

/// Audit log queries.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The audit log, newest first (coordinators only).
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    async fn audit_entries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return at most this many rows from the start (default 20, max 100).")]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return at most this many rows from the end (max 100).")] last: Option<
            i32,
        >,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
        #[graphql(desc = "Conditions the entries must meet.")] filter: Option<AuditEntryFilter>,
    ) -> Result<Option<AuditEntryConnection>> {
        let rc = req(ctx);
        crate::policy::rules::read_audit_log(&rc.actor)?;
        let mut select = scope::audit_entries(&rc.actor);
        if let Some(f) = filter {
            if let Some(t) = f.entity_type {
                select = select.filter(audit_entry::Column::EntityType.eq(t));
            }
            if let Some(id) = f.entity_id {
                let (_, uuid) = ids::decode_any(&id, "filter.entityId")?;
                select = select.filter(audit_entry::Column::EntityId.eq(uuid.to_string()));
            }
            if let Some(actor) = f.actor_id {
                let uuid = ids::decode(&actor, "User", "filter.actorId")?;
                select = select.filter(audit_entry::Column::ActorId.eq(uuid));
            }
            if let Some(t) = f.occurred_after {
                select = select.filter(audit_entry::Column::OccurredAt.gte(t.0));
            }
            if let Some(t) = f.occurred_before {
                select = select.filter(audit_entry::Column::OccurredAt.lt(t.0));
            }
        }
        let order = order_with_tiebreak(
            vec![],
            (audit_entry::Column::OccurredAt, Order::Desc),
            audit_entry::Column::Id,
        )?;
        let args = PageArgs::new(ctx, first, after, last, before);
        let (page, total) = paginate(rc.db(), select, order, &args).await?;
        Ok(Some(AuditEntryConnection::from_page(
            page,
            total,
            AuditEntry::from,
        )))
    }
}
