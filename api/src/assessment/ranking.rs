//! The ranking of an edition's stage: weighted totals from the assessors' scores (conflicted
//! assessors left out), ranks, and — for the jury stage — the winners the award policy proposes.
//!
//! The sums are computed in SQL (GROUP BY application and criterion); only one row per
//! application and criterion reaches Rust. The figures are aggregates over every assessor, so
//! they are computed without the caller's row scope; who may *see* them is decided by the access
//! policy where they are served (`ranking` is the coordinators', a result the applicant's after
//! the decision).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{AssessmentStage, application, assessment, assessment_score, criterion, organisation};
use rust_decimal::{Decimal, RoundingStrategy};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait,
};
use uuid::Uuid;

use crate::error::AppResult;

/// Why an entry is among the proposed winners.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proposal {
    /// One of the top titles (at most one per country when the policy says so).
    Top,
    /// An extra title that ignores the country rule.
    Extra,
}

/// The average of one criterion over the counted assessments.
#[derive(Clone, Debug)]
pub struct CriterionAverage {
    pub criterion_id: Uuid,
    pub average: Option<Decimal>,
}

/// One application's line in the ranking.
#[derive(Clone, Debug)]
pub struct Entry {
    pub application_id: Uuid,
    pub country_code: String,
    /// 1 = best; equal averages share a rank ("1, 2, 2, 4"); `None` without scores.
    pub rank: Option<i32>,
    /// Mean of the counted assessments' weighted totals, two decimals.
    pub average: Option<Decimal>,
    /// Assessments counted (conflict-free).
    pub score_count: i64,
    /// Assessors who declared a conflict of interest (not counted).
    pub conflicts: i64,
    pub criteria: Vec<CriterionAverage>,
    pub proposal: Option<Proposal>,
    created_at: DateTime<Utc>,
    /// Exact mean in thousandths of a point, for ordering.
    exact: Option<(i128, i64)>,
}

/// The ranking of one edition's stage.
#[derive(Clone, Debug)]
pub struct Ranking {
    pub stage: AssessmentStage,
    /// The best weighted total possible (every criterion at its maximum).
    pub max_total: Decimal,
    /// The criteria in their order (id, weight in thousandths, max score).
    pub criteria: Vec<(Uuid, i64, i32)>,
    /// Best first; applications without scores last.
    pub entries: Vec<Entry>,
}

impl Ranking {
    /// The line of one application, if it is ranked in this stage.
    pub fn entry(&self, application_id: Uuid) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.application_id == application_id)
    }

    /// How many applications received a rank.
    pub fn ranked(&self) -> i32 {
        self.entries.iter().filter(|e| e.rank.is_some()).count() as i32
    }
}

/// The award policy as the proposal needs it.
#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub award_cap: i32,
    pub one_per_country: bool,
    pub extra_awards: i32,
}

impl From<&entity::edition::Model> for Policy {
    fn from(e: &entity::edition::Model) -> Self {
        Self {
            award_cap: e.award_cap,
            one_per_country: e.one_per_country,
            extra_awards: e.extra_awards,
        }
    }
}

/// Rounds half away from zero and always shows two decimals ("7.00"), as a score sheet does.
fn round2(d: Decimal) -> Decimal {
    let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    r
}

