//! Every KPI figure on a known fixture, exactly, on both databases — totals, groups, time series —
//! and what each role's KPIs cover.

use crate::common;

use chrono::{NaiveDate, TimeZone, Utc};
use common::fixtures::{self, PASSWORD, World};
use common::{TestApp, code};
use entity::{
    ActionStatus, ApplicationStatus as S, EventKind, Implementation, OrganisationKind,
    ParticipationRole, ParticipationStatus, PracticeStatus, Role, SessionFormat, TermKind,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::{Value, json};
use uuid::Uuid;

fn at(y: i32, m: u32, d: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 10, 0, 0).unwrap()
}

async fn session(db: &DatabaseConnection, assignment: Uuid, day: NaiveDate, minutes: i32) {
    entity::mentoring_session::ActiveModel {
        id: Set(Uuid::now_v7()),
        assignment_id: Set(assignment),
        held_on: Set(day),
        minutes: Set(minutes),
        format: Set(SessionFormat::Online),
        topics: Set("Plan".into()),
        notes: Set(String::new()),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        version: Set(1),
    }
    .insert(db)
    .await
    .unwrap();
}

async fn event(
    db: &DatabaseConnection,
    org: Uuid,
    kind: EventKind,
    starts: chrono::DateTime<Utc>,
    public: bool,
    cancelled: bool,
) -> Uuid {
    entity::event::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(kind),
        title: Set(format!("{kind:?}")),
        description: Set(String::new()),
        programme: Set(String::new()),
        starts_at: Set(starts),
        ends_at: Set(starts + chrono::Duration::hours(4)),
        time_zone: Set("Europe/Riga".into()),
        place: Set(None),
        online_url: Set(None),
        organiser_id: Set(org),
        edition_id: Set(None),
        is_public: Set(public),
        capacity: Set(None),
        registration_deadline: Set(None),
        cancelled_at: Set(cancelled.then(Utc::now)),
        created_by: Set(None),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        version: Set(1),
        registered_count: Set(0),
        attended_count: Set(0),
    }
    .insert(db)
    .await
    .unwrap()
    .id
}

async fn participate(
    db: &DatabaseConnection,
    event: Uuid,
    user: Uuid,
    org: Uuid,
    status: ParticipationStatus,
    attended: Option<bool>,
) {
    entity::participation::ActiveModel {
        id: Set(Uuid::now_v7()),
        event_id: Set(event),
        user_id: Set(user),
        organisation_id: Set(Some(org)),
        role: Set(ParticipationRole::Participant),
        status: Set(status),
        registered_at: Set(Utc::now()),
        registered_by: Set(None),
        attended: Set(attended),
        updated_at: Set(Utc::now()),
        version: Set(1),
    }
    .insert(db)
    .await
    .unwrap();
}

async fn practice(
    db: &DatabaseConnection,
    cc: &str,
    status: PracticeStatus,
    published: chrono::DateTime<Utc>,
    theme: Option<Uuid>,
) -> Uuid {
    let id = Uuid::now_v7();
    entity::good_practice::ActiveModel {
        id: Set(id),
        title: Set(format!("Practice from {cc}")),
        summary: Set("s".into()),
        body: Set("b".into()),
        country_code: Set(Some(cc.into())),
        source_organisation_id: Set(None),
        source_text: Set(None),
        outcomes: Set(String::new()),
        link: Set(None),
        licence: Set("CC BY 4.0".into()),
        language: Set("en".into()),
        status: Set(status),
        author_id: Set(None),
        review_comment: Set(None),
        published_at: Set((status == PracticeStatus::Published).then_some(published)),
        search_title: Set(String::new()),
        search_summary: Set(String::new()),
        search_body: Set(String::new()),
        created_at: Set(published),
        updated_at: Set(published),
        version: Set(1),
    }
    .insert(db)
    .await
    .unwrap();
    if let Some(t) = theme {
        entity::practice_term::ActiveModel {
            practice_id: Set(id),
            term_id: Set(t),
        }
        .insert(db)
        .await
        .unwrap();
    }
    id
}

async fn cite(db: &DatabaseConnection, action: Uuid, practice: Uuid) {
    entity::plan_action_practice::ActiveModel {
        action_id: Set(action),
        practice_id: Set(practice),
    }
    .insert(db)
    .await
    .unwrap();
}

