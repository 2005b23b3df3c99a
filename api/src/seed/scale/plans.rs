//! CuReAPs: mentors and their sessions, the plan's sections, actions (a theme each, a tenth
//! citing a practice) with title-year progress for the Pearls, five indicators, comments, and a
//! frozen version once submitted.

use chrono::{DateTime, Duration, Utc};
use entity::{
    ActionStatus, ApplicationStatus, Implementation, MentorKind, PhaseKind, PlanSection,
    SessionFormat, mentor_assignment, mentoring_session, plan, plan_action, plan_action_practice,
    plan_action_theme, plan_comment, plan_indicator, plan_version, progress_update,
};
use sea_orm::ActiveValue::Set;
use uuid::Uuid;

use super::{App, Gen, Programme, phases, ymd};
use crate::error::{AppError, AppResult};
use crate::plans::service::{ActionSnapshot, IndicatorSnapshot, Snapshot};
use crate::seed::Seeder;

use ApplicationStatus as S;

/// Who every synthetic action is for, and with whom.
const TARGET_GROUPS: &str = "residents, pupils, seniors";
const CULTURAL_PARTNERS: &str = "library, choirs";

buffers! {
    /// The CuReAPs' rows: plans go in before the rows that point at them.
    struct PlanRows {
        plans: plan = "plans",
        versions: plan_version = "plan versions",
        actions: plan_action = "plan actions",
        themes: plan_action_theme = "plan action themes",
        cites: plan_action_practice = "plan action practices",
        indicators: plan_indicator = "plan indicators",
        comments: plan_comment = "plan comments",
        progress: progress_update = "progress updates",
        assignments: mentor_assignment = "mentor assignments",
        sessions: mentoring_session = "mentoring sessions",
    }
}

/// The CuReAP being generated.
struct Cureap<'a> {
    app: &'a App,
    id: Uuid,
    /// The title year of its edition, and the edition's phases.
    year: i32,
    phases: [(PhaseKind, DateTime<Utc>, DateTime<Utc>); 6],
    /// When it was last edited (its actions, indicators and comments carry the time).
    edited: DateTime<Utc>,
    /// Whether it won the title: then its actions have progress and its indicators actuals.
    pearl: bool,
}

impl Programme {
    /// A CuReAP for every application that reached CuReAP development.
    pub(super) async fn plans(&self, s: &mut Seeder<'_>, g: &mut Gen) -> AppResult<()> {
        let mut rows = PlanRows::new();
        for &i in &self.with_plan {
            self.plan(g, &mut rows, &self.apps[i])?;
            rows.flush_if_full(s.txn).await?;
        }
        rows.finish(s.txn, &mut s.report).await
    }

    /// One CuReAP: its mentoring, sections, actions, indicators and comments, and the frozen
    /// version once submitted.
    fn plan(&self, g: &mut Gen, rows: &mut PlanRows, app: &App) -> AppResult<()> {
        let year = self.editions[app.edition].1;
        let p = phases(year);
        let dev_start = p[2].1;
        // Work happens during development, up to the anchor day (at least a day of it).
        let dev_end = p[2].2.min(self.now).max(dev_start + Duration::days(1));
        let id = g.id();
        let submitted = app.status != S::CureapInDevelopment;
        let mentor = self.mentoring(g, rows, app, dev_start, dev_end);
        let vision = g.words(30);
        let context = g.words(60);
        let objectives = g.words(40);
        let stakeholders = g.words(20);
        let timeline = g.words(20);
        let budget = g.between(50_000, 2_000_000) * 100;
        let c = Cureap {
            app,
            id,
            year,
            phases: p,
            edited: g.during(dev_start, dev_end),
            pearl: matches!(app.status, S::TitleYearActive | S::TitleYearCompleted),
        };
        let actions = self.actions(g, rows, &c);
        let indicators = indicators(g, rows, &c);
        self.comments(g, rows, &c, mentor);
        if submitted {
            let snapshot = Snapshot {
                vision: vision.clone(),
                context: context.clone(),
                objectives: objectives.clone(),
                stakeholders: stakeholders.clone(),
                budget_cents: Some(budget),
                timeline: timeline.clone(),
                actions,
                indicators,
            };
            self.version(g, rows, &c, snapshot)?;
        }
        rows.plans.push(plan::ActiveModel {
            id: Set(id),
            application_id: Set(app.id),
            vision: Set(vision),
            context: Set(context),
            objectives: Set(objectives),
            stakeholders: Set(stakeholders),
            budget_cents: Set(Some(budget)),
            timeline: Set(timeline),
            submitted_version: Set(i32::from(submitted)),
            created_at: Set(dev_start),
            updated_at: Set(c.edited),
            version: Set(g.between(2, 40) as i32),
        });
        Ok(())
    }

