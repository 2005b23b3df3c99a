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
//!
//! [`load`] runs one generator per domain (the submodules `people`, `editions`, `catalogue`,
//! `plans` and `events`) in a fixed order, all drawing from one random generator: the rows stay
//! the same only as long as every draw happens in the same order, so a change to one generator's
//! draws changes every row generated after it.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Instant;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use entity::{ApplicationStatus, AssessmentStage, PhaseKind, edition};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend,
    EntityTrait, Iterable, PaginatorTrait, TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

use super::{DEMO_PASSWORD, SeedReport, Seeder};
use crate::auth::password::Passwords;
use crate::error::{AppError, AppResult};

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

    /// Inserts the rows `rows` yields, in that order, when no other buffer has to keep in step
    /// with this one, and reports them.
    async fn insert_all(
        label: &'static str,
        s: &mut Seeder<'_>,
        rows: impl IntoIterator<Item = A>,
    ) -> AppResult<()> {
        let mut bulk = Self::new(label);
        for row in rows {
            bulk.push(row);
            flush_if_full!(s.txn, bulk);
        }
        bulk.finish(s.txn, &mut s.report).await?;
        Ok(())
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

/// Declares a set of buffers that fill together and go in together, listed parents first: the
/// struct, `new`, `flush_if_full` (all of them once any is full, see [`flush_if_full!`]) and
/// `finish` (in the listed order, so no foreign key points at a row not yet inserted).
macro_rules! buffers {
    ($(#[$doc:meta])* struct $name:ident { $($field:ident: $entity:ident = $label:literal),+ $(,)? }) => {
        $(#[$doc])*
        struct $name {
            $($field: $crate::seed::scale::Bulk<$entity::ActiveModel>,)+
        }

        impl $name {
            fn new() -> Self {
                Self {
                    $($field: $crate::seed::scale::Bulk::new($label),)+
                }
            }

            async fn flush_if_full(
                &mut self,
                txn: &sea_orm::DatabaseTransaction,
            ) -> $crate::error::AppResult<()> {
                flush_if_full!(txn, $(self.$field),+);
                Ok(())
            }

            async fn finish(
                self,
                txn: &sea_orm::DatabaseTransaction,
                report: &mut $crate::seed::SeedReport,
            ) -> $crate::error::AppResult<()> {
                $(self.$field.finish(txn, report).await?;)+
                Ok(())
            }
        }
    };
}

// After the macros, which the generators use.
mod catalogue;
mod editions;
mod events;
mod people;
mod plans;

/// What the generators produce and later ones need, filled in the order [`load`] runs them.
#[derive(Default)]
struct Programme {
    /// The scale factor N (at least 1).
    n: usize,
    /// The anchor day at midnight (UTC): nothing but events lies after it.
    now: DateTime<Utc>,
    /// The consortium's organisations, the lead partner first.
    consortium: Vec<Uuid>,
    /// The demo password's hash, every login's (hashed once: hashing is slow on purpose).
    hash: String,
    themes: Vec<Uuid>,
    methods: Vec<Uuid>,
    tools: Vec<Uuid>,
    /// Theme names by id, for the action snapshots in frozen CuReAP versions.
    theme_names: HashMap<Uuid, &'static str>,
    /// Municipalities and their countries; the first is Demoville, the municipality login's.
    municipalities: Vec<(Uuid, &'static str)>,
    /// Every user and their organisation: the pool event participants come from.
    people: Vec<(Uuid, Option<Uuid>)>,
    /// Each municipality's contact person, by municipality index.
    contacts: Vec<Uuid>,
    mentors: Vec<Uuid>,
    /// Partner staff: assessors and practice authors.
    partners: Vec<Uuid>,
    /// Id, title year and stage on the anchor day, oldest first.
    editions: Vec<(Uuid, i32, Stage)>,
    /// Each edition's criteria (by edition index) for each assessment stage.
    criteria: HashMap<(usize, AssessmentStage), Vec<Uuid>>,
    /// Each edition's assessors, by edition index.
    assessors: HashMap<usize, Vec<Uuid>>,
    apps: Vec<App>,
    /// The applications (indices into `apps`) that reached CuReAP development.
    with_plan: Vec<usize>,
    /// Published practices, which CuReAP actions may cite, with their titles.
    practices: Vec<(Uuid, String)>,
}

impl Programme {
    /// The consortium and the demo password's hash: what the logins need.
    async fn consortium(s: &mut Seeder<'_>, passwords: &Passwords, n: usize) -> AppResult<Self> {
        let consortium = s.consortium().await?;
        let hash = passwords.hash(DEMO_PASSWORD).await?;
        Ok(Self {
            n,
            now: s.now,
            consortium,
            hash,
            ..Self::default()
        })
    }

    fn lead_partner(&self) -> Uuid {
        self.consortium[0]
    }
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

    let mut p = Programme::consortium(&mut s, passwords, n).await?;
    p.vocabulary(&mut s, &mut g).await?;
    p.municipalities(&mut s, &mut g).await?;
    p.people(&mut s, &mut g).await?;
    p.editions(&mut s, &mut g).await?;
    p.applications(&mut s, &mut g).await?;
    // The catalogue goes in before the plans, which cite it.
    p.catalogue(&mut s, &mut g).await?;
    p.plans(&mut s, &mut g).await?;
    p.events(&mut s, &mut g).await?;
    // The project's reporting periods and work plan, as in the demo.
    super::reporting(&mut s, p.lead_partner()).await?;

    let report = s.report;
    commit(txn, &report, opts, n).await?;
    analyse(db, &report, started).await?;
    Ok(report)
}

/// The KPI rollups and the audit entry, then the commit.
async fn commit(
    txn: DatabaseTransaction,
    report: &SeedReport,
    opts: &ScaleOptions,
    n: usize,
) -> AppResult<()> {
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
    crate::db::commit(txn).await?;
    Ok(())
}

/// Fresh statistics for the query planners.
async fn analyse(db: &DatabaseConnection, report: &SeedReport, started: Instant) -> AppResult<()> {
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
    Ok(())
}
