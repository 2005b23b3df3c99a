//! `pearls seed --demo`: real public facts about the programme plus clearly fictional demo
//! people, so a fresh installation has something to look at. Every row is looked up by its
//! natural key first, so running the seed again changes nothing.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use entity::{
    ApplicationStatus, EventKind, MentorKind, OrganisationKind, PhaseKind, PracticeStatus, Role,
    TermKind, activity, application, application_status_change, country, deliverable, edition,
    event, good_practice, indicator, mentor_assignment, organisation, output, phase, practice_term,
    reporting_period, user, vocabulary_term, work_package,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

pub mod scale;

use crate::audit;
use crate::auth::password::Passwords;
use crate::error::AppResult;

/// Password of every demo account.
pub const DEMO_PASSWORD: &str = "pearls-demo";

/// What the seed did.
#[derive(Debug, Default)]
pub struct SeedReport {
    pub inserted: usize,
}

/// The consortium (public): the lead partner and its partners.
const CONSORTIUM: &[(&str, &str, OrganisationKind)] = &[
    (
        "Council of the Baltic Sea States Secretariat",
        "SE",
        OrganisationKind::LeadPartner,
    ),
    (
        "Regional Council of Ostrobothnia",
        "FI",
        OrganisationKind::Partner,
    ),
    (
        "Northern Dimension Partnership on Culture Secretariat",
        "LV",
        OrganisationKind::Partner,
    ),
    ("Danish Cultural Institute", "DK", OrganisationKind::Partner),
    ("Vidzeme Planning Region", "LV", OrganisationKind::Partner),
    (
        "Baltic Sea Cultural Centre Gdańsk",
        "PL",
        OrganisationKind::Partner,
    ),
    (
        "Heinrich-Böll-Stiftung Schleswig-Holstein",
        "DE",
        OrganisationKind::Partner,
    ),
    ("Creative Estonia", "EE", OrganisationKind::Partner),
    (
        "Schleswig-Holstein Ministry of Justice, European Affairs and Consumer Protection",
        "DE",
        OrganisationKind::Partner,
    ),
    ("ARS BALTICA", "DE", OrganisationKind::Partner),
    ("Varde Municipality", "DK", OrganisationKind::Partner),
    ("Alytus City Municipality", "LT", OrganisationKind::Partner),
];

/// The real editions as history documents (public facts, placeholders where names and texts
/// are not public), loaded through the importer: `api/seed/editions/`.
pub const REAL_EDITIONS: [(i32, &str); 3] = [
    (2024, include_str!("../../seed/editions/2024.json")),
    (2025, include_str!("../../seed/editions/2025.json")),
    (2026, include_str!("../../seed/editions/2026.json")),
];

/// The fictional municipality of the demo accounts.
const DEMO_MUNICIPALITY: (&str, &str) = ("Demoville (fictional demo municipality)", "EE");

fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid seed date")
}

struct Seeder<'a> {
    txn: &'a DatabaseTransaction,
    now: DateTime<Utc>,
    report: SeedReport,
}

