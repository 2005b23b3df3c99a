//! Editions with their phases, criteria and assessors; the applications to them, their status
//! histories and assessments, and the award outcomes.

use chrono::{DateTime, Datelike, Duration, Utc};
use entity::{
    ApplicationStatus, AssessmentStage, application, application_co_applicant,
    application_status_change, assessment, assessment_score, assessor_assignment, criterion,
    edition, phase,
};
use rand::RngExt;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::{App, Gen, Programme, Stage, phases, stage, ymd};
use crate::error::AppResult;
use crate::seed::Seeder;

use ApplicationStatus as S;

buffers! {
    /// An edition's rows (the edition itself goes in at once: they all point at it).
    struct EditionRows {
        phases: phase = "phases",
        criteria: criterion = "criteria",
        assessors: assessor_assignment = "assessor assignments",
    }
}

buffers! {
    /// The applications' rows; parents first.
    struct ApplicationRows {
        applications: application = "applications",
        co_applicants: application_co_applicant = "co-applicants",
        history: application_status_change = "status changes",
        assessments: assessment = "assessments",
        scores: assessment_score = "assessment scores",
    }
}

impl Programme {
    /// 4 + N / 100 editions, one a year, the last with its title year two years after the
    /// anchor's; each with its six phases and, for preselection and for the jury, four criteria
    /// and up to two assessors from the partners.
    pub(super) async fn editions(&mut self, s: &mut Seeder<'_>, g: &mut Gen) -> AppResult<()> {
        let count = 4 + self.n / 100;
        let last_year = self.now.year() + 2;
        let years: Vec<i32> = (0..count)
            .map(|i| last_year - (count - 1 - i) as i32)
            .collect();
        let mut rows = EditionRows::new();
        for (e, y) in years.into_iter().enumerate() {
            let id = g.id();
            edition::ActiveModel {
                id: Set(id),
                title_year: Set(y),
                name: Set(format!("BSR Cultural Pearls {y} (synthetic)")),
                award_cap: Set(4),
                one_per_country: Set(false),
                extra_awards: Set(0),
                created_at: Set(ymd(y - 2, 6, 1).min(self.now)),
                updated_at: Set(ymd(y - 2, 6, 1).min(self.now)),
                version: Set(1),
            }
            .insert(s.txn)
            .await?;
            self.editions.push((id, y, stage(y, self.now)));
            for (kind, from, to) in phases(y) {
                rows.phases.push(phase::ActiveModel {
                    id: Set(g.id()),
                    edition_id: Set(id),
                    kind: Set(kind),
                    starts_at: Set(from),
                    ends_at: Set(to),
                });
            }
            for stage in [AssessmentStage::Preselection, AssessmentStage::Jury] {
                self.panel(g, &mut rows, e, stage);
            }
            rows.flush_if_full(s.txn).await?;
        }
        eprintln!("  {:<26} {:>10} rows", "editions", self.editions.len());
        rows.finish(s.txn, &mut s.report).await
    }

    /// Edition `e`'s four criteria for an assessment stage, and two draws of an assessor from
    /// the partners (a partner drawn twice assesses once).
    fn panel(&mut self, g: &mut Gen, rows: &mut EditionRows, e: usize, stage: AssessmentStage) {
        let (id, y, _) = self.editions[e];
        for (pos, name) in ["Relevance", "Resilience", "Participation", "Capacity"]
            .iter()
            .enumerate()
        {
            let cid = g.id();
            self.criteria.entry((e, stage)).or_default().push(cid);
            rows.criteria.push(criterion::ActiveModel {
                id: Set(cid),
                edition_id: Set(id),
                stage: Set(stage),
                position: Set(pos as i32),
                name: Set((*name).into()),
                description: Set(String::new()),
                weight_milli: Set(1000),
                max_score: Set(10),
                created_at: Set(ymd(y - 2, 6, 1).min(self.now)),
                updated_at: Set(ymd(y - 2, 6, 1).min(self.now)),
                version: Set(1),
            });
        }
        for _ in 0..2 {
            let a = *g.pick(&self.partners);
            if self.assessors.entry(e).or_default().contains(&a) {
                continue;
            }
            self.assessors.entry(e).or_default().push(a);
            rows.assessors.push(assessor_assignment::ActiveModel {
                id: Set(g.id()),
                edition_id: Set(id),
                stage: Set(stage),
                assessor_id: Set(a),
                assigned_by: Set(None),
                created_at: Set(ymd(y - 1, 1, 15)),
            });
        }
    }

    /// The applications: drawn, the award caps set from the outcome, then the rows.
    pub(super) async fn applications(&mut self, s: &mut Seeder<'_>, g: &mut Gen) -> AppResult<()> {
        self.draw_applications(g);
        self.award_caps(s).await?;
        self.application_rows(s, g).await
    }