async fn first_action(db: &DatabaseConnection, plan: Uuid) -> Uuid {
    entity::plan_action::Entity::find()
        .filter(entity::plan_action::Column::PlanId.eq(plan))
        .one(db)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// The fixture (see the figures asserted below for what it adds up to).
struct Fixture {
    a_user: String,
    mentor: String,
    theme: Uuid,
    a: Uuid,
}

/// Plan actions: each plan has one (45,000.50 EUR, planned); A adds a completed one of
/// 1,000.00 EUR with a theme; A's first action reported FULLY/100 and then PARTLY/250.
/// Returns the theme, A's second action and A's first action.
async fn actions(db: &DatabaseConnection, plan_a: Uuid) -> (Uuid, Uuid, Uuid) {
    let theme = fixtures::term(db, TermKind::Theme, "social cohesion").await;
    let now = Utc::now();
    let second = entity::plan_action::ActiveModel {
        id: Set(Uuid::now_v7()),
        plan_id: Set(plan_a),
        position: Set(2),
        title: Set("Second".into()),
        description: Set(String::new()),
        target_groups: Set(String::new()),
        cultural_partners: Set(String::new()),
        starts_on: Set(None),
        ends_on: Set(None),
        budget_cents: Set(100_000),
        status: Set(ActionStatus::Completed),
        latest_implementation: Set(None),
        latest_participants_reached: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .unwrap()
    .id;
    entity::plan_action_theme::ActiveModel {
        action_id: Set(second),
        term_id: Set(theme),
    }
    .insert(db)
    .await
    .unwrap();
    let first_a = first_action(db, plan_a).await;
    for (implementation, reached, when) in [
        (Implementation::Fully, 100, at(2026, 5, 1)),
        (Implementation::Partly, 250, at(2026, 6, 1)),
    ] {
        entity::progress_update::ActiveModel {
            id: Set(Uuid::now_v7()),
            action_id: Set(first_a),
            implementation: Set(implementation),
            percentage: Set(50),
            participants_reached: Set(reached),
            evidence_url: Set(None),
            note: Set(String::new()),
            posted_by: Set(None),
            posted_at: Set(when),
        }
        .insert(db)
        .await
        .unwrap();
    }
    // As `postProgress` keeps them: the action's latest post.
    entity::plan_action::Entity::update_many()
        .col_expr(
            entity::plan_action::Column::LatestImplementation,
            sea_orm::sea_query::Expr::value("PARTLY"),
        )
        .col_expr(
            entity::plan_action::Column::LatestParticipantsReached,
            sea_orm::sea_query::Expr::value(250),
        )
        .filter(entity::plan_action::Column::Id.eq(first_a))
        .exec(db)
        .await
        .unwrap();
    (theme, second, first_a)
}

/// Events: a public forum (A attended, C registered, B waiting), a cancelled webinar, a
/// conference (A registered).
async fn events(app: &TestApp, w: &World, [a, b, c]: [Uuid; 3]) {
    let db = &app.state.db;
    let users: Vec<Uuid> = {
        let mut v = Vec::new();
        for (n, o) in [a, c, b, a].iter().enumerate() {
            v.push(
                fixtures::user(
                    app,
                    &format!("person{n}@test.example"),
                    Role::Municipality,
                    Some(*o),
                )
                .await,
            );
        }
        v
    };
    let forum = event(
        db,
        w.partner_org,
        EventKind::Forum,
        at(2026, 5, 10),
        true,
        false,
    )
    .await;
    let webinar = event(
        db,
        w.partner_org,
        EventKind::Webinar,
        at(2026, 6, 1),
        false,
        true,
    )
    .await;
    let conference = event(
        db,
        w.lead_partner,
        EventKind::Conference,
        at(2026, 6, 15),
        false,
        false,
    )
    .await;
    participate(
        db,
        forum,
        users[0],
        a,
        ParticipationStatus::Registered,
        Some(true),
    )
    .await;
    participate(
        db,
        forum,
        users[1],
        c,
        ParticipationStatus::Registered,
        Some(false),
    )
    .await;
    participate(
        db,
        forum,
        users[2],
        b,
        ParticipationStatus::Waitlisted,
        None,
    )
    .await;
    participate(
        db,
        webinar,
        users[1],
        c,
        ParticipationStatus::Registered,
        Some(true),
    )
    .await;
    participate(
        db,
        conference,
        users[3],
        a,
        ParticipationStatus::Registered,
        None,
    )
    .await;
}

async fn fixture(app: &TestApp, w: &World) -> Fixture {
    let db = &app.state.db;
    let e1 = fixtures::edition_all_phases(db, 2060, true, (4, true, 1)).await;
    let e2 = fixtures::edition_all_phases(db, 2061, true, (4, true, 1)).await;
    let org = |name: &'static str, cc: &'static str| async move {
        fixtures::organisation(db, name, cc, OrganisationKind::Municipality).await
    };
    let (a, b, c, d, e, f) = (
        org("A-town", "DE").await,
        org("B-town", "DE").await,
        org("C-town", "DK").await,
        org("D-town", "FI").await,
        org("E-town", "LV").await,
        org("F-town", "SE").await,
    );
    // Edition 2060: A awarded, B not shortlisted, C ineligible, D a draft, E withdrawn after
    // being found eligible. Edition 2061: A submitted, C writing its CuReAP, F submitted it.
    let a1 = fixtures::application(db, e1, a, "A 2060", S::Awarded).await;
    fixtures::application(db, e1, b, "B 2060", S::NotShortlisted).await;
    fixtures::application(db, e1, c, "C 2060", S::Ineligible).await;
    fixtures::application(db, e1, d, "D 2060", S::Draft).await;
    let e1e = fixtures::application(db, e1, e, "E 2060", S::Withdrawn).await;
    entity::application_status_change::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(e1e),
        from_status: Set(Some(S::Submitted)),
        to_status: Set(S::Eligible),
        actor_id: Set(None),
        note: Set(None),
        changed_at: Set(Utc::now() - chrono::Duration::days(1)),
        effective_at: Set(Utc::now() - chrono::Duration::days(1)),
    }
    .insert(db)
    .await
    .unwrap();
    entity::application_status_change::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(e1e),
        from_status: Set(Some(S::Eligible)),
        to_status: Set(S::Withdrawn),
        actor_id: Set(None),
        note: Set(None),
        changed_at: Set(Utc::now()),
        effective_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .unwrap();
    fixtures::application(db, e2, a, "A 2061", S::Submitted).await;
    let c2 = fixtures::application(db, e2, c, "C 2061", S::CureapInDevelopment).await;
    fixtures::application(db, e2, f, "F 2061", S::CureapSubmitted).await;

    // A's 2060 plan was submitted in time (version 1 inside the open CuReAP phase).
    let plan_a = fixtures::complete_plan(db, a1).await;
    entity::plan_version::ActiveModel {
        id: Set(Uuid::now_v7()),
        plan_id: Set(plan_a),
        number: Set(1),
        snapshot: Set(json!({})),
        submitted_at: Set(Utc::now()),
        submitted_by: Set(None),
    }
    .insert(db)
    .await
    .unwrap();
    entity::plan::Entity::update_many()
        .col_expr(
            entity::plan::Column::SubmittedVersion,
            sea_orm::sea_query::Expr::value(1),
        )
        .filter(entity::plan::Column::Id.eq(plan_a))
        .exec(db)
        .await
        .unwrap();
    let plan_c = fixtures::complete_plan(db, c2).await;

    // Mentoring: A 2060 and C 2061 have the mentor; F 2061 has none.
    let m_a = fixtures::assign_mentor(db, a1, w.mentor).await;
    let m_c = fixtures::assign_mentor(db, c2, w.mentor).await;
    session(db, m_a, NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(), 60).await;
    session(db, m_a, NaiveDate::from_ymd_opt(2026, 4, 2).unwrap(), 90).await;
    session(db, m_c, NaiveDate::from_ymd_opt(2026, 4, 20).unwrap(), 30).await;

    let (theme, second, first_a) = actions(db, plan_a).await;
    events(app, w, [a, b, c]).await;

    // Practices: P1 (DK, themed) cited by A's second action; P2 (LV) cited by A's first and C's
    // action; P3 (DK) not cited; a draft is not counted.
    let p1 = practice(
        db,
        "DK",
        PracticeStatus::Published,
        at(2026, 1, 15),
        Some(theme),
    )
    .await;
    let p2 = practice(db, "LV", PracticeStatus::Published, at(2026, 2, 1), None).await;
    practice(db, "DK", PracticeStatus::Published, at(2026, 4, 1), None).await;
    practice(db, "DK", PracticeStatus::Draft, at(2026, 4, 1), Some(theme)).await;
    cite(db, second, p1).await;
    cite(db, first_a, p2).await;
    cite(db, first_action(db, plan_c).await, p2).await;

    fixtures::user(app, "a.contact@test.example", Role::Municipality, Some(a)).await;
    fixtures::rebuild_rollups(db).await;
    Fixture {
        a_user: app.login("a.contact@test.example", PASSWORD).await,
        mentor: app.login("mentor@test.example", PASSWORD).await,
        theme,
        a,
    }
}

async fn kpis(app: &TestApp, token: &str, selection: &str) -> Value {
    let body = app
        .gql(
            Some(token),
            &format!("{{ kpis {{ {selection} }} }}"),
            json!({}),
        )
        .await;
    assert!(body["errors"].is_null(), "{selection}: {body}");
    body["data"]["kpis"].clone()
}

/// The funnel's figures, as each role asks for them.
const FUNNEL: &str = "funnel { applied eligible shortlisted plansSubmitted plansSubmittedOnTime awarded eligibilityRate shortlistRate planSubmissionRate awardRate }";

/// The World fixture adds two applications of edition 2030 (Kiel's draft, Svendborg's
/// submission) and one of 2031 (a draft); they are left out with an edition filter.
const ONLY: &str = "filter: {editionYears: [2060, 2061]}";

/// The funnel, in total and by edition and country.
async fn the_funnel_counts_every_stage(app: &TestApp, coordinator: &str) {
    let k = kpis(app, coordinator, FUNNEL).await;
    assert_eq!(
        k["funnel"][0]["applied"], 8,
        "with World's submitted one: {k}"
    );
    let q = format!(
        "{FUNNEL} byEdition: funnel(groupBy: [EDITION]) {{ group {{ edition }} applied eligible shortlisted plansSubmitted awarded }} byCountry: funnel(groupBy: [COUNTRY]) {{ group {{ countryCode }} applied eligible shortlisted awarded }}"
    );
    let body = app
        .gql(
            Some(coordinator),
            &format!("{{ kpis({ONLY}) {{ {q} }} }}"),
            json!({}),
        )
        .await;
    let k = &body["data"]["kpis"];
    assert_eq!(
        k["funnel"][0],
        json!({ "applied": 7, "eligible": 5, "shortlisted": 3, "plansSubmitted": 1, "plansSubmittedOnTime": 1,
                "awarded": 1, "eligibilityRate": "0.7143", "shortlistRate": "0.6", "planSubmissionRate": "0.3333",
                "awardRate": "1" }),
        "{body}"
    );
    assert_eq!(
        k["byEdition"],
        json!([
            { "group": { "edition": 2060 }, "applied": 4, "eligible": 3, "shortlisted": 1, "plansSubmitted": 1, "awarded": 1 },
            { "group": { "edition": 2061 }, "applied": 3, "eligible": 2, "shortlisted": 2, "plansSubmitted": 0, "awarded": 0 },
        ])
    );
    assert_eq!(
        k["byCountry"],
        json!([
            { "group": { "countryCode": "DE" }, "applied": 3, "eligible": 2, "shortlisted": 1, "awarded": 1 },
            { "group": { "countryCode": "DK" }, "applied": 2, "eligible": 1, "shortlisted": 1, "awarded": 0 },
            { "group": { "countryCode": "LV" }, "applied": 1, "eligible": 1, "shortlisted": 0, "awarded": 0 },
            { "group": { "countryCode": "SE" }, "applied": 1, "eligible": 1, "shortlisted": 1, "awarded": 0 },
        ])
    );
}

/// Mentoring: coverage 2 of 3, sessions and hours, and a monthly and quarterly series.
async fn mentoring_covers_two_of_three_in_development(app: &TestApp, partner: &str) {
    let q = "mentoring { applicationsInDevelopment mentored coverageRate sessions minutes hours }
        monthly: mentoring(groupBy: [MONTH]) { group { period } sessions minutes applicationsInDevelopment }
        quarterly: mentoring(groupBy: [QUARTER]) { group { period } sessions hours }";
    let body = app
        .gql(
            Some(partner),
            &format!("{{ kpis({ONLY}) {{ {q} }} }}"),
            json!({}),
        )
        .await;
    let k = &body["data"]["kpis"];
    assert_eq!(
        k["mentoring"],
        json!([{ "applicationsInDevelopment": 3, "mentored": 2, "coverageRate": "0.6667", "sessions": 3, "minutes": 180, "hours": "3" }]),
        "{body}"
    );
    assert_eq!(
        k["monthly"],
        json!([
            { "group": { "period": "2026-03" }, "sessions": 1, "minutes": 60, "applicationsInDevelopment": null },
            { "group": { "period": "2026-04" }, "sessions": 2, "minutes": 120, "applicationsInDevelopment": null },
        ])
    );
    assert_eq!(
        k["quarterly"],
        json!([
            { "group": { "period": "2026-Q1" }, "sessions": 1, "hours": "1" },
            { "group": { "period": "2026-Q2" }, "sessions": 2, "hours": "2" },
        ])
    );
}

/// Plan actions by status, theme and implementation; partners count submitted plans only.
async fn plan_actions_group_by_status_theme_and_implementation(
    app: &TestApp,
    coordinator: &str,
    partner: &str,
) {
    let q = "planActions { actions budgetPlanned participantsReached }
        byStatus: planActions(groupBy: [STATUS]) { group { status } actions budgetPlanned }
        byTheme: planActions(groupBy: [THEME]) { group { theme { name } } actions budgetPlanned }
        byImplementation: planActions(groupBy: [IMPLEMENTATION]) { group { implementation } actions participantsReached }";
    let k = kpis(app, coordinator, q).await;
    assert_eq!(
        k["planActions"],
        json!([{ "actions": 3, "budgetPlanned": "91001.00", "participantsReached": 250 }])
    );
    assert_eq!(
        k["byStatus"],
        json!([
            { "group": { "status": "COMPLETED" }, "actions": 1, "budgetPlanned": "1000.00" },
            { "group": { "status": "PLANNED" }, "actions": 2, "budgetPlanned": "90001.00" },
        ])
    );
    assert_eq!(
        k["byTheme"],
        json!([
            { "group": { "theme": null }, "actions": 2, "budgetPlanned": "90001.00" },
            { "group": { "theme": { "name": "social cohesion" } }, "actions": 1, "budgetPlanned": "1000.00" },
        ])
    );
    assert_eq!(
        k["byImplementation"],
        json!([
            { "group": { "implementation": null }, "actions": 2, "participantsReached": 0 },
            { "group": { "implementation": "PARTLY" }, "actions": 1, "participantsReached": 250 },
        ])
    );
    // Partners count submitted plans only: C's plan in development is nobody's business yet.
    let k = kpis(
        app,
        partner,
        "planActions { actions budgetPlanned } byOrg: planActions(groupBy: [ORGANISATION]) { group { organisation { name } } actions }",
    )
    .await;
    assert_eq!(
        k["planActions"],
        json!([{ "actions": 2, "budgetPlanned": "46000.50" }]),
        "{k}"
    );
    assert_eq!(k["byOrg"].as_array().map(Vec::len), Some(1), "{k}");
}

/// Events and participations, by kind, country and month; the cancelled webinar does not count.
async fn events_and_participations_leave_the_cancelled_out(app: &TestApp, coordinator: &str) {
    let q = "events { events registrations attended }
        byKind: events(groupBy: [KIND]) { group { kind } events registrations attended }
        byCountry: events(groupBy: [COUNTRY]) { group { countryCode } events }
        byMonth: events(groupBy: [MONTH]) { group { period } events }
        participations(groupBy: [COUNTRY]) { group { countryCode } registrations waitlisted attended }";
    let k = kpis(app, coordinator, q).await;
    assert_eq!(
        k["events"],
        json!([{ "events": 2, "registrations": 3, "attended": 1 }])
    );
    assert_eq!(
        k["byKind"],
        json!([
            { "group": { "kind": "CONFERENCE" }, "events": 1, "registrations": 1, "attended": 0 },
            { "group": { "kind": "FORUM" }, "events": 1, "registrations": 2, "attended": 1 },
        ])
    );
    assert_eq!(
        k["byCountry"],
        json!([{ "group": { "countryCode": "EE" }, "events": 1 }, { "group": { "countryCode": "SE" }, "events": 1 }])
    );
    assert_eq!(
        k["byMonth"],
        json!([{ "group": { "period": "2026-05" }, "events": 1 }, { "group": { "period": "2026-06" }, "events": 1 }])
    );
    assert_eq!(
        k["participations"],
        json!([
            { "group": { "countryCode": "DE" }, "registrations": 2, "waitlisted": 1, "attended": 1 },
            { "group": { "countryCode": "DK" }, "registrations": 1, "waitlisted": 0, "attended": 0 },
        ])
    );
}

/// The catalogue: published, reused, and by theme and quarter.
async fn the_catalogue_counts_publications_and_reuse(app: &TestApp, coordinator: &str) {
    let q = "practices { published reused reusedByPlans }
        byTheme: practices(groupBy: [THEME]) { group { theme { name } } published reused reusedByPlans }
        byQuarter: practices(groupBy: [QUARTER]) { group { period } published }";
    let k = kpis(app, coordinator, q).await;
    assert_eq!(
        k["practices"],
        json!([{ "published": 3, "reused": 2, "reusedByPlans": 2 }])
    );
    assert_eq!(
        k["byTheme"],
        json!([
            { "group": { "theme": null }, "published": 2, "reused": 1, "reusedByPlans": 2 },
            { "group": { "theme": { "name": "social cohesion" } }, "published": 1, "reused": 1, "reusedByPlans": 1 },
        ])
    );
    assert_eq!(
        k["byQuarter"],
        json!([{ "group": { "period": "2026-Q1" }, "published": 2 }, { "group": { "period": "2026-Q2" }, "published": 1 }])
    );
}

/// Date filters cut by each figure's own date.
async fn date_filters_cut_by_each_figures_own_date(app: &TestApp, coordinator: &str) {
    let body = app
        .gql(Some(coordinator), "{ kpis(filter: {from: \"2026-04-01\", to: \"2026-05-31\"}) { mentoring { sessions } events { events } } }", json!({}))
        .await;
    assert_eq!(
        body["data"]["kpis"]["mentoring"][0]["sessions"], 2,
        "{body}"
    );
    assert_eq!(body["data"]["kpis"]["events"][0]["events"], 1, "{body}");
}

/// What each role's KPIs cover: the mentor its two mentees, A's contact its own applications.
async fn each_role_sees_only_what_it_covers(app: &TestApp, fx: &Fixture) {
    // What each role's KPIs cover: the mentor its two mentees, A's contact its own two
    // applications and A's registrations.
    let k = kpis(app, &fx.mentor, FUNNEL).await;
    assert_eq!(
        (
            k["funnel"][0]["applied"].as_i64(),
            k["funnel"][0]["eligible"].as_i64(),
            k["funnel"][0]["awarded"].as_i64()
        ),
        (Some(2), Some(2), Some(1)),
        "{k}"
    );
    let k = kpis(
        app,
        &fx.a_user,
        &format!(
            "{FUNNEL} participations {{ registrations attended }} events {{ events registrations }}"
        ),
    )
    .await;
    assert_eq!(
        (
            k["funnel"][0]["applied"].as_i64(),
            k["funnel"][0]["plansSubmitted"].as_i64()
        ),
        (Some(2), Some(1)),
        "{k}"
    );
    assert_eq!(
        k["participations"],
        json!([{ "registrations": 2, "attended": 1 }])
    );
    assert_eq!(k["events"], json!([{ "events": 2, "registrations": 2 }]));
    let _ = (fx.theme, fx.a);
}

/// Bad groupings are refused with the field, and the public gets no KPIs.
async fn bad_groupings_and_the_public_are_refused(app: &TestApp, coordinator: &str) {
    let body = app
        .gql(
            Some(coordinator),
            "{ kpis { practices(groupBy: [KIND]) { published } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        (
            code(&body),
            body["errors"][0]["extensions"]["field"].as_str()
        ),
        ("BAD_USER_INPUT", Some("groupBy"))
    );
    let body = app
        .gql(
            Some(coordinator),
            "{ kpis { events(groupBy: [MONTH, QUARTER]) { events } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(
        code(
            &app.gql(None, "{ kpis { funnel { applied } } }", json!({}))
                .await
        ),
        "UNAUTHENTICATED"
    );
}