    /// A national mentor (the mentor login for Demoville's plans), a twin mentor for about a
    /// tenth, and six sessions with the national mentor between `from` and `until`. Returns the
    /// national mentor.
    fn mentoring(
        &self,
        g: &mut Gen,
        rows: &mut PlanRows,
        app: &App,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Uuid {
        let mentor = if app.municipality == 0 {
            self.mentors[0]
        } else {
            *g.pick(&self.mentors)
        };
        let assignment = g.id();
        rows.assignments.push(assigned(
            assignment,
            app,
            mentor,
            MentorKind::National,
            from,
        ));
        if g.chance(0.1) {
            let twin = *g.pick(&self.mentors);
            if twin != mentor {
                rows.assignments
                    .push(assigned(g.id(), app, twin, MentorKind::Twin, from));
            }
        }
        for _ in 0..6 {
            let held = g.during(from, until);
            rows.sessions.push(mentoring_session::ActiveModel {
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
        mentor
    }

    /// 10–50 actions, as the snapshot of a submitted plan lists them.
    fn actions(&self, g: &mut Gen, rows: &mut PlanRows, c: &Cureap) -> Vec<ActionSnapshot> {
        let actions_n = g.between(10, 50) as usize;
        (0..actions_n)
            .map(|pos| self.action(g, rows, c, pos))
            .collect()
    }

    /// An action in the title year with a theme, its progress if a Pearl's, and a practice cited
    /// a tenth of the time.
    fn action(&self, g: &mut Gen, rows: &mut PlanRows, c: &Cureap, pos: usize) -> ActionSnapshot {
        let action = g.id();
        let title = g.title();
        let description = g.words(25);
        let theme = *g.pick(&self.themes);
        let starts = ymd(c.year, 1, 1) + Duration::days(g.between(0, 300));
        let ends = starts + Duration::days(g.between(1, 60));
        let action_budget = g.between(1_000, 80_000) * 100;
        let status = draw_action_status(g, c);
        let posts = if c.pearl {
            self.progress(g, c, action)
        } else {
            Vec::new()
        };
        let latest = posts.last().map(|u| {
            (
                u.implementation.clone().unwrap(),
                u.participants_reached.clone().unwrap(),
            )
        });
        rows.actions.push(plan_action::ActiveModel {
            id: Set(action),
            plan_id: Set(c.id),
            position: Set(pos as i32),
            title: Set(title.clone()),
            description: Set(description.clone()),
            target_groups: Set(TARGET_GROUPS.into()),
            cultural_partners: Set(CULTURAL_PARTNERS.into()),
            starts_on: Set(Some(starts.date_naive())),
            ends_on: Set(Some(ends.date_naive())),
            budget_cents: Set(action_budget),
            status: Set(status),
            latest_implementation: Set(latest.map(|l| l.0)),
            latest_participants_reached: Set(latest.map(|l| l.1)),
            created_at: Set(c.edited),
            updated_at: Set(c.edited),
        });
        for post in posts {
            rows.progress.push(post);
        }
        rows.themes.push(plan_action_theme::ActiveModel {
            action_id: Set(action),
            term_id: Set(theme),
        });
        let mut cited = Vec::new();
        if g.chance(0.1) && !self.practices.is_empty() {
            let (practice, practice_title) = g.pick(&self.practices).clone();
            rows.cites.push(plan_action_practice::ActiveModel {
                action_id: Set(action),
                practice_id: Set(practice),
            });
            cited.push(practice_title);
        }
        let theme_name = self.theme_names.get(&theme).copied().unwrap_or_default();
        ActionSnapshot {
            title,
            description,
            themes: vec![theme_name.to_owned()],
            practices: cited,
            target_groups: TARGET_GROUPS.into(),
            cultural_partners: CULTURAL_PARTNERS.into(),
            starts_on: Some(starts.date_naive()),
            ends_on: Some(ends.date_naive()),
            budget_cents: action_budget,
        }
    }

    /// Title-year progress of an action: up to six posts in time order, up to the anchor day;
    /// the last one is the action's latest.
    fn progress(&self, g: &mut Gen, c: &Cureap, action: Uuid) -> Vec<progress_update::ActiveModel> {
        let title_start = c.phases[5].1;
        let until = c.phases[5]
            .2
            .min(self.now)
            .max(title_start + Duration::days(1));
        let n_posts = g.between(0, 6);
        let mut times: Vec<DateTime<Utc>> =
            (0..n_posts).map(|_| g.during(title_start, until)).collect();
        times.sort();
        let mut posts = Vec::new();
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
                posted_by: Set(Some(self.contacts[c.app.municipality])),
                posted_at: Set(posted_at),
            });
        }
        posts
    }

    /// Four comments by the mentor during development, one on no section.
    fn comments(&self, g: &mut Gen, rows: &mut PlanRows, c: &Cureap, mentor: Uuid) {
        let dev_start = c.phases[2].1;
        for section in [
            Some(PlanSection::Vision),
            Some(PlanSection::Actions),
            None,
            Some(PlanSection::Budget),
        ] {
            rows.comments.push(plan_comment::ActiveModel {
                id: Set(g.id()),
                plan_id: Set(c.id),
                section: Set(section),
                author_id: Set(Some(mentor)),
                body: Set(g.words(15)),
                created_at: Set(g.during(dev_start, (c.edited + Duration::days(1)).min(self.now))),
            });
        }
    }

    /// The frozen version a submitted plan has, submitted in the last month of development.
    fn version(
        &self,
        g: &mut Gen,
        rows: &mut PlanRows,
        c: &Cureap,
        snapshot: Snapshot,
    ) -> AppResult<()> {
        let development_ends = c.phases[2].2;
        rows.versions.push(plan_version::ActiveModel {
            id: Set(g.id()),
            plan_id: Set(c.id),
            number: Set(1),
            snapshot: Set(serde_json::to_value(snapshot)
                .map_err(|e| AppError::internal(format!("snapshot: {e}")))?),
            submitted_at: Set(g.during(
                (development_ends - Duration::days(30)).min(self.now),
                development_ends.min(self.now),
            )),
            submitted_by: Set(Some(self.contacts[c.app.municipality])),
        });
        Ok(())
    }
}

/// Five indicators (the first counts people, the others events), with actuals for a Pearl.
fn indicators(g: &mut Gen, rows: &mut PlanRows, c: &Cureap) -> Vec<IndicatorSnapshot> {
    let mut snapshot = Vec::new();
    for k in 0..5 {
        let name = format!("{} reached", g.words(1));
        let target = g.between(10, 5_000) * 1000;
        let unit = if k == 0 { "people" } else { "events" };
        rows.indicators.push(plan_indicator::ActiveModel {
            id: Set(g.id()),
            plan_id: Set(c.id),
            name: Set(name.clone()),
            unit: Set(unit.into()),
            baseline_milli: Set(0),
            target_milli: Set(target),
            actual_milli: Set(c.pearl.then(|| g.between(0, target / 1000) * 1000)),
            created_at: Set(c.edited),
            updated_at: Set(c.edited),
        });
        snapshot.push(IndicatorSnapshot {
            name,
            unit: unit.into(),
            baseline_milli: 0,
            target_milli: target,
        });
    }
    snapshot
}

/// An action's status: planned before the title year; in a Pearl's mostly completed, some in
/// progress, a tenth cancelled, and a fifth still planned while the title year runs.
fn draw_action_status(g: &mut Gen, c: &Cureap) -> ActionStatus {
    if !c.pearl {
        return ActionStatus::Planned;
    }
    match g.below(10) {
        0 => ActionStatus::Cancelled,
        1..=3 => ActionStatus::InProgress,
        4..=5 if c.app.status == S::TitleYearActive => ActionStatus::Planned,
        _ => ActionStatus::Completed,
    }
}

/// A mentor's assignment to an application from `from` on.
fn assigned(
    id: Uuid,
    app: &App,
    mentor: Uuid,
    kind: MentorKind,
    from: DateTime<Utc>,
) -> mentor_assignment::ActiveModel {
    mentor_assignment::ActiveModel {
        id: Set(id),
        application_id: Set(app.id),
        mentor_id: Set(mentor),
        kind: Set(kind),
        starts_on: Set(from.date_naive()),
        ends_on: Set(None),
        created_at: Set(from),
    }
}