    /// Every municipality applies once, a third of them a second time in another edition; only
    /// to editions whose call has opened by the anchor day, with statuses as the edition's stage
    /// allows.
    fn draw_applications(&mut self, g: &mut Gen) {
        let municipalities_n = self.municipalities.len();
        let second = municipalities_n / 3;
        // Editions whose call has opened by the anchor day.
        let open: Vec<usize> = (0..self.editions.len())
            .filter(|e| phases(self.editions[*e].1)[0].1 <= self.now)
            .collect();
        for k in 0..(municipalities_n + second) {
            let m = k % municipalities_n;
            if k >= municipalities_n && m == 0 {
                continue; // Demoville's applications are set below
            }
            let mut e = *g.pick(&open);
            if k >= municipalities_n && self.apps[m].edition == e {
                let next = (open.iter().position(|x| *x == e).unwrap_or(0) + 1) % open.len();
                e = open[next];
            }
            let status = draw_status(g, self.editions[e].2);
            self.apps.push(App {
                id: g.id(),
                edition: e,
                municipality: m,
                status,
            });
        }
        // Demoville (the municipality login): a CuReAP in development and a title year under way.
        let current = |stage: Stage| self.editions.iter().position(|e| e.2 == stage);
        if let (Some(dev), Some(title)) = (current(Stage::Development), current(Stage::TitleYear)) {
            self.apps[0].edition = dev;
            self.apps[0].status = S::CureapInDevelopment;
            self.apps.push(App {
                id: g.id(),
                edition: title,
                municipality: 0,
                status: S::TitleYearActive,
            });
        }
    }

    /// Award caps as the outcome was: the number of Pearls, at least four.
    async fn award_caps(&self, s: &Seeder<'_>) -> AppResult<()> {
        for (e, (id, _, _)) in self.editions.iter().enumerate() {
            let awarded = self
                .apps
                .iter()
                .filter(|a| {
                    a.edition == e && matches!(a.status, S::TitleYearActive | S::TitleYearCompleted)
                })
                .count()
                .max(4) as i32;
            edition::Entity::update_many()
                .col_expr(
                    edition::Column::AwardCap,
                    sea_orm::sea_query::Expr::value(awarded),
                )
                .filter(edition::Column::Id.eq(*id))
                .exec(s.txn)
                .await?;
        }
        Ok(())
    }

    /// Each application with its status history and assessments; notes which reached CuReAP
    /// development (they get plans).
    async fn application_rows(&mut self, s: &mut Seeder<'_>, g: &mut Gen) -> AppResult<()> {
        let mut rows = ApplicationRows::new();
        let mut with_plan = Vec::new();
        let demoville_joins = self
            .apps
            .iter()
            .position(|b| b.municipality != 0 && b.edition == self.apps[0].edition);
        for (i, a) in self.apps.iter().enumerate() {
            let (edition_id, y, _) = self.editions[a.edition];
            let Path {
                created,
                submitted,
                path,
            } = draw_path(g, a.status, y, self.now);
            let last = path.last().map(|(_, t)| *t).unwrap_or(created);
            rows.applications.push(application::ActiveModel {
                id: Set(a.id),
                edition_id: Set(edition_id),
                lead_municipality_id: Set(self.municipalities[a.municipality].0),
                title: Set(format!("{}: {}", a.municipality, g.title())),
                motivation: Set(g.words(40)),
                status: Set(a.status),
                submitted_at: Set((a.status != S::Draft).then_some(submitted)),
                created_by: Set(Some(self.contacts[a.municipality])),
                created_at: Set(created),
                updated_at: Set(last),
                version: Set(path.len() as i32),
                withdrawn_from: Set(None),
                cureap_submitted_at: Set(None),
            });
            if let Some(partner) = self.co_applicant(i, demoville_joins) {
                rows.co_applicants
                    .push(application_co_applicant::ActiveModel {
                        application_id: Set(a.id),
                        organisation_id: Set(self.municipalities[partner].0),
                    });
            }
            let mut from = None;
            for (status, t) in &path {
                rows.history.push(application_status_change::ActiveModel {
                    id: Set(g.id()),
                    application_id: Set(a.id),
                    from_status: Set(from),
                    to_status: Set(*status),
                    actor_id: Set(None),
                    note: Set(None),
                    changed_at: Set(*t),
                    effective_at: Set(*t),
                });
                from = Some(*status);
            }
            self.assess(g, &mut rows, a, &path);
            if path.iter().any(|(s, _)| *s == S::CureapInDevelopment) {
                with_plan.push(i);
            }
            rows.flush_if_full(s.txn).await?;
        }
        self.with_plan = with_plan;
        rows.finish(s.txn, &mut s.report).await
    }