impl Seeder<'_> {
    /// The countries (kept by the migrations; made sure of here) and the consortium's
    /// organisations, in [`CONSORTIUM`] order: the lead partner first.
    async fn consortium(&mut self) -> AppResult<Vec<Uuid>> {
        for (code, name) in migration::COUNTRIES {
            self.country(code, name).await?;
        }
        let mut ids = Vec::with_capacity(CONSORTIUM.len());
        for (name, cc, kind) in CONSORTIUM {
            ids.push(self.organisation(name, cc, *kind).await?);
        }
        Ok(ids)
    }

    /// Inserts a vocabulary term of [`TERMS`] (demo and scale seeds alike).
    async fn term(&self, id: Uuid, kind: TermKind, name: &str) -> AppResult<Uuid> {
        vocabulary_term::ActiveModel {
            id: Set(id),
            kind: Set(kind),
            name: Set(name.into()),
            description: Set(String::new()),
            retired: Set(false),
            created_at: Set(self.now),
            updated_at: Set(self.now),
            version: Set(1),
        }
        .insert(self.txn)
        .await?;
        Ok(id)
    }

    async fn country(&mut self, code: &str, name: &str) -> AppResult<()> {
        if country::Entity::find_by_id(code.to_owned())
            .one(self.txn)
            .await?
            .is_none()
        {
            country::ActiveModel {
                code: Set(code.into()),
                name: Set(name.into()),
            }
            .insert(self.txn)
            .await?;
            self.report.inserted += 1;
        }
        Ok(())
    }

    async fn organisation(
        &mut self,
        name: &str,
        cc: &str,
        kind: OrganisationKind,
    ) -> AppResult<Uuid> {
        if let Some(o) = organisation::Entity::find()
            .filter(organisation::Column::Name.eq(name))
            .filter(organisation::Column::CountryCode.eq(cc))
            .one(self.txn)
            .await?
        {
            return Ok(o.id);
        }
        let m = organisation::ActiveModel {
            id: Set(Uuid::now_v7()),
            kind: Set(kind),
            name: Set(name.into()),
            country_code: Set(cc.into()),
            region: Set(None),
            population: Set(None),
            is_capital: Set(false),
            created_at: Set(self.now),
            updated_at: Set(self.now),
            version: Set(1),
        }
        .insert(self.txn)
        .await?;
        self.report.inserted += 1;
        Ok(m.id)
    }

    async fn edition(
        &mut self,
        year: i32,
        name: &str,
        cap: i32,
        one_per_country: bool,
        extras: i32,
    ) -> AppResult<Uuid> {
        if let Some(e) = edition::Entity::find()
            .filter(edition::Column::TitleYear.eq(year))
            .one(self.txn)
            .await?
        {
            return Ok(e.id);
        }
        let m = edition::ActiveModel {
            id: Set(Uuid::now_v7()),
            title_year: Set(year),
            name: Set(name.into()),
            award_cap: Set(cap),
            one_per_country: Set(one_per_country),
            extra_awards: Set(extras),
            created_at: Set(self.now),
            updated_at: Set(self.now),
            version: Set(1),
        }
        .insert(self.txn)
        .await?;
        self.report.inserted += 1;
        Ok(m.id)
    }

    async fn phase(
        &mut self,
        edition: Uuid,
        kind: PhaseKind,
        starts: DateTime<Utc>,
        ends: DateTime<Utc>,
    ) -> AppResult<()> {
        let exists = phase::Entity::find()
            .filter(phase::Column::EditionId.eq(edition))
            .filter(phase::Column::Kind.eq(kind))
            .one(self.txn)
            .await?;
        if exists.is_none() {
            phase::ActiveModel {
                id: Set(Uuid::now_v7()),
                edition_id: Set(edition),
                kind: Set(kind),
                starts_at: Set(starts),
                ends_at: Set(ends),
            }
            .insert(self.txn)
            .await?;
            self.report.inserted += 1;
        }
        Ok(())
    }

    async fn application(
        &mut self,
        edition: Uuid,
        lead: Uuid,
        title: &str,
        motivation: &str,
        status: ApplicationStatus,
        note: &str,
    ) -> AppResult<Uuid> {
        if let Some(a) = application::Entity::find()
            .filter(application::Column::EditionId.eq(edition))
            .filter(application::Column::LeadMunicipalityId.eq(lead))
            .one(self.txn)
            .await?
        {
            return Ok(a.id);
        }
        let id = Uuid::now_v7();
        application::ActiveModel {
            id: Set(id),
            edition_id: Set(edition),
            lead_municipality_id: Set(lead),
            title: Set(title.into()),
            motivation: Set(motivation.into()),
            status: Set(status),
            submitted_at: Set((status != ApplicationStatus::Draft).then_some(self.now)),
            created_by: Set(None),
            created_at: Set(self.now),
            updated_at: Set(self.now),
            version: Set(1),
            withdrawn_from: Set(None),
            cureap_submitted_at: Set(None),
        }
        .insert(self.txn)
        .await?;
        application_status_change::ActiveModel {
            id: Set(Uuid::now_v7()),
            application_id: Set(id),
            from_status: Set(None),
            to_status: Set(status),
            actor_id: Set(None),
            note: Set(Some(note.into())),
            changed_at: Set(self.now),
            effective_at: Set(self.now),
        }
        .insert(self.txn)
        .await?;
        self.report.inserted += 2;
        Ok(id)
    }

    #[allow(clippy::too_many_arguments)]
    async fn user(
        &mut self,
        passwords: &Passwords,
        email: &str,
        name: &str,
        role: Role,
        org: Option<Uuid>,
        cc: Option<&str>,
    ) -> AppResult<Uuid> {
        if let Some(u) = user::Entity::find()
            .filter(user::Column::Email.eq(email))
            .one(self.txn)
            .await?
        {
            return Ok(u.id);
        }
        let m = user::ActiveModel {
            id: Set(Uuid::now_v7()),
            email: Set(email.into()),
            name: Set(name.into()),
            role: Set(role),
            organisation_id: Set(org),
            country_code: Set(cc.map(Into::into)),
            active: Set(true),
            password_hash: Set(passwords.hash(DEMO_PASSWORD).await?),
            created_at: Set(self.now),
            updated_at: Set(self.now),
            version: Set(1),
        }
        .insert(self.txn)
        .await?;
        self.report.inserted += 1;
        Ok(m.id)
    }
}