both!(every_figure_on_a_known_fixture, |app: TestApp| async move {
    let w = World::build(&app).await;
    let fx = fixture(&app, &w).await;
    let coordinator = app.login("coordinator@test.example", PASSWORD).await;
    let partner = app.login("partner@test.example", PASSWORD).await;
    the_funnel_counts_every_stage(&app, &coordinator).await;
    mentoring_covers_two_of_three_in_development(&app, &partner).await;
    plan_actions_group_by_status_theme_and_implementation(&app, &coordinator, &partner).await;
    events_and_participations_leave_the_cancelled_out(&app, &coordinator).await;
    the_catalogue_counts_publications_and_reuse(&app, &coordinator).await;
    date_filters_cut_by_each_figures_own_date(&app, &coordinator).await;
    each_role_sees_only_what_it_covers(&app, &fx).await;
    bad_groupings_and_the_public_are_refused(&app, &coordinator).await;
});

/// Cents of a decimal amount ("45000.5" → 4500050).
fn cents(amount: &Value) -> i64 {
    let s = amount.as_str().expect("an amount");
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    let frac = format!("{frac:0<2}");
    whole.parse::<i64>().expect("whole") * 100 + sign * frac[..2].parse::<i64>().expect("cents")
}

/// Asks the programme-wide plan-action figures (answered from the rollup) and the same with
/// STATUS added (counted from the actions), and checks that they add up to the same per group.
async fn rollup_agrees_with_the_actions(app: &TestApp, token: &str) {
    let fields =
        "group { edition countryCode theme { id } } actions budgetPlanned participantsReached";
    for dims in ["", "THEME", "COUNTRY", "EDITION, COUNTRY, THEME"] {
        let with_status = if dims.is_empty() {
            "STATUS".to_owned()
        } else {
            format!("{dims}, STATUS")
        };
        let k = kpis(
            app,
            token,
            &format!(
                "rolled: planActions(groupBy: [{dims}]) {{ {fields} }} \
                 counted: planActions(groupBy: [{with_status}]) {{ {fields} }}"
            ),
        )
        .await;
        let sums = |rows: &Value| {
            let mut out = std::collections::BTreeMap::<String, [i64; 3]>::new();
            for r in rows.as_array().expect("rows") {
                let e = out.entry(r["group"].to_string()).or_default();
                e[0] += r["actions"].as_i64().expect("actions");
                e[1] += cents(&r["budgetPlanned"]);
                e[2] += r["participantsReached"].as_i64().expect("participants");
            }
            out
        };
        assert!(
            !k["rolled"].as_array().expect("rows").is_empty(),
            "{dims}: {k}"
        );
        assert_eq!(sums(&k["rolled"]), sums(&k["counted"]), "{dims}: {k}");
    }
}