/// Computes the ranking of an edition's stage from the database.
pub async fn compute(
    db: &impl ConnectionTrait,
    edition_id: Uuid,
    stage: AssessmentStage,
    policy: Policy,
) -> AppResult<Ranking> {
    let criteria: Vec<(Uuid, i64, i32)> = criterion::Entity::find()
        .select_only()
        .column(criterion::Column::Id)
        .column(criterion::Column::WeightMilli)
        .column(criterion::Column::MaxScore)
        .filter(criterion::Column::EditionId.eq(edition_id))
        .filter(criterion::Column::Stage.eq(stage))
        .order_by_asc(criterion::Column::Position)
        .order_by_asc(criterion::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let population: Vec<(Uuid, String, DateTime<Utc>)> = application::Entity::find()
        .select_only()
        .column(application::Column::Id)
        .column(organisation::Column::CountryCode)
        .column(application::Column::CreatedAt)
        .join(
            JoinType::InnerJoin,
            application::Relation::LeadMunicipality.def(),
        )
        .filter(application::Column::EditionId.eq(edition_id))
        .filter(application::Column::Status.is_in(stage.ranked_statuses().iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    let of_edition = Query::select()
        .column(application::Column::Id)
        .from(application::Entity)
        .and_where(application::Column::EditionId.eq(edition_id))
        .to_owned();
    let bigint = |e: Expr| Expr::expr(Func::cast_as(e, Alias::new("BIGINT")));
    let sums: Vec<(Uuid, Uuid, i64, i64)> = assessment_score::Entity::find()
        .select_only()
        .column(assessment::Column::ApplicationId)
        .column(assessment_score::Column::CriterionId)
        .column_as(
            bigint(Expr::expr(Func::sum(Expr::col((
                assessment_score::Entity,
                assessment_score::Column::Score,
            ))))),
            "total",
        )
        .column_as(
            bigint(Expr::col((assessment_score::Entity, assessment_score::Column::Score)).count()),
            "n",
        )
        .join(
            JoinType::InnerJoin,
            assessment_score::Relation::Assessment.def(),
        )
        .filter(assessment::Column::Stage.eq(stage))
        .filter(assessment::Column::ConflictOfInterest.eq(false))
        .filter(assessment::Column::ApplicationId.in_subquery(of_edition.clone()))
        .group_by(assessment::Column::ApplicationId)
        .group_by(assessment_score::Column::CriterionId)
        .into_tuple()
        .all(db)
        .await?;
    let counts: Vec<(Uuid, bool, i64)> = assessment::Entity::find()
        .select_only()
        .column(assessment::Column::ApplicationId)
        .column(assessment::Column::ConflictOfInterest)
        .column_as(
            bigint(Expr::col((assessment::Entity, assessment::Column::Id)).count()),
            "n",
        )
        .filter(assessment::Column::Stage.eq(stage))
        .filter(assessment::Column::ApplicationId.in_subquery(of_edition))
        .group_by(assessment::Column::ApplicationId)
        .group_by(assessment::Column::ConflictOfInterest)
        .into_tuple()
        .all(db)
        .await?;
    Ok(assemble(stage, policy, criteria, population, sums, counts))
}

/// Builds the ranking from the aggregated rows (pure, so it is unit-tested).
pub fn assemble(
    stage: AssessmentStage,
    policy: Policy,
    criteria: Vec<(Uuid, i64, i32)>,
    population: Vec<(Uuid, String, DateTime<Utc>)>,
    sums: Vec<(Uuid, Uuid, i64, i64)>,
    counts: Vec<(Uuid, bool, i64)>,
) -> Ranking {
    let weight: HashMap<Uuid, i64> = criteria.iter().map(|(id, w, _)| (*id, *w)).collect();
    let mut per_app: HashMap<Uuid, HashMap<Uuid, (i64, i64)>> = HashMap::new();
    for (app, crit, total, n) in sums {
        per_app.entry(app).or_default().insert(crit, (total, n));
    }
    let mut scored: HashMap<Uuid, i64> = HashMap::new();
    let mut conflicts: HashMap<Uuid, i64> = HashMap::new();
    for (app, coi, n) in counts {
        if coi {
            conflicts.insert(app, n);
        } else {
            scored.insert(app, n);
        }
    }
    let mut entries: Vec<Entry> = population
        .into_iter()
        .map(|(app, country_code, created_at)| {
            let n = scored.get(&app).copied().unwrap_or(0);
            let sums = per_app.get(&app);
            // Σ over criteria of (sum of scores × weight): thousandths of a point, summed over
            // the n assessments; the mean is that divided by n.
            let exact = (n > 0).then(|| {
                let total: i128 = criteria
                    .iter()
                    .map(|(c, _, _)| {
                        let s = sums.and_then(|m| m.get(c)).map(|v| v.0).unwrap_or(0);
                        s as i128 * weight[c] as i128
                    })
                    .sum();
                (total, n)
            });
            let average = exact.map(|(total, n)| {
                round2(Decimal::from_i128_with_scale(total, 3) / Decimal::from(n))
            });
            let criteria = criteria
                .iter()
                .map(|(c, _, _)| CriterionAverage {
                    criterion_id: *c,
                    average: sums.and_then(|m| m.get(c)).and_then(|(total, k)| {
                        (*k > 0).then(|| round2(Decimal::from(*total) / Decimal::from(*k)))
                    }),
                })
                .collect();
            Entry {
                application_id: app,
                country_code,
                rank: None,
                average,
                score_count: n,
                conflicts: conflicts.get(&app).copied().unwrap_or(0),
                criteria,
                proposal: None,
                created_at,
                exact,
            }
        })
        .collect();
    // Compare exact means a/b > c/d as a·d > c·b (no rounding decides an order).
    entries.sort_by(|a, b| {
        let by_mean = match (a.exact, b.exact) {
            (Some((ta, na)), Some((tb, nb))) => (tb * na as i128).cmp(&(ta * nb as i128)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        by_mean
            .then(b.score_count.cmp(&a.score_count))
            .then(a.created_at.cmp(&b.created_at))
            .then(a.application_id.cmp(&b.application_id))
    });
    let mut previous: Option<(i128, i64)> = None;
    for i in 0..entries.len() {
        let Some((t, n)) = entries[i].exact else {
            break;
        };
        let tied = previous.is_some_and(|(pt, pn)| pt * n as i128 == t * pn as i128);
        entries[i].rank = if tied {
            entries[i - 1].rank
        } else {
            Some(i as i32 + 1)
        };
        previous = Some((t, n));
    }
    if stage == AssessmentStage::Jury {
        propose(&mut entries, policy);
    }
    let max_total = Decimal::from_i128_with_scale(
        criteria
            .iter()
            .map(|(_, w, m)| *w as i128 * *m as i128)
            .sum(),
        3,
    )
    .normalize();
    Ranking {
        stage,
        max_total,
        criteria,
        entries,
    }
}

/// The award policy's proposal: the best `cap − extras` entries with at most one per country
/// (when the policy has the country rule), then the best `extras` of the rest, ignoring it.
fn propose(entries: &mut [Entry], policy: Policy) {
    let cap = std::cmp::max(policy.award_cap, 0) as usize;
    let extras = (std::cmp::max(policy.extra_awards, 0) as usize).min(cap);
    let top = if policy.one_per_country {
        cap - extras
    } else {
        cap
    };
    let mut countries: HashSet<String> = HashSet::new();
    let mut chosen = 0;
    for e in entries.iter_mut().filter(|e| e.rank.is_some()) {
        if chosen == top {
            break;
        }
        if policy.one_per_country && countries.contains(&e.country_code) {
            continue;
        }
        countries.insert(e.country_code.clone());
        e.proposal = Some(Proposal::Top);
        chosen += 1;
    }
    if !policy.one_per_country {
        return;
    }
    for e in entries
        .iter_mut()
        .filter(|e| e.rank.is_some() && e.proposal.is_none())
        .take(extras)
    {
        e.proposal = Some(Proposal::Extra);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn weighted_means_ties_and_the_policy_proposal() {
        let (c1, c2) = (Uuid::from_u128(1001), Uuid::from_u128(1002));
        // Weights 2 and 1.5; max scores 10 and 5: best total 27.5.
        let criteria = vec![(c1, 2000, 10), (c2, 1500, 5)];
        let t = Utc::now();
        let population = vec![
            (app(1), "DE".to_string(), t),
            (app(2), "DE".to_string(), t),
            (app(3), "DK".to_string(), t),
            (app(4), "FI".to_string(), t),
            (app(5), "LV".to_string(), t),
        ];
        // app1: two assessors (8,4) and (6,2): totals 22 and 15 → mean 18.5
        // app2: one assessor (9,5): 25.5;  app3: (9,5): 25.5 (tie with app2)
        // app4: one assessor (1,1): 3.5;   app5: only a conflict, no scores
        let sums = vec![
            (app(1), c1, 14, 2),
            (app(1), c2, 6, 2),
            (app(2), c1, 9, 1),
            (app(2), c2, 5, 1),
            (app(3), c1, 9, 1),
            (app(3), c2, 5, 1),
            (app(4), c1, 1, 1),
            (app(4), c2, 1, 1),
        ];
        let counts = vec![
            (app(1), false, 2),
            (app(2), false, 1),
            (app(3), false, 1),
            (app(4), false, 1),
            (app(5), true, 1),
            (app(1), true, 1),
        ];
        let policy = Policy {
            award_cap: 3,
            one_per_country: true,
            extra_awards: 1,
        };
        let r = assemble(
            AssessmentStage::Jury,
            policy,
            criteria,
            population,
            sums,
            counts,
        );
        assert_eq!(r.max_total.to_string(), "27.5");
        let line = |a| r.entry(app(a)).unwrap();
        assert_eq!(line(2).average.unwrap().to_string(), "25.50");
        assert_eq!((line(2).rank, line(3).rank), (Some(1), Some(1)));
        assert_eq!(line(1).rank, Some(3));
        assert_eq!(line(1).average.unwrap().to_string(), "18.50");
        assert_eq!(line(1).conflicts, 1);
        assert_eq!(line(1).criteria[0].average.unwrap().to_string(), "7.00");
        assert_eq!(line(4).rank, Some(4));
        assert_eq!((line(5).rank, line(5).average), (None, None));
        assert_eq!(r.ranked(), 4);
        // Top 2 with one per country: app2 (DE), app3 (DK); app1 (DE) is skipped for the top
        // but takes the extra title; app4 gets nothing.
        assert_eq!(line(2).proposal, Some(Proposal::Top));
        assert_eq!(line(3).proposal, Some(Proposal::Top));
        assert_eq!(line(1).proposal, Some(Proposal::Extra));
        assert_eq!(line(4).proposal, None);
        assert_eq!(line(5).proposal, None);
    }

    #[test]
    fn preselection_proposes_nobody() {
        let c = Uuid::from_u128(9);
        let r = assemble(
            AssessmentStage::Preselection,
            Policy {
                award_cap: 4,
                one_per_country: false,
                extra_awards: 0,
            },
            vec![(c, 1000, 5)],
            vec![(app(1), "SE".into(), Utc::now())],
            vec![(app(1), c, 4, 1)],
            vec![(app(1), false, 1)],
        );
        assert_eq!(r.entries[0].rank, Some(1));
        assert_eq!(r.entries[0].average.unwrap().to_string(), "4.00");
        assert_eq!(r.entries[0].proposal, None);
    }
}