/// Loads the demo data (idempotent).
pub async fn demo(db: &DatabaseConnection, passwords: &Passwords) -> AppResult<SeedReport> {
    let txn = db.begin().await?;
    let mut s = Seeder {
        txn: &txn,
        now: Utc::now(),
        report: SeedReport::default(),
    };
    let consortium = s.consortium().await?;
    let lead_partner = consortium[0];
    let creative_estonia = consortium[7];
    // The project's public facts (programme, C004, Jan 2023 – Dec 2025, EUR 3.5 M at 80 %
    // Interreg co-financing); what is not public stays unknown.
    if crate::project::service::seed_public_facts(&txn).await? {
        s.report.inserted += 1;
    }

    // A demo edition two years ahead whose call is open from the day of seeding, so the demo
    // municipality can submit its draft; later phases follow at fixed distances. (Seeding again
    // finds the edition and its phases and leaves them as they are.)
    let demo_year = s.now.year() + 2;
    let demo = s
        .edition(
            demo_year,
            &format!("BSR Cultural Pearls {demo_year} (demo edition)"),
            4,
            true,
            1,
        )
        .await?;
    let now = s.now;
    let day = |d: i64| now + chrono::Duration::days(d);
    let demo_phases = [
        (PhaseKind::Call, day(-30), day(120)),
        (PhaseKind::Preselection, day(121), day(150)),
        (PhaseKind::CureapDevelopment, day(151), day(210)),
        (PhaseKind::Jury, day(211), day(240)),
        (PhaseKind::Award, day(241), day(255)),
        (
            PhaseKind::TitleYear,
            at(demo_year, 1, 1, 0, 0),
            at(demo_year, 12, 31, 23, 59),
        ),
    ];
    for (kind, from, to) in demo_phases {
        s.phase(demo, kind, from, to).await?;
    }

    let demoville = s
        .organisation(
            DEMO_MUNICIPALITY.0,
            DEMO_MUNICIPALITY.1,
            OrganisationKind::Municipality,
        )
        .await?;
    let pw = crate::auth::password::Passwords::clone(passwords);
    let coordinator = s
        .user(
            &pw,
            "coordinator@pearls.example",
            "Demo Coordinator",
            Role::Coordinator,
            Some(lead_partner),
            None,
        )
        .await?;
    real_editions(&mut s, coordinator, lead_partner).await?;
    s.user(
        &pw,
        "partner@pearls.example",
        "Demo Partner",
        Role::Partner,
        Some(creative_estonia),
        Some("EE"),
    )
    .await?;
    let mentor = s
        .user(
            &pw,
            "mentor@pearls.example",
            "Demo Mentor",
            Role::Mentor,
            Some(creative_estonia),
            Some("EE"),
        )
        .await?;
    s.user(
        &pw,
        "municipality@pearls.example",
        "Demo Municipality Contact",
        Role::Municipality,
        Some(demoville),
        Some("EE"),
    )
    .await?;
    let app = s
        .application(
            demo,
            demoville,
            "Demoville: culture for a resilient harbour town",
            "Demoville wants to use its harbour festival and library network to strengthen community ties.",
            ApplicationStatus::Draft,
            "demo draft",
        )
        .await?;
    if mentor_assignment::Entity::find()
        .filter(mentor_assignment::Column::ApplicationId.eq(app))
        .filter(mentor_assignment::Column::MentorId.eq(mentor))
        .one(&txn)
        .await?
        .is_none()
    {
        mentor_assignment::ActiveModel {
            id: Set(Uuid::now_v7()),
            application_id: Set(app),
            mentor_id: Set(mentor),
            kind: Set(MentorKind::National),
            starts_on: Set(NaiveDate::from_ymd_opt(2026, 11, 1).expect("valid date")),
            ends_on: Set(None),
            created_at: Set(s.now),
        }
        .insert(&txn)
        .await?;
        s.report.inserted += 1;
    }
    knowledge(&mut s, creative_estonia, demoville).await?;
    reporting(&mut s, lead_partner).await?;
    let report = s.report;
    crate::kpis::rollup::rebuild(&txn).await?;
    if report.inserted > 0 {
        audit::record(
            &txn,
            None,
            "seed.demo",
            "Seed",
            "demo",
            json!({ "inserted": report.inserted }),
        )
        .await?;
    }
    crate::db::commit(txn).await?;
    Ok(report)
}