both!(
    programme_wide_totals_follow_the_rows,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let fx = fixture(&app, &w).await;
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let partner = app.login("partner@test.example", PASSWORD).await;
        common::assert_rollups_exact(&app).await;
        rollup_agrees_with_the_actions(&app, &coordinator).await;
        rollup_agrees_with_the_actions(&app, &partner).await;

        // A-town moves to Poland: its plans' actions move with it in the country totals.
        let before = kpis(
            &app,
            &coordinator,
            "planActions(groupBy: [COUNTRY]) { group { countryCode } actions }",
        )
        .await;
        let actions_in = |k: &Value, cc: &str| {
            k["planActions"]
                .as_array()
                .expect("rows")
                .iter()
                .find(|r| r["group"]["countryCode"] == cc)
                .and_then(|r| r["actions"].as_i64())
                .unwrap_or(0)
        };
        let a_actions = actions_in(&before, "DE");
        assert!(a_actions > 0, "{before}");
        assert_eq!(actions_in(&before, "PL"), 0);
        let body = app
            .gql(
                Some(&coordinator),
                "mutation($i: UpdateOrganisationInput!) { updateOrganisation(input: $i) { organisation { version } } }",
                json!({ "i": { "id": pearls_api::graphql::ids::encode("Organisation", fx.a).0, "expectedVersion": 1,
                    "organisation": { "kind": "MUNICIPALITY", "name": "A-town", "countryCode": "PL" } } }),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
        common::assert_rollups_exact(&app).await;
        let after = kpis(
            &app,
            &coordinator,
            "planActions(groupBy: [COUNTRY]) { group { countryCode } actions }",
        )
        .await;
        assert_eq!(
            (actions_in(&after, "DE"), actions_in(&after, "PL")),
            (0, a_actions),
            "{after}"
        );
        rollup_agrees_with_the_actions(&app, &coordinator).await;
        rollup_agrees_with_the_actions(&app, &partner).await;
    }
);

