//! `pearls seed --scale N`: a deterministic synthetic programme for benchmarks. The same N (and
//! the same `--anchor` day) gives the same rows, ids included. At N = 1 it is about the real
//! programme's size; at N = 1000 the largest table (participations) has about a million rows and
//! every other table grows in proportion: 30,000 municipalities, 40,000 applications, some
//! 11,000 CuReAPs with 330,000 actions, 10,000 practices, 4,000 events.
//!
//! Rows go in with multi-row INSERTs (as many rows per statement as the databases' parameter
//! limits allow) inside one transaction, so a failed load leaves nothing behind. The consortium
//! and the demo logins (`coordinator@pearls.example` …, password `pearls-demo`) are included,
//! wired to data worth looking at: the municipality account has a CuReAP in development and a
//! title-year action plan, the mentor account mentors both.
//!
//! Dates follow the edition calendar (call from October two years before the title year, CuReAP
//! development from April to November of the year before), so which editions are in their call,
//! in CuReAP development or in their title year depends on the anchor day (default: today).

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Instant;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use entity::{
    ActionStatus, ApplicationStatus, AssessmentStage, EventKind, Implementation, MentorKind,
    OrganisationKind, ParticipationRole, ParticipationStatus, PhaseKind, PlanSection,
    PracticeStatus, Role, SessionFormat, TermKind, application, application_status_change,
    assessment, assessment_score, assessor_assignment, criterion, edition, event, good_practice,
    mentor_assignment, mentoring_session, organisation, participation, phase, plan, plan_action,
    plan_action_practice, plan_action_theme, plan_comment, plan_indicator, plan_version,
    practice_term, progress_update, user, vocabulary_term,
};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, EntityTrait, Iterable, PaginatorTrait, QueryFilter,
    TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

use super::{DEMO_PASSWORD, SeedReport, Seeder, TERMS};
use crate::auth::password::Passwords;
use crate::error::{AppError, AppResult};
use crate::plans::service::{ActionSnapshot, IndicatorSnapshot, Snapshot};

/// Countries the synthetic municipalities are in.
const COUNTRIES: [&str; 9] = ["DE", "DK", "EE", "FI", "LT", "LV", "NO", "PL", "SE"];

/// Words titles, summaries and bodies are made of (so searches find something).
const WORDS: [&str; 48] = [
    "harbour",
    "choir",
    "festival",
    "library",
    "heritage",
    "youth",
    "theatre",
    "museum",
    "dance",
    "craft",
    "storytelling",
    "memory",
    "music",
    "mural",
    "archive",
    "folk",
    "village",
    "market",
    "garden",
    "island",
    "river",
    "forest",
    "bridge",
    "lighthouse",
    "song",
    "poetry",
    "film",
    "photography",
    "food",
    "boat",
    "school",
    "seniors",
    "neighbourhood",
    "square",
    "workshop",
    "exhibition",
    "residency",
    "podcast",
    "radio",
    "circus",
    "puppets",
    "sauna",
    "fishing",
    "amber",
    "wool",
    "ceramics",
    "orchestra",
    "carnival",
];

/// The share of running-text words that are theme words; the rest comes from a larger filler
/// vocabulary with Zipf-distributed frequencies, as in real prose. With 48 theme words alone a
/// three-word search matched three quarters of the catalogue; now it matches about one per cent.
const THEME_SHARE: f64 = 0.1;

/// Filler words (three syllables each) and their cumulative Zipf weights (rank r weighs 1/r).
static FILLER: LazyLock<(Vec<String>, Vec<f64>)> = LazyLock::new(|| {
    const PARTS: [&str; 16] = [
        "ba", "ke", "li", "mo", "nu", "ra", "se", "ti", "vo", "da", "fe", "gi", "ho", "ju", "pa",
        "ste",
    ];
    let words = (0..PARTS.len().pow(3))
        .map(|i| {
            format!(
                "{}{}{}",
                PARTS[i % 16],
                PARTS[(i / 16) % 16],
                PARTS[i / 256]
            )
        })
        .collect();
    let mut total = 0.0;
    let cumulative = (1..=PARTS.len().pow(3))
        .map(|rank| {
            total += 1.0 / rank as f64;
            total
        })
        .collect();
    (words, cumulative)
});

/// Syllables town names are made of.
const SYLLABLES: [&str; 16] = [
    "ka", "ri", "ves", "to", "lin", "ha", "mar", "sk", "en", "bo", "rg", "va", "ne", "dal", "ø",
    "la",
];

/// The day the synthetic calendar is anchored to.
pub struct ScaleOptions {
    pub scale: u32,
    pub anchor: NaiveDate,
}

/// Deterministic randomness: a named generator (xoshiro256++) seeded with the scale.
struct Gen(Xoshiro256PlusPlus);

impl Gen {
    fn id(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(self.0.random()).into_uuid()
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { self.0.random_range(0..n) }
    }
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            self.0.random_range(lo..=hi)
        }
    }
    fn chance(&mut self, p: f64) -> bool {
        self.0.random_bool(p.clamp(0.0, 1.0))
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    fn words(&mut self, n: usize) -> String {
        (0..n).map(|_| self.word()).collect::<Vec<_>>().join(" ")
    }
    fn word(&mut self) -> &'static str {
        if self.chance(THEME_SHARE) {
            return WORDS[self.below(WORDS.len())];
        }
        let (words, cumulative) = &*FILLER;
        let total = cumulative.last().copied().unwrap_or(1.0);
        let u = self.0.random::<f64>() * total;
        let rank = cumulative.partition_point(|&c| c < u).min(words.len() - 1);
        &words[rank]
    }
    /// A title names two themes around a filler word ("Harbour kelimo choir").
    fn title(&mut self) -> String {
        let mut t = format!(
            "{} {} {}",
            self.pick(&WORDS),
            self.word(),
            self.pick(&WORDS)
        );
        if let Some(first) = t.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        t
    }
    fn town(&mut self, i: usize) -> String {
        let n = 2 + self.below(2);
        let mut s: String = (0..n).map(|_| *self.pick(&SYLLABLES)).collect();
        if let Some(first) = s.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        format!("{s} {i}")
    }
    /// An instant between two others.
    fn during(&mut self, from: DateTime<Utc>, until: DateTime<Utc>) -> DateTime<Utc> {
        let span = (until - from).num_minutes().max(1);
        from + Duration::minutes(self.between(0, span - 1))
    }
}

