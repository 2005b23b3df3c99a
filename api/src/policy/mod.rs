//! The access policy: the one place that decides who sees and does what (DOMAIN.md's table).
//!
//! Two mechanisms, both here so a new resolver cannot forget them:
//! - **Row scoping**: one function per entity in [`scope`] returns the `Select` of the rows an
//!   actor may see. Every list, `totalCount`, filter, nested field, DataLoader and `node(id:)`
//!   starts from it, so invisible rows are never counted, matched or revealed.
//! - **Actions**: [`Actor::require_role`] and the per-entity `can_*` checks in [`rules`] decide
//!   writes. A refusal is FORBIDDEN when the caller may know the object exists, NOT_FOUND when it
//!   must not (the object is outside its scope).

pub mod rules;
pub mod scope;
#[cfg(test)]
mod write_table;

use entity::Role;
use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// A signed-in user as the database knows them right now (role and activity are read per
/// request, so a deactivation or role change takes effect at once).
#[derive(Clone, Debug)]
pub struct Principal {
    pub user_id: Uuid,
    pub role: Role,
    pub organisation_id: Option<Uuid>,
}

/// An integration (a reporting system, a partner's dashboard) holding a scoped, read-only
/// token. It reads exactly what its scopes name; everything else is FORBIDDEN (see
/// [`rules::integration_may_read`]).
#[derive(Clone, Debug)]
pub struct Integration {
    pub token_id: Uuid,
    /// `kpi:read`: the programme KPIs, as a partner sees them.
    pub kpi_read: bool,
    /// `reporting:read`: reporting periods, the work plan, indicators, reports and exports.
    pub reporting_read: bool,
}

/// Who is asking.
#[derive(Clone, Debug)]
pub enum Actor {
    /// Not signed in: only `login` and published content.
    Anonymous,
    /// A signed-in user.
    User(Principal),
    /// An integration token.
    Integration(Integration),
}

/// Whose answers a response cache may share (`graphql/cache.rs`): callers with the same
/// string see the same rows and fields for the same operation. It names the user — with role
/// and organisation, so a changed role or organisation is another scope at once — because
/// several rules read the user's own id (a mentor's assignments, a practice's author, an event's
/// registrant, a peer group's facilitator, `me`); sharing by role and organisation alone would
/// be exact only with a per-document analysis of which rules it touches. Integration tokens
/// each have their own scopes; anonymous callers all see the same published content.
pub fn response_scope(actor: &Actor) -> String {
    match actor {
        Actor::Anonymous => "anonymous".into(),
        Actor::User(p) => format!(
            "user:{}:{}:{}",
            p.user_id,
            p.role.as_str(),
            p.organisation_id.map(|o| o.to_string()).unwrap_or_default()
        ),
        Actor::Integration(i) => format!("integration:{}", i.token_id),
    }
}

impl Actor {
    /// The signed-in user, or UNAUTHENTICATED (FORBIDDEN for an integration token: it is
    /// authenticated, but never a user).
    pub fn principal(&self) -> AppResult<&Principal> {
        match self {
            Actor::User(p) => Ok(p),
            Actor::Anonymous => Err(AppError::unauthenticated()),
            Actor::Integration(_) => Err(AppError::forbidden(
                "integration tokens read only what their scopes name",
            )),
        }
    }

    /// The signed-in user if their role is one of `roles`; FORBIDDEN otherwise.
    pub fn require_role(&self, roles: &[Role]) -> AppResult<&Principal> {
        let p = self.principal()?;
        if roles.contains(&p.role) {
            Ok(p)
        } else {
            Err(AppError::forbidden(format!(
                "the {} role may not do this",
                p.role.as_str().to_lowercase()
            )))
        }
    }

    /// The user id of the actor, if signed in (for audit entries).
    pub fn user_id(&self) -> Option<Uuid> {
        match self {
            Actor::User(p) => Some(p.user_id),
            _ => None,
        }
    }

    /// The role, if signed in.
    pub fn role(&self) -> Option<Role> {
        match self {
            Actor::User(p) => Some(p.role),
            _ => None,
        }
    }

    /// Whether the actor is a coordinator.
    pub fn is_coordinator(&self) -> bool {
        self.role() == Some(Role::Coordinator)
    }
}