/// `pearls rollups rebuild` on a live PostgreSQL database next to a writer that holds one of
/// the tables it reads (a registration holds the participations) and then needs another (the
/// applications): a rebuild that held its locks while waiting for the next would deadlock with
/// it and PostgreSQL would abort one of the two. Both must finish. (SQLite has one writer at a
/// time and no table locks: nothing to test there.)
#[actix_web::test]
async fn a_rebuild_never_deadlocks_with_a_writer() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    use std::time::Duration;
    let Some(app) = TestApp::spawn(common::Backend::Postgres).await else {
        return;
    };
    let db = app.state.db.clone();
    let writer = db.begin().await.unwrap();
    writer
        .execute_unprepared("LOCK TABLE participation IN ROW EXCLUSIVE MODE")
        .await
        .unwrap();
    let rebuild = actix_web::rt::spawn({
        let db = db.clone();
        async move {
            let txn = db.begin().await?;
            pearls_api::kpis::rollup::rebuild(&txn).await?;
            txn.commit().await?;
            Ok::<_, pearls_api::error::AppError>(())
        }
    });
    // A barrier, not a pause: the rebuild has asked for its table locks (its LOCK statement is
    // the last its connection ran) while the writer holds the participations.
    let observer = app.own_connection().await;
    let mut asked = false;
    for _ in 0..1000 {
        let row = observer
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND query LIKE 'LOCK TABLE plan_action%'",
            ))
            .await
            .unwrap()
            .unwrap();
        if row.try_get_by_index::<i64>(0).unwrap() > 0 {
            asked = true;
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(asked, "the rebuild never asked for its locks");
    observer.close().await.ok();
    actix_web::rt::time::timeout(
        Duration::from_secs(20),
        writer.execute_unprepared("LOCK TABLE application IN ROW EXCLUSIVE MODE"),
    )
    .await
    .expect("the writer is not kept waiting by the rebuild")
    .expect("the writer is not chosen as a deadlock victim");
    writer.commit().await.unwrap();
    rebuild
        .await
        .unwrap()
        .expect("the rebuild finishes once the writer has committed");
    common::assert_rollups_exact(&app).await;
}

