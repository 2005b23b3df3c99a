//! Known data for tests, written straight into the database through the entities (the API under
//! test is then exercised over HTTP).

use chrono::{Duration, Utc};
use entity::{
    ApplicationStatus, MentorKind, OrganisationKind, PhaseKind, Role, application,
    application_status_change, edition, mentor_assignment, organisation, phase,
};
use pearls_api::domain::{Email, NonEmptyText};
use pearls_api::users::service::{NewUser, create_user_unchecked};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ActiveValue::Set, DatabaseConnection, EntityTrait,
};
use uuid::Uuid;

use super::TestApp;

/// Password of every fixture user.
pub const PASSWORD: &str = "correct horse battery";

pub async fn organisation(
    db: &DatabaseConnection,
    name: &str,
    cc: &str,
    kind: OrganisationKind,
) -> Uuid {
    let now = Utc::now();
    organisation::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(kind),
        name: Set(name.into()),
        country_code: Set(cc.into()),
        region: Set(None),
        population: Set(Some(25_000)),
        is_capital: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(db)
    .await
    .expect("organisation")
    .id
}

pub async fn user(app: &TestApp, email: &str, role: Role, org: Option<Uuid>) -> Uuid {
    let new = NewUser {
        email: Email::parse("email", email).expect("email"),
        name: NonEmptyText::parse("name", email, 200).expect("name"),
        role,
        organisation_id: org,
        country_code: None,
        password: PASSWORD.into(),
    };
    create_user_unchecked(&app.state.db, &app.state.passwords, None, new)
        .await
        .expect("user")
        .id
}