/// Flushes the given buffers, in order, once any of them is full: list parents before the rows
/// that point at them, so no foreign key ever points at a row still in a buffer.
macro_rules! flush_if_full {
    ($txn:expr, $($bulk:expr),+ $(,)?) => {
        if false $(|| $bulk.full())+ {
            $($bulk.flush($txn).await?;)+
        }
    };
}

/// Inserts rows in multi-row statements, as many per statement as the parameter limits allow
/// (SQLite: 32,766 per statement; PostgreSQL: 65,535).
struct Bulk<A: ActiveModelTrait> {
    rows: Vec<A>,
    per: usize,
    total: u64,
    label: &'static str,
    started: Instant,
}

impl<A> Bulk<A>
where
    A: ActiveModelTrait + Send,
{
    fn new(label: &'static str) -> Self {
        let columns = <A::Entity as EntityTrait>::Column::iter().count().max(1);
        let per = (30_000 / columns).clamp(1, 2_000);
        Self {
            rows: Vec::with_capacity(per),
            per,
            total: 0,
            label,
            started: Instant::now(),
        }
    }

    /// Buffers a row (see [`flush_if_full!`]: rows that others point at go in first).
    fn push(&mut self, row: A) {
        self.rows.push(row);
    }

    fn full(&self) -> bool {
        self.rows.len() >= self.per
    }

    /// Inserts the buffered rows, `per` to a statement.
    async fn flush(&mut self, txn: &DatabaseTransaction) -> AppResult<()> {
        let mut rows = std::mem::take(&mut self.rows).into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<A> = rows.by_ref().take(self.per).collect();
            self.total += chunk.len() as u64;
            <A::Entity as EntityTrait>::insert_many(chunk)
                .exec_without_returning(txn)
                .await?;
        }
        Ok(())
    }

    async fn finish(
        mut self,
        txn: &DatabaseTransaction,
        report: &mut SeedReport,
    ) -> AppResult<u64> {
        self.flush(txn).await?;
        report.inserted += self.total as usize;
        eprintln!(
            "  {:<26} {:>10} rows  {:>6.1} s",
            self.label,
            self.total,
            self.started.elapsed().as_secs_f64()
        );
        Ok(self.total)
    }
}

/// Where an edition stands on the anchor day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Applications are coming in.
    Call,
    /// Preselection done; the shortlisted write their CuReAPs (or the jury is at work).
    Development,
    /// The Pearls carry out their plans.
    TitleYear,
    /// Over.
    Past,
}

fn at(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()
}

fn ymd(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0)
        .single()
        .expect("a valid date")
}

/// The phases of the edition with title year `y`.
fn phases(y: i32) -> [(PhaseKind, DateTime<Utc>, DateTime<Utc>); 6] {
    [
        (PhaseKind::Call, ymd(y - 2, 10, 1), ymd(y - 1, 1, 31)),
        (PhaseKind::Preselection, ymd(y - 1, 2, 1), ymd(y - 1, 3, 31)),
        (
            PhaseKind::CureapDevelopment,
            ymd(y - 1, 4, 1),
            ymd(y - 1, 11, 30),
        ),
        (PhaseKind::Jury, ymd(y - 1, 12, 1), ymd(y - 1, 12, 10)),
        (PhaseKind::Award, ymd(y - 1, 12, 11), ymd(y - 1, 12, 20)),
        (PhaseKind::TitleYear, ymd(y, 1, 1), ymd(y, 12, 31)),
    ]
}

fn stage(y: i32, now: DateTime<Utc>) -> Stage {
    let p = phases(y);
    if now < p[1].1 {
        Stage::Call
    } else if now < p[5].1 {
        Stage::Development
    } else if now <= p[5].2 {
        Stage::TitleYear
    } else {
        Stage::Past
    }
}

/// One synthetic application, as generated.
struct App {
    id: Uuid,
    edition: usize,
    municipality: usize,
    status: ApplicationStatus,
}