/// Migration 10 fills the funnel's milestones from what is already there: the status a
/// withdrawn application left and when a plan's version 1 was handed in, as `rollup::drift`
/// defines them (the migration keeps its own frozen copy of that definition).
#[actix_web::test]
async fn migration_10_backfills_the_funnel_milestones() {
    use migration::Migrator;
    use migration::sea_orm_migration::MigratorTrait;
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    for backend in [common::Backend::Sqlite, common::Backend::Postgres] {
        let Some(database) = common::TestDatabase::create(backend).await else {
            continue;
        };
        let db = sea_orm::Database::connect(&database.url).await.unwrap();
        Migrator::up(&db, Some(9)).await.unwrap();
        let edition = fixtures::edition(&db, 2070, false).await;
        let town = |name: &'static str| {
            fixtures::organisation(&db, name, "DE", OrganisationKind::Municipality)
        };
        let (w, p, d) = (
            town("W-town").await,
            town("P-town").await,
            town("D-town").await,
        );
        let withdrawn =
            fixtures::application_before_migration_15(&db, edition, w, "W", S::Withdrawn).await;
        for (from, to) in [(S::Submitted, S::Eligible), (S::Eligible, S::Withdrawn)] {
            // Written before migration 15: no effective date yet.
            entity::application_status_change::Entity::insert(
                entity::application_status_change::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    application_id: Set(withdrawn),
                    from_status: Set(Some(from)),
                    to_status: Set(to),
                    actor_id: Set(None),
                    note: Set(None),
                    changed_at: Set(Utc::now()),
                    effective_at: sea_orm::ActiveValue::NotSet,
                },
            )
            .exec_without_returning(&db)
            .await
            .unwrap();
        }
        let submitted =
            fixtures::application_before_migration_15(&db, edition, p, "P", S::CureapSubmitted)
                .await;
        let drafted =
            fixtures::application_before_migration_15(&db, edition, d, "D", S::CureapInDevelopment)
                .await;
        let mut plans = Vec::new();
        for application in [submitted, drafted] {
            let plan = entity::plan::ActiveModel {
                id: Set(Uuid::now_v7()),
                application_id: Set(application),
                vision: Set("v".into()),
                context: Set("c".into()),
                objectives: Set("o".into()),
                stakeholders: Set("s".into()),
                budget_cents: Set(None),
                timeline: Set("t".into()),
                submitted_version: Set(i32::from(application == submitted)),
                created_at: Set(Utc::now()),
                updated_at: Set(Utc::now()),
                version: Set(1),
            }
            .insert(&db)
            .await
            .unwrap();
            plans.push(plan.id);
        }
        let handed_in = at(2069, 12, 1);
        entity::plan_version::ActiveModel {
            id: Set(Uuid::now_v7()),
            plan_id: Set(plans[0]),
            number: Set(1),
            snapshot: Set(json!({})),
            submitted_at: Set(handed_in),
            submitted_by: Set(None),
        }
        .insert(&db)
        .await
        .unwrap();

        Migrator::up(&db, None).await.unwrap();
        let milestones = |id: Uuid| {
            let db = &db;
            async move {
                let q = Query::select()
                    .columns([
                        Alias::new("withdrawn_from"),
                        Alias::new("cureap_submitted_at"),
                    ])
                    .from(Alias::new("application"))
                    .and_where(Expr::col(Alias::new("id")).eq(id))
                    .to_owned();
                let row = db.query_one(&q).await.unwrap().unwrap();
                (
                    row.try_get::<Option<String>>("", "withdrawn_from").unwrap(),
                    row.try_get::<Option<chrono::DateTime<Utc>>>("", "cureap_submitted_at")
                        .unwrap(),
                )
            }
        };
        assert_eq!(
            milestones(withdrawn).await,
            (Some("ELIGIBLE".into()), None),
            "{backend:?}"
        );
        assert_eq!(
            milestones(submitted).await,
            (None, Some(handed_in)),
            "{backend:?}"
        );
        assert_eq!(milestones(drafted).await, (None, None), "{backend:?}");
        let drift = pearls_api::kpis::rollup::drift(&db).await.unwrap();
        assert!(drift.is_empty(), "{backend:?}: {drift:#?}");
        db.close().await.unwrap();
    }
}