    /// The municipality applying jointly with application `i`, if any: every tenth application
    /// has its lead's neighbour in the list as co-applicant, and Demoville (the municipality
    /// login) co-applies to the first of another lead's applications in its CuReAP edition, so
    /// its pages show both halves of its scope (leads, co-applies).
    fn co_applicant(&self, i: usize, demoville_joins: Option<usize>) -> Option<usize> {
        let a = &self.apps[i];
        let n = self.municipalities.len();
        if demoville_joins == Some(i) {
            return Some(0);
        }
        let neighbour = (a.municipality + 1) % n;
        (i % 10 == 5 && neighbour != a.municipality).then_some(neighbour)
    }

    /// Scores: two preselection assessments of every eligible application, two jury
    /// assessments of every submitted CuReAP that reached the jury.
    fn assess(
        &self,
        g: &mut Gen,
        rows: &mut ApplicationRows,
        a: &App,
        path: &[(S, DateTime<Utc>)],
    ) {
        let y = self.editions[a.edition].1;
        let p = phases(y);
        let eligible = path.iter().any(|(s, _)| *s == S::Eligible);
        let judged = path.iter().any(|(s, _)| {
            matches!(s, S::Awarded | S::NotAwarded)
                || (*s == S::CureapSubmitted && y <= self.now.year())
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
            for assessor in self
                .assessors
                .get(&a.edition)
                .cloned()
                .unwrap_or_default()
                .iter()
                .take(2)
            {
                let aid = g.id();
                rows.assessments.push(assessment::ActiveModel {
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
                for c in self
                    .criteria
                    .get(&(a.edition, stage))
                    .cloned()
                    .unwrap_or_default()
                {
                    rows.scores.push(assessment_score::ActiveModel {
                        assessment_id: Set(aid),
                        criterion_id: Set(c),
                        score: Set(g.between(3, 10) as i32),
                    });
                }
            }
        }
    }
}

/// An application's status as the stage of its edition allows.
fn draw_status(g: &mut Gen, stage: Stage) -> ApplicationStatus {
    let p = g.0.random::<f64>();
    let shortlisted = |g: &mut Gen, awarded: ApplicationStatus| {
        if g.chance(0.3) {
            awarded
        } else {
            S::NotAwarded
        }
    };
    match stage {
        Stage::Call if p < 0.4 => S::Draft,
        Stage::Call => S::Submitted,
        _ if p < 0.05 => S::Withdrawn,
        _ if p < 0.20 => S::Ineligible,
        _ if p < 0.55 => S::NotShortlisted,
        Stage::Development if g.chance(0.7) => S::CureapInDevelopment,
        Stage::Development => S::CureapSubmitted,
        Stage::TitleYear => shortlisted(g, S::TitleYearActive),
        Stage::Past => shortlisted(g, S::TitleYearCompleted),
    }
}

/// The way an application came to its status.
struct Path {
    created: DateTime<Utc>,
    /// When it was submitted, if it was (drawn for every application).
    submitted: DateTime<Utc>,
    /// Each status with its time, from the draft on.
    path: Vec<(S, DateTime<Utc>)>,
}

/// The way an application with status `status` in the edition with title year `y` came, along
/// the edition's calendar. Nothing happens after `now`.
fn draw_path(g: &mut Gen, status: ApplicationStatus, y: i32, now: DateTime<Utc>) -> Path {
    let p = phases(y);
    let cap = |t: DateTime<Utc>| t.min(now);
    let created = g.during(p[0].1, cap(p[0].2 - Duration::days(20)));
    let submitted = g.during(created, cap(p[0].2));
    let presel = g.during(p[1].1, p[1].2);
    let short = p[1].2 - Duration::days(g.between(0, 5));
    let dev = p[2].1 + Duration::days(g.between(0, 10));
    let cureap = g.during((p[2].2 - Duration::days(30)).min(now), p[2].2.min(now));
    let award = g.during(p[4].1, p[4].2);
    let mut v = vec![(S::Draft, created)];
    let mut then = |s: S, t: DateTime<Utc>| v.push((s, t));
    match status {
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
            if status != S::CureapInDevelopment {
                then(S::CureapSubmitted, cureap);
            }
            match status {
                S::NotAwarded => then(S::NotAwarded, award),
                S::TitleYearActive | S::TitleYearCompleted => {
                    then(S::Awarded, award);
                    then(S::TitleYearActive, p[5].1);
                    if status == S::TitleYearCompleted {
                        then(S::TitleYearCompleted, p[5].2);
                    }
                }
                _ => {}
            }
        }
    }
    Path {
        created,
        submitted,
        path: v,
    }
}