/// The real 2024–2026 editions, imported as the demo coordinator. An edition already holding
/// its document's history is left as it is (the import changes nothing); one holding another
/// history (a database seeded before the documents existed) is left too, with a warning.
async fn real_editions(s: &mut Seeder<'_>, coordinator: Uuid, lead_partner: Uuid) -> AppResult<()> {
    let by = crate::policy::Principal {
        user_id: coordinator,
        role: Role::Coordinator,
        organisation_id: Some(lead_partner),
    };
    for (year, text) in REAL_EDITIONS {
        let doc = crate::history::EditionHistory::parse(text)?;
        match crate::history::import_in(s.txn, &by, doc).await {
            Ok(report) => s.report.inserted += report.rows,
            Err(crate::error::AppError::Refused { reasons, .. }) => {
                tracing::warn!(
                    year,
                    ?reasons,
                    "the seeded edition holds another history; left as it is"
                );
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The managed vocabularies' starting terms.
const TERMS: &[(TermKind, &str)] = &[
    (TermKind::Theme, "social cohesion"),
    (TermKind::Theme, "heritage"),
    (TermKind::Theme, "youth"),
    (TermKind::Theme, "wellbeing"),
    (TermKind::Theme, "ageing"),
    (TermKind::Theme, "democracy and participation"),
    (TermKind::Method, "co-creation"),
    (TermKind::Method, "participatory budgeting"),
    (TermKind::Method, "storytelling"),
    (TermKind::Method, "peer learning"),
    (TermKind::CulturalTool, "community theatre"),
    (TermKind::CulturalTool, "oral history"),
    (TermKind::CulturalTool, "festival"),
    (TermKind::CulturalTool, "library programme"),
    (TermKind::CulturalTool, "public art"),
];

/// Vocabularies, one published demo practice, the (public) mentor training of 2023 and an
/// upcoming demo webinar.
async fn knowledge(s: &mut Seeder<'_>, organiser: Uuid, demoville: Uuid) -> AppResult<()> {
    let mut ids = std::collections::HashMap::new();
    for (kind, name) in TERMS {
        let found = vocabulary_term::Entity::find()
            .filter(vocabulary_term::Column::Kind.eq(*kind))
            .filter(vocabulary_term::Column::Name.eq(*name))
            .one(s.txn)
            .await?;
        let id = match found {
            Some(t) => t.id,
            None => {
                s.report.inserted += 1;
                s.term(Uuid::now_v7(), *kind, name).await?
            }
        };
        ids.insert(*name, id);
    }
    let title = "Harbour choir festival (demo practice)";
    if good_practice::Entity::find()
        .filter(good_practice::Column::Title.eq(title))
        .one(s.txn)
        .await?
        .is_none()
    {
        let summary = "A fictional example: a port town brings generations together with a choir festival on the quays.";
        let body = "Demoville's library, its three choirs and the harbour association plan a weekend of \
                    singing every summer. Seniors teach old sea shanties, pupils write new verses.";
        let id = Uuid::now_v7();
        good_practice::ActiveModel {
            id: Set(id),
            title: Set(title.into()),
            summary: Set(summary.into()),
            body: Set(body.into()),
            country_code: Set(Some("EE".into())),
            source_organisation_id: Set(Some(demoville)),
            source_text: Set(None),
            outcomes: Set("1,200 visitors; two new intergenerational choirs.".into()),
            link: Set(None),
            licence: Set("CC BY 4.0".into()),
            language: Set("en".into()),
            status: Set(PracticeStatus::Published),
            author_id: Set(None),
            review_comment: Set(None),
            published_at: Set(Some(s.now)),
            search_title: Set(crate::search::normalise(title)),
            search_summary: Set(crate::search::normalise(summary)),
            search_body: Set(crate::search::normalise(body)),
            created_at: Set(s.now),
            updated_at: Set(s.now),
            version: Set(1),
        }
        .insert(s.txn)
        .await?;
        for term in ["social cohesion", "ageing", "festival", "co-creation"] {
            practice_term::ActiveModel {
                practice_id: Set(id),
                term_id: Set(ids[term]),
            }
            .insert(s.txn)
            .await?;
        }
        s.report.inserted += 1;
    }
    let webinar_start = s.now + chrono::Duration::days(30);
    for (kind, title, starts, ends, tz, place, online, public) in [
        (
            EventKind::MentorTraining,
            "Mentor training (Vejle)",
            at(2023, 9, 20, 7, 0),
            at(2023, 9, 21, 14, 0),
            "Europe/Copenhagen",
            Some("Vejle, Denmark"),
            None,
            true,
        ),
        (
            EventKind::Webinar,
            "Demo webinar: writing your CuReAP",
            webinar_start,
            webinar_start + chrono::Duration::hours(2),
            "Europe/Tallinn",
            None,
            Some("https://meet.pearls.example/curreap"),
            true,
        ),
    ] {
        if event::Entity::find()
            .filter(event::Column::Title.eq(title))
            .one(s.txn)
            .await?
            .is_some()
        {
            continue;
        }
        event::ActiveModel {
            id: Set(Uuid::now_v7()),
            kind: Set(kind),
            title: Set(title.into()),
            description: Set(String::new()),
            programme: Set(String::new()),
            starts_at: Set(starts),
            ends_at: Set(ends),
            time_zone: Set(tz.into()),
            place: Set(place.map(Into::into)),
            online_url: Set(online.map(Into::into)),
            organiser_id: Set(organiser),
            edition_id: Set(None),
            is_public: Set(public),
            capacity: Set(Some(60)),
            registration_deadline: Set(None),
            cancelled_at: Set(None),
            created_by: Set(None),
            created_at: Set(s.now),
            updated_at: Set(s.now),
            version: Set(1),
            registered_count: Set(0),
            attended_count: Set(0),
        }
        .insert(s.txn)
        .await?;
        s.report.inserted += 1;
    }
    Ok(())
}

/// (code, title, its deliverable's code, the period the deliverable is due in).
type DemoActivity = (&'static str, &'static str, &'static str, i32);

/// The project's work plan as the programme structures every project: three work packages.
/// Their activities and deliverables here are illustrative (demo), the periods are the real
/// project's (Jan 2023 – Dec 2025, six months each; reports due three months after a period).
const WORK_PLAN: &[(&str, &str, &[DemoActivity])] = &[
    (
        "WP1",
        "Preparing solutions",
        &[(
            "A1.1",
            "The title concept and the CuReAP template (demo)",
            "D1.1.1",
            2,
        )],
    ),
    (
        "WP2",
        "Piloting and evaluating solutions",
        &[(
            "A2.1",
            "Title cycles with national mentoring (demo)",
            "D2.1.1",
            4,
        )],
    ),
    (
        "WP3",
        "Sharing solutions",
        &[(
            "A3.1",
            "The Pearls network and its catalogue (demo)",
            "D3.1.1",
            6,
        )],
    ),
];

/// Reporting periods and the work plan, with outputs measured by the seeded EU indicators.
async fn reporting(s: &mut Seeder<'_>, lead_partner: Uuid) -> AppResult<()> {
    let mut periods = std::collections::HashMap::new();
    for number in 1..=6 {
        let (y, h) = (2023 + (number - 1) / 2, (number - 1) % 2);
        let date = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
        let (starts, ends, due) = if h == 0 {
            (date(y, 1, 1), date(y, 6, 30), date(y, 9, 30))
        } else {
            (date(y, 7, 1), date(y, 12, 31), date(y + 1, 3, 31))
        };
        let found = reporting_period::Entity::find()
            .filter(reporting_period::Column::Number.eq(number))
            .one(s.txn)
            .await?;
        let id = match found {
            Some(p) => p.id,
            None => {
                s.report.inserted += 1;
                reporting_period::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    number: Set(number),
                    starts_on: Set(starts),
                    ends_on: Set(ends),
                    report_deadline: Set(due),
                    created_at: Set(s.now),
                    updated_at: Set(s.now),
                    version: Set(1),
                }
                .insert(s.txn)
                .await?
                .id
            }
        };
        periods.insert(number, id);
    }
    for (wp_code, wp_title, activities) in WORK_PLAN {
        if work_package::Entity::find()
            .filter(work_package::Column::Code.eq(*wp_code))
            .one(s.txn)
            .await?
            .is_some()
        {
            continue;
        }
        let wp = work_package::ActiveModel {
            id: Set(Uuid::now_v7()),
            code: Set((*wp_code).into()),
            title: Set((*wp_title).into()),
            description: Set(String::new()),
            lead_organisation_id: Set(Some(lead_partner)),
            created_at: Set(s.now),
            updated_at: Set(s.now),
            version: Set(1),
        }
        .insert(s.txn)
        .await?;
        s.report.inserted += 1;
        for (code, title, deliverable_code, due) in *activities {
            let a = activity::ActiveModel {
                id: Set(Uuid::now_v7()),
                work_package_id: Set(wp.id),
                code: Set((*code).into()),
                title: Set((*title).into()),
                description: Set(String::new()),
                lead_organisation_id: Set(Some(lead_partner)),
                created_at: Set(s.now),
                updated_at: Set(s.now),
                version: Set(1),
            }
            .insert(s.txn)
            .await?;
            deliverable::ActiveModel {
                id: Set(Uuid::now_v7()),
                activity_id: Set(a.id),
                code: Set((*deliverable_code).into()),
                title: Set(format!("{title}: report")),
                due_period_id: Set(periods.get(due).copied()),
                created_at: Set(s.now),
                updated_at: Set(s.now),
                version: Set(1),
            }
            .insert(s.txn)
            .await?;
            s.report.inserted += 2;
        }
        // WP2 pilots the title: its outputs are the plans and the pilot actions.
        if *wp_code == "WP2" {
            for (code, title, indicator_code) in [
                ("O2.1", "Culture and Resilience Action Plans", "RCO83"),
                ("O2.2", "Pilot actions of the title years", "RCO84"),
            ] {
                let Some(ind) = indicator::Entity::find()
                    .filter(indicator::Column::Code.eq(indicator_code))
                    .one(s.txn)
                    .await?
                else {
                    continue;
                };
                output::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    work_package_id: Set(wp.id),
                    code: Set(code.into()),
                    title: Set(title.into()),
                    indicator_id: Set(ind.id),
                    target_milli: Set(None),
                    created_at: Set(s.now),
                    updated_at: Set(s.now),
                    version: Set(1),
                }
                .insert(s.txn)
                .await?;
                s.report.inserted += 1;
            }
        }
    }
    Ok(())
}