// The funnel after lifecycle steps taken through the API: an application found eligible and
// then withdrawn by its municipality still counts as eligible (the transition records on the
// row what it was withdrawn from), and one withdrawn before screening does not.
both!(
    withdrawals_through_the_api_keep_the_funnel_exact,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let db = &app.state.db;
        let edition = fixtures::edition_all_phases(db, 2075, true, (4, false, 0)).await;
        let screened = fixtures::application(db, edition, w.kiel, "Kiel 2075", S::Submitted).await;
        let unscreened =
            fixtures::application(db, edition, w.svendborg, "Svendborg 2075", S::Submitted).await;
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let kiel = app.login("kiel@test.example", PASSWORD).await;
        let svendborg = app.login("svendborg@test.example", PASSWORD).await;
        let id = |u| pearls_api::graphql::ids::encode("Application", u).0;
        let body = app
            .gql(
                Some(&coordinator),
                "mutation($i: AdvanceApplicationInput!) { advanceApplication(input: $i) { application { status } } }",
                json!({ "i": { "id": id(screened), "action": "CONFIRM_ELIGIBILITY" } }),
            )
            .await;
        assert_eq!(
            body["data"]["advanceApplication"]["application"]["status"], "ELIGIBLE",
            "{body}"
        );
        let withdraw = "mutation($i: ApplicationTransitionInput!) { withdrawApplication(input: $i) { application { status } } }";
        for (token, application) in [(&kiel, screened), (&svendborg, unscreened)] {
            let body = app
                .gql(
                    Some(token),
                    withdraw,
                    json!({ "i": { "id": id(application) } }),
                )
                .await;
            assert_eq!(
                body["data"]["withdrawApplication"]["application"]["status"], "WITHDRAWN",
                "{body}"
            );
        }
        let body = app
            .gql(
                Some(&coordinator),
                "{ kpis(filter: {editionYears: [2075]}) { funnel { applied eligible shortlisted } } }",
                json!({}),
            )
            .await;
        assert_eq!(
            body["data"]["kpis"]["funnel"],
            json!([{ "applied": 2, "eligible": 1, "shortlisted": 0 }]),
            "{body}"
        );
        common::assert_rollups_exact(&app).await;
    }
);