/// Loads the synthetic programme into an empty database.
pub async fn load(
    db: &DatabaseConnection,
    passwords: &Passwords,
    opts: &ScaleOptions,
) -> AppResult<SeedReport> {
    let n = opts.scale.max(1) as usize;
    if edition::Entity::find().count(db).await? > 0 {
        return Err(AppError::conflict(
            "seed --scale loads into an empty database (this one has editions): use a fresh DATABASE_URL",
        ));
    }
    let started = Instant::now();
    let now = at(opts.anchor);
    let mut g = Gen(Xoshiro256PlusPlus::seed_from_u64(0x5EA1_0000 + n as u64));
    let txn = db.begin().await?;
    let mut s = Seeder {
        txn: &txn,
        now,
        report: SeedReport::default(),
    };
    eprintln!(
        "seed --scale {n} (anchor {}) into {:?}",
        opts.anchor,
        db.get_database_backend()
    );

    // The consortium and the named logins.
    let consortium = s.consortium().await?;
    let lead_partner = consortium[0];
    let partner_orgs: Vec<Uuid> = consortium[1..].to_vec();
    let hash = passwords.hash(DEMO_PASSWORD).await?;

    // Vocabulary.
    let mut themes = Vec::new();
    let mut methods = Vec::new();
    let mut tools = Vec::new();
    let mut theme_names = HashMap::new();
    for (kind, name) in TERMS {
        let id = g.id();
        vocabulary_term::ActiveModel {
            id: Set(id),
            kind: Set(*kind),
            name: Set((*name).into()),
            description: Set(String::new()),
            retired: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
        }
        .insert(&txn)
        .await?;
        match kind {
            TermKind::Theme => {
                themes.push(id);
                theme_names.insert(id, *name);
            }
            TermKind::Method => methods.push(id),
            TermKind::CulturalTool => tools.push(id),
        }
    }

    // Municipalities and people.
    let municipalities_n = 30 * n;
    let mut municipalities = Vec::with_capacity(municipalities_n);
    let mut bulk = Bulk::<organisation::ActiveModel>::new("municipalities");
    for i in 0..municipalities_n {
        let id = g.id();
        let cc = *g.pick(&COUNTRIES);
        municipalities.push((id, cc));
        let name = if i == 0 {
            "Demoville (fictional demo municipality)".to_owned()
        } else {
            g.town(i)
        };
        bulk.push(organisation::ActiveModel {
            id: Set(id),
            kind: Set(OrganisationKind::Municipality),
            name: Set(name),
            country_code: Set(cc.into()),
            region: Set(None),
            population: Set(Some(g.between(2_000, 400_000))),
            is_capital: Set(false),
            created_at: Set(now - Duration::days(900)),
            updated_at: Set(now - Duration::days(900)),
            version: Set(1),
        });
        flush_if_full!(&txn, bulk);
    }
    bulk.finish(&txn, &mut s.report).await?;

    let mut people: Vec<(Uuid, Option<Uuid>)> = Vec::new(); // (user, organisation)
    let mut contacts = Vec::with_capacity(municipalities_n); // a contact per municipality
    let mut mentors = Vec::new();
    let mut partners = Vec::new();
    let mut bulk = Bulk::<user::ActiveModel>::new("users");
    let person =
        |id: Uuid, email: String, name: String, role: Role, org: Option<Uuid>, cc: Option<&str>| {
            user::ActiveModel {
                id: Set(id),
                email: Set(email),
                name: Set(name),
                role: Set(role),
                organisation_id: Set(org),
                country_code: Set(cc.map(Into::into)),
                active: Set(true),
                password_hash: Set(hash.clone()),
                created_at: Set(now - Duration::days(800)),
                updated_at: Set(now - Duration::days(800)),
                version: Set(1),
            }
        };
    for (email, name, role, org) in [
        (
            "coordinator@pearls.example".to_owned(),
            "Demo Coordinator",
            Role::Coordinator,
            lead_partner,
        ),
        (
            "coordinator2@scale.pearls.example".to_owned(),
            "Second Coordinator",
            Role::Coordinator,
            lead_partner,
        ),
    ] {
        let id = g.id();
        bulk.push(person(id, email, name.into(), role, Some(org), None));
        people.push((id, Some(org)));
        flush_if_full!(&txn, bulk);
    }
    for i in 0..(2 * n + 10) {
        let id = g.id();
        let (email, org) = if i == 0 {
            ("partner@pearls.example".to_owned(), consortium[7])
        } else {
            (
                format!("partner{i}@scale.pearls.example"),
                *g.pick(&partner_orgs),
            )
        };
        bulk.push(person(
            id,
            email,
            format!("Partner {i}"),
            Role::Partner,
            Some(org),
            None,
        ));
        partners.push(id);
        people.push((id, Some(org)));
        flush_if_full!(&txn, bulk);
    }
    for i in 0..(2 * n + 5) {
        let id = g.id();
        let email = if i == 0 {
            "mentor@pearls.example".to_owned()
        } else {
            format!("mentor{i}@scale.pearls.example")
        };
        let cc = *g.pick(&COUNTRIES);
        let org = *g.pick(&partner_orgs);
        bulk.push(person(
            id,
            email,
            format!("Mentor {i}"),
            Role::Mentor,
            Some(org),
            Some(cc),
        ));
        mentors.push(id);
        people.push((id, Some(org)));
        flush_if_full!(&txn, bulk);
    }
    for (i, (m, cc)) in municipalities.iter().enumerate() {
        let id = g.id();
        let email = if i == 0 {
            "municipality@pearls.example".to_owned()
        } else {
            format!("town{i}@scale.pearls.example")
        };
        bulk.push(person(
            id,
            email,
            format!("Contact {i}"),
            Role::Municipality,
            Some(*m),
            Some(cc),
        ));
        contacts.push(id);
        people.push((id, Some(*m)));
        flush_if_full!(&txn, bulk);
    }
    for i in 0..(10 * n) {
        let id = g.id();
        let (m, cc) = *g.pick(&municipalities);
        bulk.push(person(
            id,
            format!("member{i}@scale.pearls.example"),
            format!("Network member {i}"),
            Role::Municipality,
            Some(m),
            Some(cc),
        ));
        people.push((id, Some(m)));
        flush_if_full!(&txn, bulk);
    }
    bulk.finish(&txn, &mut s.report).await?;

    // Editions, their phases and criteria.
    let editions_n = 4 + n / 100;
    let last_year = opts.anchor.year() + 2;
    let years: Vec<i32> = (0..editions_n)
        .map(|i| last_year - (editions_n - 1 - i) as i32)
        .collect();
    let mut editions = Vec::new();
    let mut criteria: HashMap<(usize, AssessmentStage), Vec<Uuid>> = HashMap::new();
    let mut assessors: HashMap<usize, Vec<Uuid>> = HashMap::new();
    let mut phase_bulk = Bulk::<phase::ActiveModel>::new("phases");
    let mut criterion_bulk = Bulk::<criterion::ActiveModel>::new("criteria");
    let mut assessor_bulk = Bulk::<assessor_assignment::ActiveModel>::new("assessor assignments");
    for (e, y) in years.iter().enumerate() {
        let id = g.id();
        edition::ActiveModel {
            id: Set(id),
            title_year: Set(*y),
            name: Set(format!("BSR Cultural Pearls {y} (synthetic)")),
            award_cap: Set(4),
            one_per_country: Set(false),
            extra_awards: Set(0),
            created_at: Set(ymd(y - 2, 6, 1).min(now)),
            updated_at: Set(ymd(y - 2, 6, 1).min(now)),
            version: Set(1),
        }
        .insert(&txn)
        .await?;
        editions.push((id, *y, stage(*y, now)));
        for (kind, from, to) in phases(*y) {
            phase_bulk.push(phase::ActiveModel {
                id: Set(g.id()),
                edition_id: Set(id),
                kind: Set(kind),
                starts_at: Set(from),
                ends_at: Set(to),
            });
        }
        for stage in [AssessmentStage::Preselection, AssessmentStage::Jury] {
            for (pos, name) in ["Relevance", "Resilience", "Participation", "Capacity"]
                .iter()
                .enumerate()
            {
                let cid = g.id();
                criteria.entry((e, stage)).or_default().push(cid);
                criterion_bulk.push(criterion::ActiveModel {
                    id: Set(cid),
                    edition_id: Set(id),
                    stage: Set(stage),
                    position: Set(pos as i32),
                    name: Set((*name).into()),
                    description: Set(String::new()),
                    weight_milli: Set(1000),
                    max_score: Set(10),
                    created_at: Set(ymd(y - 2, 6, 1).min(now)),
                    updated_at: Set(ymd(y - 2, 6, 1).min(now)),
                    version: Set(1),
                });
            }
            for _ in 0..2 {
                let a = *g.pick(&partners);
                if assessors.entry(e).or_default().contains(&a) {
                    continue;
                }
                assessors.entry(e).or_default().push(a);
                assessor_bulk.push(assessor_assignment::ActiveModel {
                    id: Set(g.id()),
                    edition_id: Set(id),
                    stage: Set(stage),
                    assessor_id: Set(a),
                    assigned_by: Set(None),
                    created_at: Set(ymd(y - 1, 1, 15)),
                });
            }
        }
        flush_if_full!(&txn, phase_bulk, criterion_bulk, assessor_bulk);
    }
    eprintln!("  {:<26} {:>10} rows", "editions", editions.len());
    phase_bulk.finish(&txn, &mut s.report).await?;
    criterion_bulk.finish(&txn, &mut s.report).await?;
    assessor_bulk.finish(&txn, &mut s.report).await?;

    // Applications: every municipality once, a third of them a second time in another edition;
    // statuses as the edition's stage allows.
    let current = |stage: Stage| editions.iter().position(|e| e.2 == stage);
    let mut apps: Vec<App> = Vec::new();
    let second = municipalities_n / 3;
    // Editions whose call has opened by the anchor day.
    let open: Vec<usize> = (0..editions.len())
        .filter(|e| phases(editions[*e].1)[0].1 <= now)
        .collect();
    for k in 0..(municipalities_n + second) {
        let m = k % municipalities_n;
        if k >= municipalities_n && m == 0 {
            continue; // Demoville's applications are set below
        }
        let mut e = *g.pick(&open);
        if k >= municipalities_n && apps[m].edition == e {
            let next = (open.iter().position(|x| *x == e).unwrap_or(0) + 1) % open.len();
            e = open[next];
        }
        let stage = editions[e].2;
        let p = g.0.random::<f64>();
        let shortlisted = |g: &mut Gen, awarded: ApplicationStatus| {
            if g.chance(0.3) {
                awarded
            } else {
                ApplicationStatus::NotAwarded
            }
        };
        let status = match stage {
            Stage::Call if p < 0.4 => ApplicationStatus::Draft,
            Stage::Call => ApplicationStatus::Submitted,
            _ if p < 0.05 => ApplicationStatus::Withdrawn,
            _ if p < 0.20 => ApplicationStatus::Ineligible,
            _ if p < 0.55 => ApplicationStatus::NotShortlisted,
            Stage::Development if g.chance(0.7) => ApplicationStatus::CureapInDevelopment,
            Stage::Development => ApplicationStatus::CureapSubmitted,
            Stage::TitleYear => shortlisted(&mut g, ApplicationStatus::TitleYearActive),
            Stage::Past => shortlisted(&mut g, ApplicationStatus::TitleYearCompleted),
        };
        apps.push(App {
            id: g.id(),
            edition: e,
            municipality: m,
            status,
        });
    }
    // Demoville (the municipality login): a CuReAP in development and a title year under way.
    if let (Some(dev), Some(title)) = (current(Stage::Development), current(Stage::TitleYear)) {
        apps[0].edition = dev;
        apps[0].status = ApplicationStatus::CureapInDevelopment;
        apps.push(App {
            id: g.id(),
            edition: title,
            municipality: 0,
            status: ApplicationStatus::TitleYearActive,
        });
    }
    // Award caps as the outcome was.
    for (e, (id, _, _)) in editions.iter().enumerate() {
        let awarded = apps
            .iter()
            .filter(|a| {
                a.edition == e
                    && matches!(
                        a.status,
                        ApplicationStatus::TitleYearActive | ApplicationStatus::TitleYearCompleted
                    )
            })
            .count()
            .max(4) as i32;
        edition::Entity::update_many()
            .col_expr(
                edition::Column::AwardCap,
                sea_orm::sea_query::Expr::value(awarded),
            )
            .filter(edition::Column::Id.eq(*id))
            .exec(&txn)
            .await?;
    }

    use ApplicationStatus as S;
    let mut app_bulk = Bulk::<application::ActiveModel>::new("applications");
    let mut history_bulk = Bulk::<application_status_change::ActiveModel>::new("status changes");
    let mut assessment_bulk = Bulk::<assessment::ActiveModel>::new("assessments");
    let mut score_bulk = Bulk::<assessment_score::ActiveModel>::new("assessment scores");
    let mut with_plan: Vec<usize> = Vec::new();
    for (i, a) in apps.iter().enumerate() {
        let (_, y, _) = editions[a.edition];
        let p = phases(y);
        // Nothing happens after the anchor day.
        let cap = |t: DateTime<Utc>| t.min(now);
        let created = g.during(p[0].1, cap(p[0].2 - Duration::days(20)));
        let submitted = g.during(created, cap(p[0].2));
        let path: Vec<(S, DateTime<Utc>)> = {
            let presel = g.during(p[1].1, p[1].2);
            let short = p[1].2 - Duration::days(g.between(0, 5));
            let dev = p[2].1 + Duration::days(g.between(0, 10));
            let cureap = g.during((p[2].2 - Duration::days(30)).min(now), p[2].2.min(now));
            let award = g.during(p[4].1, p[4].2);
            let mut v = vec![(S::Draft, created)];
            let mut then = |s: S, t: DateTime<Utc>| v.push((s, t));
            match a.status {
                S::Draft => {}
                S::Submitted => then(S::Submitted, submitted),
                S::Withdrawn => {
                    then(S::Submitted, submitted);
                    then(S::Withdrawn, presel);
                }
                S::Ineligible => {
                    then(S::Submitted, submitted);
                    then(S::Ineligible, presel);
                }
                S::NotShortlisted => {
                    then(S::Submitted, submitted);
                    then(S::Eligible, presel);
                    then(S::NotShortlisted, short);
                }
                _ => {
                    then(S::Submitted, submitted);
                    then(S::Eligible, presel);
                    then(S::Shortlisted, short);
                    then(S::CureapInDevelopment, dev);
                    if a.status != S::CureapInDevelopment {
                        then(S::CureapSubmitted, cureap);
                    }
                    match a.status {
                        S::NotAwarded => then(S::NotAwarded, award),
                        S::TitleYearActive | S::TitleYearCompleted => {
                            then(S::Awarded, award);
                            then(S::TitleYearActive, p[5].1);
                            if a.status == S::TitleYearCompleted {
                                then(S::TitleYearCompleted, p[5].2);
                            }
                        }
                        _ => {}
                    }
                }
            }
            v
        };
        let last = path.last().map(|(_, t)| *t).unwrap_or(created);
        app_bulk.push(application::ActiveModel {
            id: Set(a.id),
            edition_id: Set(editions[a.edition].0),
            lead_municipality_id: Set(municipalities[a.municipality].0),
            title: Set(format!("{}: {}", a.municipality, g.title())),
            motivation: Set(g.words(40)),
            status: Set(a.status),
            submitted_at: Set((a.status != S::Draft).then_some(submitted)),
            created_by: Set(Some(contacts[a.municipality])),
            created_at: Set(created),
            updated_at: Set(last),
            version: Set(path.len() as i32),
            withdrawn_from: Set(None),
            cureap_submitted_at: Set(None),
        });
        let mut from = None;
        for (status, t) in &path {
            history_bulk.push(application_status_change::ActiveModel {
                id: Set(g.id()),
                application_id: Set(a.id),
                from_status: Set(from),
                to_status: Set(*status),
                actor_id: Set(None),
                note: Set(None),
                changed_at: Set(*t),
            });
            from = Some(*status);
        }
        // Scores: two preselection assessments of every eligible application, two jury
        // assessments of every submitted CuReAP that reached the jury.
        let eligible = path.iter().any(|(s, _)| *s == S::Eligible);
        let judged = path.iter().any(|(s, _)| {
            matches!(s, S::Awarded | S::NotAwarded) || (*s == S::CureapSubmitted && y <= now.year())
        });
        for (stage, go, when) in [
            (
                AssessmentStage::Preselection,
                eligible,
                p[1].1 + Duration::days(20),
            ),
            (AssessmentStage::Jury, judged, p[3].1 + Duration::days(3)),
        ] {
            if !go {
                continue;
            }
            for assessor in assessors
                .get(&a.edition)
                .cloned()
                .unwrap_or_default()
                .iter()
                .take(2)
            {
                let aid = g.id();
                assessment_bulk.push(assessment::ActiveModel {
                    id: Set(aid),
                    application_id: Set(a.id),
                    assessor_id: Set(*assessor),
                    stage: Set(stage),
                    conflict_of_interest: Set(false),
                    comment: Set(String::new()),
                    submitted_at: Set(when),
                    updated_at: Set(when),
                    version: Set(1),
                });
                for c in criteria
                    .get(&(a.edition, stage))
                    .cloned()
                    .unwrap_or_default()
                {
                    score_bulk.push(assessment_score::ActiveModel {
                        assessment_id: Set(aid),
                        criterion_id: Set(c),
                        score: Set(g.between(3, 10) as i32),
                    });
                }
            }
        }
        if path.iter().any(|(s, _)| *s == S::CureapInDevelopment) {
            with_plan.push(i);
        }
        flush_if_full!(&txn, app_bulk, history_bulk, assessment_bulk, score_bulk);
    }
    app_bulk.finish(&txn, &mut s.report).await?;
    history_bulk.finish(&txn, &mut s.report).await?;
    assessment_bulk.finish(&txn, &mut s.report).await?;
    score_bulk.finish(&txn, &mut s.report).await?;

    // The catalogue (before plans, which cite it).
    let practices_n = 10 * n + 20;
    let mut practices = Vec::new();
    let mut practice_bulk = Bulk::<good_practice::ActiveModel>::new("practices");
    let mut practice_term_bulk = Bulk::<practice_term::ActiveModel>::new("practice terms");
    for i in 0..practices_n {
        let id = g.id();
        let title = g.title();
        let summary = g.words(18);
        let body = g.words(90);
        let status = match g.below(20) {
            0 => PracticeStatus::InReview,
            1 | 2 => PracticeStatus::Draft,
            _ => PracticeStatus::Published,
        };
        let created = g.during(ymd(2023, 1, 1), now);
        if status == PracticeStatus::Published {
            practices.push((id, title.clone()));
        }
        practice_bulk.push(good_practice::ActiveModel {
            id: Set(id),
            search_title: Set(crate::search::normalise(&title)),
            search_summary: Set(crate::search::normalise(&summary)),
            search_body: Set(crate::search::normalise(&body)),
            title: Set(title),
            summary: Set(summary),
            body: Set(body),
            country_code: Set(Some((*g.pick(&COUNTRIES)).into())),
            source_organisation_id: Set(Some(municipalities[g.below(municipalities_n)].0)),
            source_text: Set(None),
            outcomes: Set(g.words(12)),
            link: Set(None),
            licence: Set("CC BY 4.0".into()),
            language: Set(if i % 7 == 0 { "de" } else { "en" }.into()),
            status: Set(status),
            author_id: Set(Some(*g.pick(&partners))),
            review_comment: Set(None),
            published_at: Set((status == PracticeStatus::Published).then_some(created)),
            created_at: Set(created),
            updated_at: Set(created),
            version: Set(1),
        });
        let mut terms = vec![*g.pick(&themes), *g.pick(&methods), *g.pick(&tools)];
        if g.chance(0.5) {
            let t = *g.pick(&themes);
            if !terms.contains(&t) {
                terms.push(t);
            }
        }
        for t in terms {
            practice_term_bulk.push(practice_term::ActiveModel {
                practice_id: Set(id),
                term_id: Set(t),
            });
        }
        flush_if_full!(&txn, practice_bulk, practice_term_bulk);
    }
    practice_bulk.finish(&txn, &mut s.report).await?;
    practice_term_bulk.finish(&txn, &mut s.report).await?;

    // CuReAPs: sections, 10–50 actions with a theme (a tenth cite a practice), five indicators,
    // comments; a frozen version once submitted; title-year progress for the Pearls; a national
    // mentor (a twin for some) with sessions.
    let mut plan_bulk = Bulk::<plan::ActiveModel>::new("plans");
    let mut version_bulk = Bulk::<plan_version::ActiveModel>::new("plan versions");
    let mut action_bulk = Bulk::<plan_action::ActiveModel>::new("plan actions");
    let mut theme_bulk = Bulk::<plan_action_theme::ActiveModel>::new("plan action themes");
    let mut cite_bulk = Bulk::<plan_action_practice::ActiveModel>::new("plan action practices");
    let mut indicator_bulk = Bulk::<plan_indicator::ActiveModel>::new("plan indicators");
    let mut comment_bulk = Bulk::<plan_comment::ActiveModel>::new("plan comments");
    let mut progress_bulk = Bulk::<progress_update::ActiveModel>::new("progress updates");
    let mut assignment_bulk = Bulk::<mentor_assignment::ActiveModel>::new("mentor assignments");
    let mut session_bulk = Bulk::<mentoring_session::ActiveModel>::new("mentoring sessions");
    for &i in &with_plan {
        let a = &apps[i];
        let (_, y, _) = editions[a.edition];
        let p = phases(y);
        let dev_start = p[2].1;
        let plan_id = g.id();
        let submitted = a.status != S::CureapInDevelopment;
        let mentor = if a.municipality == 0 {
            mentors[0]
        } else {
            *g.pick(&mentors)
        };
        let assignment = g.id();
        assignment_bulk.push(mentor_assignment::ActiveModel {
            id: Set(assignment),
            application_id: Set(a.id),
            mentor_id: Set(mentor),
            kind: Set(MentorKind::National),
            starts_on: Set(dev_start.date_naive()),
            ends_on: Set(None),
            created_at: Set(dev_start),
        });
        if g.chance(0.1) {
            let twin = *g.pick(&mentors);
            if twin != mentor {
                assignment_bulk.push(mentor_assignment::ActiveModel {
                    id: Set(g.id()),
                    application_id: Set(a.id),
                    mentor_id: Set(twin),
                    kind: Set(MentorKind::Twin),
                    starts_on: Set(dev_start.date_naive()),
                    ends_on: Set(None),
                    created_at: Set(dev_start),
                });
            }
        }
        for _ in 0..6 {
            let held = g.during(
                dev_start,
                p[2].2.min(now).max(dev_start + Duration::days(1)),
            );
            session_bulk.push(mentoring_session::ActiveModel {
                id: Set(g.id()),
                assignment_id: Set(assignment),
                held_on: Set(held.date_naive()),
                minutes: Set(g.between(30, 180) as i32),
                format: Set(if g.chance(0.6) {
                    SessionFormat::Online
                } else {
                    SessionFormat::Onsite
                }),
                topics: Set(g.words(4)),
                notes: Set(g.words(20)),
                created_at: Set(held),
                updated_at: Set(held),
                version: Set(1),
            });
        }
        let vision = g.words(30);
        let context = g.words(60);
        let objectives = g.words(40);
        let stakeholders = g.words(20);
        let timeline = g.words(20);
        let budget = g.between(50_000, 2_000_000) * 100;
        let edited = g.during(
            dev_start,
            p[2].2.min(now).max(dev_start + Duration::days(1)),
        );
        let mut snapshot_actions = Vec::new();
        let actions_n = g.between(10, 50) as usize;
        let pearl = matches!(a.status, S::TitleYearActive | S::TitleYearCompleted);
        for pos in 0..actions_n {
            let action = g.id();
            let title = g.title();
            let description = g.words(25);
            let theme = *g.pick(&themes);
            let starts = ymd(y, 1, 1) + Duration::days(g.between(0, 300));
            let ends = starts + Duration::days(g.between(1, 60));
            let action_budget = g.between(1_000, 80_000) * 100;
            let status = if pearl {
                match g.below(10) {
                    0 => ActionStatus::Cancelled,
                    1..=3 => ActionStatus::InProgress,
                    4..=5 if a.status == S::TitleYearActive => ActionStatus::Planned,
                    _ => ActionStatus::Completed,
                }
            } else {
                ActionStatus::Planned
            };
            // Title-year progress: the posts in time order, the last one the action's latest.
            let mut posts = Vec::new();
            if pearl {
                let title_start = p[5].1;
                let until = p[5].2.min(now).max(title_start + Duration::days(1));
                let n_posts = g.between(0, 6);
                let mut times: Vec<DateTime<Utc>> =
                    (0..n_posts).map(|_| g.during(title_start, until)).collect();
                times.sort();
                for (k, posted_at) in times.into_iter().enumerate() {
                    let k = k as i64;
                    let implementation = match (k + 1 == n_posts, g.below(3)) {
                        (true, 0) | (true, 1) => Implementation::Fully,
                        (_, 2) => Implementation::Not,
                        _ => Implementation::Partly,
                    };
                    posts.push(progress_update::ActiveModel {
                        id: Set(g.id()),
                        action_id: Set(action),
                        implementation: Set(implementation),
                        percentage: Set(((k + 1) * 100 / n_posts) as i32),
                        participants_reached: Set(g.between(0, 800) as i32),
                        evidence_url: Set(None),
                        note: Set(g.words(8)),
                        posted_by: Set(Some(contacts[a.municipality])),
                        posted_at: Set(posted_at),
                    });
                }
            }
            let latest = posts.last().map(|u| {
                (
                    u.implementation.clone().unwrap(),
                    u.participants_reached.clone().unwrap(),
                )
            });
            action_bulk.push(plan_action::ActiveModel {
                id: Set(action),
                plan_id: Set(plan_id),
                position: Set(pos as i32),
                title: Set(title.clone()),
                description: Set(description.clone()),
                target_groups: Set("residents, pupils, seniors".into()),
                cultural_partners: Set("library, choirs".into()),
                starts_on: Set(Some(starts.date_naive())),
                ends_on: Set(Some(ends.date_naive())),
                budget_cents: Set(action_budget),
                status: Set(status),
                latest_implementation: Set(latest.map(|l| l.0)),
                latest_participants_reached: Set(latest.map(|l| l.1)),
                created_at: Set(edited),
                updated_at: Set(edited),
            });
            for post in posts {
                progress_bulk.push(post);
            }
            theme_bulk.push(plan_action_theme::ActiveModel {
                action_id: Set(action),
                term_id: Set(theme),
            });
            let mut cited = Vec::new();
            if g.chance(0.1) && !practices.is_empty() {
                let (practice, practice_title) = g.pick(&practices).clone();
                cite_bulk.push(plan_action_practice::ActiveModel {
                    action_id: Set(action),
                    practice_id: Set(practice),
                });
                cited.push(practice_title);
            }
            snapshot_actions.push(ActionSnapshot {
                title,
                description,
                themes: vec![
                    theme_names
                        .get(&theme)
                        .copied()
                        .unwrap_or_default()
                        .to_owned(),
                ],
                practices: cited,
                target_groups: "residents, pupils, seniors".into(),
                cultural_partners: "library, choirs".into(),
                starts_on: Some(starts.date_naive()),
                ends_on: Some(ends.date_naive()),
                budget_cents: action_budget,
            });
        }
        let mut snapshot_indicators = Vec::new();
        for k in 0..5 {
            let name = format!("{} reached", g.words(1));
            let target = g.between(10, 5_000) * 1000;
            indicator_bulk.push(plan_indicator::ActiveModel {
                id: Set(g.id()),
                plan_id: Set(plan_id),
                name: Set(name.clone()),
                unit: Set(if k == 0 { "people" } else { "events" }.into()),
                baseline_milli: Set(0),
                target_milli: Set(target),
                actual_milli: Set(pearl.then(|| g.between(0, target / 1000) * 1000)),
                created_at: Set(edited),
                updated_at: Set(edited),
            });
            snapshot_indicators.push(IndicatorSnapshot {
                name,
                unit: if k == 0 { "people" } else { "events" }.into(),
                baseline_milli: 0,
                target_milli: target,
            });
        }
        for k in 0..4 {
            let section = [
                Some(PlanSection::Vision),
                Some(PlanSection::Actions),
                None,
                Some(PlanSection::Budget),
            ][k];
            comment_bulk.push(plan_comment::ActiveModel {
                id: Set(g.id()),
                plan_id: Set(plan_id),
                section: Set(section),
                author_id: Set(Some(mentor)),
                body: Set(g.words(15)),
                created_at: Set(g.during(dev_start, (edited + Duration::days(1)).min(now))),
            });
        }
        if submitted {
            let snapshot = Snapshot {
                vision: vision.clone(),
                context: context.clone(),
                objectives: objectives.clone(),
                stakeholders: stakeholders.clone(),
                budget_cents: Some(budget),
                timeline: timeline.clone(),
                actions: snapshot_actions,
                indicators: snapshot_indicators,
            };
            version_bulk.push(plan_version::ActiveModel {
                id: Set(g.id()),
                plan_id: Set(plan_id),
                number: Set(1),
                snapshot: Set(serde_json::to_value(snapshot)
                    .map_err(|e| AppError::internal(format!("snapshot: {e}")))?),
                submitted_at: Set(g.during((p[2].2 - Duration::days(30)).min(now), p[2].2.min(now))),
                submitted_by: Set(Some(contacts[a.municipality])),
            });
        }
        plan_bulk.push(plan::ActiveModel {
            id: Set(plan_id),
            application_id: Set(a.id),
            vision: Set(vision),
            context: Set(context),
            objectives: Set(objectives),
            stakeholders: Set(stakeholders),
            budget_cents: Set(Some(budget)),
            timeline: Set(timeline),
            submitted_version: Set(i32::from(submitted)),
            created_at: Set(dev_start),
            updated_at: Set(edited),
            version: Set(g.between(2, 40) as i32),
        });
        flush_if_full!(
            &txn,
            plan_bulk,
            version_bulk,
            action_bulk,
            theme_bulk,
            cite_bulk,
            indicator_bulk,
            comment_bulk,
            progress_bulk,
            assignment_bulk,
            session_bulk
        );
    }
    // Parents before children: plans go in before the rows that point at them.
    plan_bulk.finish(&txn, &mut s.report).await?;
    version_bulk.finish(&txn, &mut s.report).await?;
    action_bulk.finish(&txn, &mut s.report).await?;
    theme_bulk.finish(&txn, &mut s.report).await?;
    cite_bulk.finish(&txn, &mut s.report).await?;
    indicator_bulk.finish(&txn, &mut s.report).await?;
    comment_bulk.finish(&txn, &mut s.report).await?;
    progress_bulk.finish(&txn, &mut s.report).await?;
    assignment_bulk.finish(&txn, &mut s.report).await?;
    session_bulk.finish(&txn, &mut s.report).await?;

    // Events from January 2023 to half a year ahead, with their participants.
    let events_n = 10 + 4 * n;
    let participations_per_event = (1000 * n / events_n).max(1);
    let mut event_bulk = Bulk::<event::ActiveModel>::new("events");
    let mut planned: Vec<(Uuid, DateTime<Utc>, bool)> = Vec::new();
    const KINDS: [EventKind; 9] = [
        EventKind::KickOff,
        EventKind::MentorTraining,
        EventKind::Webinar,
        EventKind::Forum,
        EventKind::Conference,
        EventKind::PartnerMeeting,
        EventKind::StudyVisit,
        EventKind::Ceremony,
        EventKind::PeerLearning,
    ];
    for _ in 0..events_n {
        let id = g.id();
        let starts = g.during(ymd(2023, 1, 1), now + Duration::days(180));
        let cancelled = g.chance(0.03);
        let online = g.chance(0.5);
        event_bulk.push(event::ActiveModel {
            id: Set(id),
            kind: Set(*g.pick(&KINDS)),
            title: Set(g.title()),
            description: Set(g.words(40)),
            programme: Set(g.words(20)),
            starts_at: Set(starts),
            ends_at: Set(starts + Duration::hours(g.between(1, 48))),
            time_zone: Set("Europe/Riga".into()),
            place: Set((!online).then(|| g.town(0))),
            online_url: Set(online.then(|| "https://meet.pearls.example/room".into())),
            organiser_id: Set(*g.pick(&consortium)),
            edition_id: Set(g.chance(0.5).then(|| g.pick(&editions).0)),
            is_public: Set(g.chance(0.6)),
            capacity: Set(None),
            registration_deadline: Set(None),
            cancelled_at: Set(cancelled.then_some(starts - Duration::days(3))),
            created_by: Set(None),
            created_at: Set(starts - Duration::days(60)),
            updated_at: Set(starts - Duration::days(60)),
            version: Set(1),
            registered_count: Set(0),
            attended_count: Set(0),
        });
        planned.push((id, starts, cancelled));
        flush_if_full!(&txn, event_bulk);
    }
    event_bulk.finish(&txn, &mut s.report).await?;
    let mut participation_bulk = Bulk::<participation::ActiveModel>::new("participations");
    let everyone = people.len();
    for (event_id, starts, _) in &planned {
        let k = (g.between(
            participations_per_event as i64 / 2,
            participations_per_event as i64 * 3 / 2,
        ) as usize)
            .min(everyone);
        // Distinct people: a stride coprime with the number of people visits each once.
        let mut stride = 1 + g.below(everyone.max(2) - 1);
        while gcd(stride, everyone) != 1 {
            stride += 1;
        }
        let start = g.below(everyone);
        for j in 0..k {
            let (who, org) = people[(start + j * stride) % everyone];
            let status = match g.below(25) {
                0 => ParticipationStatus::Waitlisted,
                1 => ParticipationStatus::Cancelled,
                _ => ParticipationStatus::Registered,
            };
            let attended =
                (status == ParticipationStatus::Registered && *starts < now).then(|| {
                    match g.below(10) {
                        0 => None,
                        1 => Some(false),
                        _ => Some(true),
                    }
                });
            let registered = (*starts - Duration::days(g.between(1, 60))).min(now);
            participation_bulk.push(participation::ActiveModel {
                id: Set(g.id()),
                event_id: Set(*event_id),
                user_id: Set(who),
                organisation_id: Set(org),
                role: Set(ParticipationRole::Participant),
                status: Set(status),
                registered_at: Set(registered),
                registered_by: Set(None),
                attended: Set(attended.flatten()),
                updated_at: Set(registered),
                version: Set(1),
            });
            flush_if_full!(&txn, participation_bulk);
        }
    }
    participation_bulk.finish(&txn, &mut s.report).await?;

    // The project's reporting periods and work plan, as in the demo.
    super::reporting(&mut s, lead_partner).await?;

    let report = s.report;
    eprintln!("KPI rollups …");
    crate::kpis::rollup::rebuild(&txn).await?;
    crate::audit::record(
        &txn,
        None,
        "seed.scale",
        "Seed",
        "scale",
        json!({ "scale": n, "anchor": opts.anchor, "inserted": report.inserted }),
    )
    .await?;
    eprintln!("committing …");
    txn.commit().await?;
    // Fresh statistics for the query planners.
    let analyse = Instant::now();
    if db.get_database_backend() == DbBackend::Postgres {
        // As autovacuum would soon: statistics, and the visibility map index-only scans need.
        db.execute_unprepared("VACUUM ANALYZE").await?;
    } else {
        db.execute_unprepared("ANALYZE").await?;
        db.execute_unprepared("PRAGMA optimize").await?;
    }
    eprintln!(
        "  analysed in {:.1} s; {} rows in {:.1} s",
        analyse.elapsed().as_secs_f64(),
        report.inserted,
        started.elapsed().as_secs_f64()
    );
    Ok(report)
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}
