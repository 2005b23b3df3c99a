//! User administration: creating accounts, changing roles, deactivating. No GraphQL types here.

use chrono::Utc;
use entity::{Role, organisation, refresh_token, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, TryIntoModel,
};
use serde_json::json;
use uuid::Uuid;

use crate::audit;
use crate::auth::password::Passwords;
use crate::db::begin_write;
use crate::domain::{Email, NonEmptyText};
use crate::error::{AppError, AppResult};
use crate::policy::{Actor, rules, scope};

/// A new account, with checked values.
pub struct NewUser {
    pub email: Email,
    pub name: NonEmptyText,
    pub role: Role,
    pub organisation_id: Option<Uuid>,
    pub country_code: Option<String>,
    pub password: String,
}

/// Checks that the organisation fits the role: municipality contacts belong to a municipality,
/// partner staff to a consortium organisation.
async fn check_organisation(
    db: &impl ConnectionTrait,
    role: Role,
    organisation_id: Option<Uuid>,
) -> AppResult<()> {
    let org = match organisation_id {
        Some(id) => Some(
            organisation::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| AppError::bad_input("organisationId", "no such organisation"))?,
        ),
        None => None,
    };
    rules::role_fits_organisation(role, org.as_ref().map(|o| o.kind))
        .map_err(|why| AppError::bad_input("organisationId", why))
}

/// Creates an account without a permission check (the CLI and the demo seed use it; the API goes
/// through [`create_user`]). Writes the audit entry in the same transaction.
pub async fn create_user_unchecked(
    db: &DatabaseConnection,
    passwords: &Passwords,
    actor_id: Option<Uuid>,
    new: NewUser,
) -> AppResult<user::Model> {
    let hash = passwords.hash(&new.password).await?;
    let txn = begin_write(db).await?;
    check_organisation(&txn, new.role, new.organisation_id).await?;
    if user::Entity::find()
        .filter(user::Column::Email.eq(new.email.as_str()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::conflict(
            "a user with this e-mail address already exists",
        ));
    }
    let now = Utc::now();
    let model = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(new.email.as_str().to_owned()),
        name: Set(new.name.into_inner()),
        role: Set(new.role),
        organisation_id: Set(new.organisation_id),
        country_code: Set(new.country_code),
        active: Set(true),
        password_hash: Set(hash),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor_id,
        "user.create",
        "User",
        model.id,
        json!({ "email": model.email, "role": model.role.as_str(), "organisationId": model.organisation_id }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

/// Creates an account; coordinators only.
pub async fn create_user(
    db: &DatabaseConnection,
    passwords: &Passwords,
    actor: &Actor,
    new: NewUser,
) -> AppResult<user::Model> {
    rules::manage_users(actor)?;
    create_user_unchecked(db, passwords, actor.user_id(), new).await
}

/// Loads a user the coordinator manages, or NOT_FOUND.
async fn managed_user(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> AppResult<user::Model> {
    rules::manage_users(actor)?;
    scope::users(actor)
        .filter(user::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("user"))
}

/// Deactivates an account: it can no longer sign in, its access tokens stop working at once and
/// its refresh tokens are revoked. Coordinators only, and not on themselves.
pub async fn deactivate_user(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
) -> AppResult<user::Model> {
    let txn = begin_write(db).await?;
    let current = managed_user(&txn, actor, id).await?;
    if actor.user_id() == Some(id) {
        return Err(AppError::bad_input(
            "id",
            "you cannot deactivate your own account",
        ));
    }
    if !current.active {
        return Ok(current);
    }
    let now = Utc::now();
    let mut am: user::ActiveModel = current.clone().into();
    am.active = Set(false);
    am.updated_at = Set(now);
    am.version = Set(current.version + 1);
    let updated = am.update(&txn).await?;
    refresh_token::Entity::update_many()
        .col_expr(
            refresh_token::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(refresh_token::Column::UserId.eq(id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        actor.user_id(),
        "user.deactivate",
        "User",
        id,
        json!({ "active": false }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(updated)
}

/// Changes a user's role (and organisation, which must fit the new role); optimistic locking on
/// `expected_version`. Coordinators only.
pub async fn change_role(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    role: Role,
    organisation_id: Option<Option<Uuid>>,
    expected_version: i32,
) -> AppResult<user::Model> {
    let txn = begin_write(db).await?;
    let current = managed_user(&txn, actor, id).await?;
    if current.version != expected_version {
        return Err(AppError::stale_version("user"));
    }
    if actor.user_id() == Some(id) && role != current.role {
        return Err(AppError::bad_input(
            "role",
            "you cannot change your own role",
        ));
    }
    let org = organisation_id.unwrap_or(current.organisation_id);
    check_organisation(&txn, role, org).await?;
    let mut am: user::ActiveModel = current.clone().into();
    am.role = Set(role);
    am.organisation_id = Set(org);
    am.updated_at = Set(Utc::now());
    am.version = Set(current.version + 1);
    // The version condition makes the check and the write one atomic step on both databases.
    let res = user::Entity::update_many()
        .set(am.clone())
        .filter(user::Column::Id.eq(id))
        .filter(user::Column::Version.eq(expected_version))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(AppError::stale_version("user"));
    }
    let updated = am.try_into_model()?;
    audit::record(
        &txn,
        actor.user_id(),
        "user.changeRole",
        "User",
        id,
        json!({ "role": { "from": current.role.as_str(), "to": role.as_str() },
                "organisationId": { "from": current.organisation_id, "to": org } }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(updated)
}