both!(
    a_grouping_past_the_row_cap_is_refused,
    tweak = |c| c.kpi_max_groups = 1,
    |app: TestApp| async move {
        let w = World::build(&app).await;
        let coordinator = app.login("coordinator@test.example", PASSWORD).await;
        let kiel = app.login("kiel@test.example", PASSWORD).await;
        app.submit_application(&kiel, w.kiel_app).await;
        // Kiel (DE) and Svendborg (DK) applied: two countries, one more than the cap.
        let body = app
            .gql(
                Some(&coordinator),
                "{ kpis { funnel(groupBy: [COUNTRY]) { group { countryCode } applied } } }",
                json!({}),
            )
            .await;
        assert_eq!(common::code(&body), "QUERY_TOO_COMPLEX", "{body}");
        // Ungrouped, or narrowed to one country, it answers.
        let body = app
            .gql(
                Some(&coordinator),
                "{ kpis(filter: {countryCodes: [DE]}) { funnel(groupBy: [COUNTRY]) { applied } all: funnel { applied } } }",
                json!({}),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
);

/// A CuReAP handed in at `t` (its first version), for a new municipality of `edition`; a
/// second version later never counts again.
async fn plan_handed_in(
    db: &DatabaseConnection,
    edition: Uuid,
    n: usize,
    t: chrono::DateTime<Utc>,
) {
    let town = fixtures::organisation(
        db,
        &format!("Town {n}"),
        "LV",
        OrganisationKind::Municipality,
    )
    .await;
    let a =
        fixtures::application(db, edition, town, &format!("Plan {n}"), S::CureapSubmitted).await;
    let plan = fixtures::complete_plan(db, a).await;
    for (number, at) in [(1, t), (2, t + chrono::Duration::days(200))] {
        entity::plan_version::ActiveModel {
            id: Set(Uuid::now_v7()),
            plan_id: Set(plan),
            number: Set(number),
            snapshot: Set(json!({})),
            submitted_at: Set(at),
            submitted_by: Set(None),
        }
        .insert(db)
        .await
        .unwrap();
    }
}

// RCO83 of each of the project's six reporting periods (2023–2025, half-years) equals the
// plan-date KPI over the period's dates — including plans handed in on a period's last second
// and the next one's first — while the funnel, which counts applications by their submission,
// does not.
both!(
    rco83_of_every_period_is_the_plan_date_kpi,
    |app: TestApp| async move {
        World::build(&app).await;
        let db = &app.state.db;
        let c = app.login("coordinator@test.example", PASSWORD).await;
        let periods = [
            ("2023-01-01", "2023-06-30"),
            ("2023-07-01", "2023-12-31"),
            ("2024-01-01", "2024-06-30"),
            ("2024-07-01", "2024-12-31"),
            ("2025-01-01", "2025-06-30"),
            ("2025-07-01", "2025-12-31"),
        ];
        let create = "mutation($i: CreateReportingPeriodInput!) { createReportingPeriod(input: $i) { period { id } } }";
        for (n, (from, to)) in periods.iter().enumerate() {
            let body = app
                .gql(Some(&c), create, json!({ "i": { "number": n + 1, "startsOn": from, "endsOn": to, "reportDeadline": to } }))
                .await;
            assert!(body["errors"].is_null(), "{body}");
        }
        let e2024 = fixtures::edition_all_phases(db, 2024, false, (4, true, 1)).await;
        let e2025 = fixtures::edition_all_phases(db, 2025, false, (6, false, 0)).await;
        let s = |y, m, d, h, mi, sec| Utc.with_ymd_and_hms(y, m, d, h, mi, sec).unwrap();
        let handed_in = [
            (e2024, s(2023, 10, 25, 9, 0, 0)),
            (e2024, s(2023, 11, 16, 23, 59, 59)),
            (e2024, s(2023, 12, 31, 23, 59, 59)),
            (e2025, s(2024, 1, 1, 0, 0, 0)),
            (e2025, s(2024, 11, 15, 12, 0, 0)),
            (e2025, s(2024, 11, 16, 8, 0, 0)),
            (e2025, s(2025, 6, 30, 23, 59, 59)),
        ];
        for (n, (edition, t)) in handed_in.iter().enumerate() {
            plan_handed_in(db, *edition, n, *t).await;
        }
        // Inserted past the services: the funnel's milestones follow (as `pearls rollups rebuild`).
        fixtures::rebuild_rollups(db).await;
        let expected = [0, 3, 1, 2, 1, 0];
        for (n, (from, to)) in periods.iter().enumerate() {
            let figures = app
                .gql(Some(&c), "query($n: Int!) { reportingPeriod(number: $n) { indicatorValues { indicator { code } inPeriod } } }",
                    json!({ "n": n + 1 }))
                .await;
            let rco83 = figures["data"]["reportingPeriod"]["indicatorValues"]
                .as_array()
                .expect("values")
                .iter()
                .find(|v| v["indicator"]["code"] == "RCO83")
                .expect("RCO83")["inPeriod"]
                .as_str()
                .expect("a decimal")
                .parse::<i64>()
                .expect("whole plans");
            let k = app
                .gql(Some(&c), "query($f: KpiFilter) { kpis(filter: $f) { planSubmissions { plansSubmitted } funnel { plansSubmitted } } }",
                    json!({ "f": { "from": from, "to": to } }))
                .await;
            let by_plan_date = k["data"]["kpis"]["planSubmissions"][0]["plansSubmitted"].as_i64();
            assert_eq!(
                (rco83, by_plan_date),
                (expected[n], Some(expected[n])),
                "period {} ({from} – {to}): {figures} {k}",
                n + 1
            );
            // The applications were submitted in 2026 (the fixture's day): by their date, none.
            assert_eq!(k["data"]["kpis"]["funnel"][0]["plansSubmitted"], 0, "{k}");
        }
        // Grouped by quarter, the plan-date figure is a time series of the same plans.
        let k = app
            .gql(Some(&c), "{ kpis(filter: {from: \"2023-01-01\", to: \"2025-12-31\"}) { planSubmissions(groupBy: [QUARTER]) { group { period } plansSubmitted } } }", json!({}))
            .await;
        assert_eq!(
            k["data"]["kpis"]["planSubmissions"],
            json!([
                { "group": { "period": "2023-Q4" }, "plansSubmitted": 3 },
                { "group": { "period": "2024-Q1" }, "plansSubmitted": 1 },
                { "group": { "period": "2024-Q4" }, "plansSubmitted": 2 },
                { "group": { "period": "2025-Q2" }, "plansSubmitted": 1 },
            ]),
            "{k}"
        );
    }
);
