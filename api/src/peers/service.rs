//! Peer-learning use cases: the coordinator forms any group; a mentor forms groups it
//! facilitates and edits those. A group has at least one municipality that shares and one that
//! learns.

use chrono::Utc;
use entity::{
    OrganisationKind, PeerRole, edition, organisation, peer_learning_group, peer_learning_member,
    user,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};
use serde_json::json;
use uuid::Uuid;

use crate::audit;
use crate::db::begin_write;
use crate::domain::NonEmptyText;
use crate::error::{AppError, AppResult};
use crate::policy::rules;
use crate::policy::{Actor, scope};

/// A group's content, checked.
pub struct GroupFields {
    pub name: NonEmptyText,
    pub description: String,
    pub edition_id: Option<Uuid>,
    /// `None`: the creating mentor.
    pub facilitator_id: Option<Uuid>,
    pub members: Vec<(Uuid, PeerRole)>,
}

impl GroupFields {
    pub fn parse(
        name: &str,
        description: &str,
        edition_id: Option<Uuid>,
        facilitator_id: Option<Uuid>,
        members: Vec<(Uuid, PeerRole)>,
    ) -> AppResult<Self> {
        let description = description.trim();
        if description.chars().count() > 5000 {
            return Err(AppError::bad_input(
                "description",
                "must be at most 5000 characters",
            ));
        }
        let mut unique: Vec<(Uuid, PeerRole)> = Vec::new();
        for (org, role) in members {
            if unique.iter().any(|(o, _)| *o == org) {
                return Err(AppError::bad_input(
                    "members",
                    "each municipality appears once",
                ));
            }
            unique.push((org, role));
        }
        if unique.len() > 30 {
            return Err(AppError::bad_input("members", "at most 30 members"));
        }
        let shares = unique.iter().any(|(_, r)| *r == PeerRole::Shares);
        let learns = unique.iter().any(|(_, r)| *r == PeerRole::Learns);
        if !(shares && learns) {
            return Err(AppError::bad_input(
                "members",
                "a group needs at least one municipality that shares and one that learns",
            ));
        }
        Ok(Self {
            name: NonEmptyText::parse("name", name, 200)?,
            description: description.to_owned(),
            edition_id,
            facilitator_id,
            members: unique,
        })
    }
}

/// Checks the references (`facilitator` as the rule decided it).
async fn check(
    db: &impl ConnectionTrait,
    actor: &Actor,
    facilitator: Option<Uuid>,
    f: &GroupFields,
) -> AppResult<()> {
    if let Some(id) = facilitator {
        let u = scope::users(actor)
            .filter(user::Column::Id.eq(id))
            .one(db)
            .await?
            .ok_or_else(|| AppError::bad_input("facilitatorId", "no such user"))?;
        if !rules::may_mentor(&u) {
            return Err(AppError::bad_input(
                "facilitatorId",
                "the facilitator is an active mentor",
            ));
        }
    }
    if let Some(e) = f.edition_id {
        edition::Entity::find_by_id(e)
            .one(db)
            .await?
            .ok_or_else(|| AppError::bad_input("editionId", "no such edition"))?;
    }
    let orgs = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(f.members.iter().map(|(o, _)| *o)))
        .all(db)
        .await?;
    if orgs.len() != f.members.len()
        || orgs
            .iter()
            .any(|o| o.kind != OrganisationKind::Municipality)
    {
        return Err(AppError::bad_input(
            "members",
            "members are municipalities of the portal",
        ));
    }
    Ok(())
}

async fn write_members(
    db: &impl ConnectionTrait,
    group: Uuid,
    members: &[(Uuid, PeerRole)],
) -> AppResult<()> {
    peer_learning_member::Entity::delete_many()
        .filter(peer_learning_member::Column::GroupId.eq(group))
        .exec(db)
        .await?;
    peer_learning_member::Entity::insert_many(members.iter().map(|(org, role)| {
        peer_learning_member::ActiveModel {
            group_id: Set(group),
            organisation_id: Set(*org),
            role: Set(*role),
        }
    }))
    .exec(db)
    .await?;
    Ok(())
}

fn members_json(members: &[(Uuid, PeerRole)]) -> serde_json::Value {
    json!(
        members
            .iter()
            .map(|(o, r)| json!({ "organisationId": o, "role": r.as_str() }))
            .collect::<Vec<_>>()
    )
}

/// Forms a group (coordinators, mentors).
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    f: GroupFields,
) -> AppResult<peer_learning_group::Model> {
    let (p, facilitator) = rules::form_peer_group(actor, f.facilitator_id)?;
    let txn = begin_write(db).await?;
    check(&txn, actor, facilitator, &f).await?;
    let now = Utc::now();
    let model = peer_learning_group::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(f.name.into_inner()),
        description: Set(f.description),
        edition_id: Set(f.edition_id),
        facilitator_id: Set(facilitator),
        created_by: Set(Some(p.user_id)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&txn)
    .await?;
    write_members(&txn, model.id, &f.members).await?;
    audit::record(
        &txn,
        Some(p.user_id),
        "peerGroup.create",
        "PeerLearningGroup",
        model.id,
        json!({ "name": model.name, "facilitatorId": facilitator, "members": members_json(&f.members) }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(model)
}

/// Changes a group (coordinators; its facilitating mentor).
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: Uuid,
    expected_version: i32,
    f: GroupFields,
) -> AppResult<peer_learning_group::Model> {
    actor.principal()?;
    let txn = begin_write(db).await?;
    let current = scope::peer_learning_groups(actor)
        .filter(peer_learning_group::Column::Id.eq(id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("peer-learning group"))?;
    let (p, facilitator) = rules::change_peer_group(actor, &current, f.facilitator_id)?;
    check(&txn, actor, facilitator, &f).await?;
    if current.version != expected_version {
        return Err(AppError::stale_version("peer-learning group"));
    }
    let mut am: peer_learning_group::ActiveModel = current.clone().into();
    am.name = Set(f.name.into_inner());
    am.description = Set(f.description);
    am.edition_id = Set(f.edition_id);
    am.facilitator_id = Set(facilitator);
    am.updated_at = Set(Utc::now());
    am.version = Set(current.version + 1);
    let updated = am.update(&txn).await?;
    write_members(&txn, id, &f.members).await?;
    audit::record(
        &txn,
        Some(p.user_id),
        "peerGroup.update",
        "PeerLearningGroup",
        id,
        json!({ "version": updated.version, "members": members_json(&f.members) }),
    )
    .await?;
    crate::db::commit(txn).await?;
    Ok(updated)
}