/// An edition with every phase of the cycle open right now (`open`) or closed since yesterday,
/// so any lifecycle step can be tried; `cap`, `one_per_country`, `extras` are its award policy.
pub async fn edition_all_phases(
    db: &DatabaseConnection,
    year: i32,
    open: bool,
    (cap, one_per_country, extras): (i32, bool, i32),
) -> Uuid {
    let now = Utc::now();
    let id = edition::ActiveModel {
        id: Set(Uuid::now_v7()),
        title_year: Set(year),
        name: Set(format!("Test edition {year}")),
        award_cap: Set(cap),
        one_per_country: Set(one_per_country),
        extra_awards: Set(extras),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(db)
    .await
    .expect("edition")
    .id;
    let (starts, ends) = if open {
        (now - Duration::days(10), now + Duration::days(10))
    } else {
        (now - Duration::days(30), now - Duration::days(1))
    };
    for kind in [
        PhaseKind::Call,
        PhaseKind::Preselection,
        PhaseKind::CureapDevelopment,
        PhaseKind::Jury,
        PhaseKind::Award,
        PhaseKind::TitleYear,
    ] {
        phase::ActiveModel {
            id: Set(Uuid::now_v7()),
            edition_id: Set(id),
            kind: Set(kind),
            starts_at: Set(starts),
            ends_at: Set(ends),
        }
        .insert(db)
        .await
        .expect("phase");
    }
    id
}

/// An edition whose call is open (`call_open`) or closed a day ago.
pub async fn edition(db: &DatabaseConnection, year: i32, call_open: bool) -> Uuid {
    let now = Utc::now();
    let id = edition::ActiveModel {
        id: Set(Uuid::now_v7()),
        title_year: Set(year),
        name: Set(format!("Test edition {year}")),
        award_cap: Set(4),
        one_per_country: Set(true),
        extra_awards: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(db)
    .await
    .expect("edition")
    .id;
    let (starts, ends) = if call_open {
        (now - Duration::days(10), now + Duration::days(10))
    } else {
        (now - Duration::days(30), now - Duration::days(1))
    };
    phase::ActiveModel {
        id: Set(Uuid::now_v7()),
        edition_id: Set(id),
        kind: Set(PhaseKind::Call),
        starts_at: Set(starts),
        ends_at: Set(ends),
    }
    .insert(db)
    .await
    .expect("phase");
    id
}

pub async fn application(
    db: &DatabaseConnection,
    edition: Uuid,
    lead: Uuid,
    title: &str,
    status: ApplicationStatus,
) -> Uuid {
    application_on(db, edition, lead, title, status, true).await
}

/// As [`application`], on a database migrated only to 9: its status change has no effective
/// date yet (migration 15 adds and backfills it).
pub async fn application_before_migration_15(
    db: &DatabaseConnection,
    edition: Uuid,
    lead: Uuid,
    title: &str,
    status: ApplicationStatus,
) -> Uuid {
    application_on(db, edition, lead, title, status, false).await
}

async fn application_on(
    db: &DatabaseConnection,
    edition: Uuid,
    lead: Uuid,
    title: &str,
    status: ApplicationStatus,
    effective_dates: bool,
) -> Uuid {
    let now = Utc::now();
    let id = Uuid::now_v7();
    // The derived columns stay unset (NULL), and nothing is read back: the insert also works
    // on a database migrated only to 9, before those columns (kpis::migration_10_…).
    application::Entity::insert(application::ActiveModel {
        id: Set(id),
        edition_id: Set(edition),
        lead_municipality_id: Set(lead),
        title: Set(title.into()),
        motivation: Set(format!("Motivation of {title}")),
        status: Set(status),
        submitted_at: Set((status != ApplicationStatus::Draft).then_some(now)),
        created_by: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        withdrawn_from: NotSet,
        cureap_submitted_at: NotSet,
    })
    .exec_without_returning(db)
    .await
    .expect("application");
    application_status_change::Entity::insert(application_status_change::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(id),
        from_status: Set(None),
        to_status: Set(status),
        actor_id: Set(None),
        note: Set(None),
        changed_at: Set(now),
        effective_at: if effective_dates { Set(now) } else { NotSet },
    })
    .exec_without_returning(db)
    .await
    .expect("status change");
    id
}

pub async fn assign_mentor(db: &DatabaseConnection, application: Uuid, mentor: Uuid) -> Uuid {
    mentor_assignment::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(application),
        mentor_id: Set(mentor),
        kind: Set(MentorKind::National),
        starts_on: Set(Utc::now().date_naive()),
        ends_on: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .expect("assignment")
    .id
}

/// A small programme: a lead partner and a partner, two municipalities (Kiel, Svendborg) with one
/// application each in an edition whose call is open, a mentor assigned to Kiel's, and one user
/// per role (plus a second municipality's user).
pub struct World {
    pub lead_partner: Uuid,
    pub partner_org: Uuid,
    pub kiel: Uuid,
    pub svendborg: Uuid,
    pub edition: Uuid,
    pub kiel_app: Uuid,
    pub svendborg_app: Uuid,
    pub svendborg_draft_edition: Uuid,
    pub svendborg_draft: Uuid,
    pub coordinator: Uuid,
    pub partner: Uuid,
    pub mentor: Uuid,
    pub kiel_user: Uuid,
    pub svendborg_user: Uuid,
    pub assignment: Uuid,
}

impl World {
    pub async fn build(app: &TestApp) -> Self {
        let db = &app.state.db;
        let lead_partner =
            organisation(db, "CBSS Secretariat", "SE", OrganisationKind::LeadPartner).await;
        let partner_org =
            organisation(db, "Creative Estonia", "EE", OrganisationKind::Partner).await;
        let kiel = organisation(db, "Kiel", "DE", OrganisationKind::Municipality).await;
        let svendborg = organisation(db, "Svendborg", "DK", OrganisationKind::Municipality).await;
        let edition = edition(db, 2030, true).await;
        let svendborg_draft_edition = self::edition(db, 2031, true).await;
        let kiel_app = application(
            db,
            edition,
            kiel,
            "Kiel culture harbour",
            ApplicationStatus::Draft,
        )
        .await;
        let svendborg_app = application(
            db,
            edition,
            svendborg,
            "Svendborg stories",
            ApplicationStatus::Submitted,
        )
        .await;
        let svendborg_draft = application(
            db,
            svendborg_draft_edition,
            svendborg,
            "Svendborg next year",
            ApplicationStatus::Draft,
        )
        .await;
        let coordinator = user(
            app,
            "coordinator@test.example",
            Role::Coordinator,
            Some(lead_partner),
        )
        .await;
        let partner = user(
            app,
            "partner@test.example",
            Role::Partner,
            Some(partner_org),
        )
        .await;
        let mentor = user(app, "mentor@test.example", Role::Mentor, Some(partner_org)).await;
        let kiel_user = user(app, "kiel@test.example", Role::Municipality, Some(kiel)).await;
        let svendborg_user = user(
            app,
            "svendborg@test.example",
            Role::Municipality,
            Some(svendborg),
        )
        .await;
        let assignment = assign_mentor(db, kiel_app, mentor).await;
        Self {
            lead_partner,
            partner_org,
            kiel,
            svendborg,
            edition,
            kiel_app,
            svendborg_app,
            svendborg_draft_edition,
            svendborg_draft,
            coordinator,
            partner,
            mentor,
            kiel_user,
            svendborg_user,
            assignment,
        }
    }
}

/// A complete CuReAP plan (every section, a budget, one action, one indicator) for an application.
pub async fn complete_plan(db: &DatabaseConnection, application: Uuid) -> Uuid {
    use entity::{ActionStatus, plan, plan_action, plan_indicator};
    let now = Utc::now();
    let id = plan::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(application),
        vision: Set("A town that sings together".into()),
        context: Set("Ageing population, closed shipyard".into()),
        objectives: Set("Bring generations together".into()),
        stakeholders: Set("Library, choirs, schools".into()),
        budget_cents: Set(Some(12_000_000)),
        timeline: Set("2027–2028".into()),
        submitted_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(db)
    .await
    .expect("plan")
    .id;
    plan_action::ActiveModel {
        id: Set(Uuid::now_v7()),
        plan_id: Set(id),
        position: Set(1),
        title: Set("Harbour choir festival".into()),
        description: Set("Three days of singing".into()),
        target_groups: Set("Seniors, pupils".into()),
        cultural_partners: Set("Town choir".into()),
        starts_on: Set(None),
        ends_on: Set(None),
        budget_cents: Set(4_500_050),
        status: Set(ActionStatus::Planned),
        latest_implementation: Set(None),
        latest_participants_reached: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .expect("action");
    plan_indicator::ActiveModel {
        id: Set(Uuid::now_v7()),
        plan_id: Set(id),
        name: Set("Participants".into()),
        unit: Set("people".into()),
        baseline_milli: Set(0),
        target_milli: Set(500_000),
        actual_milli: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .expect("indicator");
    rebuild_rollups(db).await;
    id
}

/// Recomputes the KPI rollups after rows were inserted directly (as the seeders do): the
/// services keep them, fixtures bypass the services.
pub async fn rebuild_rollups(db: &DatabaseConnection) {
    use sea_orm::TransactionTrait;
    let txn = db.begin().await.expect("begin");
    pearls_api::kpis::rollup::rebuild(&txn)
        .await
        .expect("rebuild the KPI rollups");
    txn.commit().await.expect("commit");
}

/// A vocabulary term.
pub async fn term(db: &DatabaseConnection, kind: entity::TermKind, name: &str) -> Uuid {
    let now = Utc::now();
    entity::vocabulary_term::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(kind),
        name: Set(name.into()),
        description: Set(String::new()),
        retired: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(db)
    .await
    .expect("term")
    .id
}
