//! `Criterion`, `AssessorAssignment`, `Assessment`, the `Ranking` and an applicant's
//! `AssessmentResult`.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Result, SimpleObject};
use entity::{assessment, assessment_score, assessor_assignment, criterion, jury_assignment};

use super::ranking;
use crate::applications::types::Application;
use crate::domain::Measure;
use crate::editions::types::Edition;
use crate::graphql::context::req;
use crate::graphql::enums::AssessmentStage;
use crate::graphql::ids;
use crate::graphql::loaders::{
    ApplicationById, CriterionById, EditionById, ScoresOfAssessment, UserById,
};
use crate::graphql::scalars::{Decimal, Timestamp};
use crate::users::types::User;

/// A scoring criterion of one stage of an edition (published with the call).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Criterion {
    /// Opaque global id.
    pub id: ID,
    /// The stage it is scored in.
    pub stage: AssessmentStage,
    /// Position in the stage's list (1 = first).
    pub position: i32,
    /// Name, e.g. "Impact potential".
    pub name: String,
    /// What the assessors look for.
    pub description: String,
    /// Weight of the criterion in the weighted total.
    pub weight: Decimal,
    /// Scores run from 0 to this.
    pub max_score: i32,
    /// Optimistic-concurrency version; pass it as `expectedVersion` when updating.
    pub version: i32,
    #[graphql(skip)]
    pub edition_id: uuid::Uuid,
}

impl From<criterion::Model> for Criterion {
    fn from(m: criterion::Model) -> Self {
        Self {
            id: ids::encode("Criterion", m.id),
            stage: m.stage.into(),
            position: m.position,
            name: m.name,
            description: m.description,
            weight: Measure::to_decimal(m.weight_milli).into(),
            max_score: m.max_score,
            version: m.version,
            edition_id: m.edition_id,
        }
    }
}

#[ComplexObject]
impl Criterion {
    /// The edition.
    async fn edition(&self, ctx: &Context<'_>) -> Result<Option<Edition>> {
        Ok(req(ctx)
            .loaders
            .load_one(EditionById(self.edition_id))
            .await?
            .map(Edition::from))
    }
}

/// A user assigned to score one stage of an edition.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct AssessorAssignment {
    /// Opaque global id.
    pub id: ID,
    /// The stage scored.
    pub stage: AssessmentStage,
    /// When the assignment was made.
    pub created_at: Timestamp,
    #[graphql(skip)]
    pub assessor_id: uuid::Uuid,
    #[graphql(skip)]
    pub edition_id: uuid::Uuid,
}

impl From<assessor_assignment::Model> for AssessorAssignment {
    fn from(m: assessor_assignment::Model) -> Self {
        Self {
            id: ids::encode("AssessorAssignment", m.id),
            stage: m.stage.into(),
            created_at: m.created_at.into(),
            assessor_id: m.assessor_id,
            edition_id: m.edition_id,
        }
    }
}

#[ComplexObject]
impl AssessorAssignment {
    /// The assessor (null if the caller may not see that user).
    async fn assessor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(req(ctx)
            .loaders
            .load_one(UserById(self.assessor_id))
            .await?
            .map(User::from))
    }

    /// The edition.
    async fn edition(&self, ctx: &Context<'_>) -> Result<Option<Edition>> {
        Ok(req(ctx)
            .loaders
            .load_one(EditionById(self.edition_id))
            .await?
            .map(Edition::from))
    }
}

/// A juror assigned to score one application in one stage (DOMAIN.md, "Jury members"): what
/// the juror reads and scores. Seen by coordinators and by the juror.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct JuryAssignment {
    /// Opaque global id.
    pub id: ID,
    /// The stage scored (the jury stage also opens the application's CuReAP to the juror).
    pub stage: AssessmentStage,
    /// When the assignment was made.
    pub created_at: Timestamp,
    #[graphql(skip)]
    pub juror_id: uuid::Uuid,
    #[graphql(skip)]
    pub application_id: uuid::Uuid,
}

impl From<jury_assignment::Model> for JuryAssignment {
    fn from(m: jury_assignment::Model) -> Self {
        Self {
            id: ids::encode("JuryAssignment", m.id),
            stage: m.stage.into(),
            created_at: m.created_at.into(),
            juror_id: m.juror_id,
            application_id: m.application_id,
        }
    }
}

#[ComplexObject]
impl JuryAssignment {
    /// The juror (null if the caller may not see that user).
    async fn juror(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(req(ctx)
            .loaders
            .load_one(UserById(self.juror_id))
            .await?
            .map(User::from))
    }

    /// The application to score.
    async fn application(&self, ctx: &Context<'_>) -> Result<Option<Application>> {
        Ok(req(ctx)
            .loaders
            .load_one(ApplicationById(self.application_id))
            .await?
            .map(Application::from))
    }
}

crate::connection!(
    JuryAssignmentConnection,
    JuryAssignmentEdge,
    JuryAssignment,
    "A page of jury assignments."
);

/// One assessor's assessment of one application in one stage. Visible to coordinators and to
/// the assessor who wrote it; never to mentors or municipalities.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Assessment {
    /// Opaque global id.
    pub id: ID,
    /// The stage.
    pub stage: AssessmentStage,
    /// The assessor declared a conflict of interest: no scores, not counted in the ranking.
    pub conflict_of_interest: bool,
    /// The assessor's comment (or the reason for the conflict of interest).
    pub comment: String,
    /// When it was first handed in.
    pub submitted_at: Timestamp,
    /// When it was last changed.
    pub updated_at: Timestamp,
    /// Optimistic-concurrency version; pass it as `expectedVersion` to replace the assessment.
    pub version: i32,
    #[graphql(skip)]
    pub model: assessment::Model,
}

impl From<assessment::Model> for Assessment {
    fn from(m: assessment::Model) -> Self {
        Self {
            id: ids::encode("Assessment", m.id),
            stage: m.stage.into(),
            conflict_of_interest: m.conflict_of_interest,
            comment: m.comment.clone(),
            submitted_at: m.submitted_at.into(),
            updated_at: m.updated_at.into(),
            version: m.version,
            model: m,
        }
    }
}

#[ComplexObject]
impl Assessment {
    /// The application assessed.
    async fn application(&self, ctx: &Context<'_>) -> Result<Option<Application>> {
        Ok(req(ctx)
            .loaders
            .load_one(ApplicationById(self.model.application_id))
            .await?
            .map(Application::from))
    }

    /// The assessor.
    async fn assessor(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(req(ctx)
            .loaders
            .load_one(UserById(self.model.assessor_id))
            .await?
            .map(User::from))
    }

    /// The score per criterion, in the criteria's order (empty for a conflict of interest).
    async fn scores(&self, ctx: &Context<'_>) -> Result<Vec<CriterionScore>> {
        let rc = req(ctx);
        let rows = rc
            .loaders
            .load_one(ScoresOfAssessment(self.model.id))
            .await?
            .unwrap_or_default();
        let criteria = rc
            .loaders
            .load_many(rows.iter().map(|s| CriterionById(s.criterion_id)))
            .await?;
        let mut out: Vec<CriterionScore> = rows
            .into_iter()
            .filter_map(|s| {
                criteria
                    .get(&CriterionById(s.criterion_id))
                    .map(|c| CriterionScore::new(s, c.clone()))
            })
            .collect();
        out.sort_by_key(|s| (s.criterion.position, s.criterion.id.0.clone()));
        Ok(out)
    }

    /// Σ score × weight over the criteria (null for a conflict of interest).
    async fn weighted_total(&self, ctx: &Context<'_>) -> Result<Option<Decimal>> {
        if self.model.conflict_of_interest {
            return Ok(None);
        }
        let scores = self.scores(ctx).await?;
        let total: i128 = scores
            .iter()
            .map(|s| s.score as i128 * s.weight_milli as i128)
            .sum();
        Ok(Some(
            rust_decimal::Decimal::from_i128_with_scale(total, 3)
                .normalize()
                .into(),
        ))
    }
}

/// The score given on one criterion.
#[derive(SimpleObject, Clone)]
pub struct CriterionScore {
    /// The criterion.
    pub criterion: Criterion,
    /// The score, 0 to the criterion's maximum.
    pub score: i32,
    #[graphql(skip)]
    pub weight_milli: i64,
}

impl CriterionScore {
    fn new(s: assessment_score::Model, c: criterion::Model) -> Self {
        Self {
            weight_milli: c.weight_milli,
            criterion: c.into(),
            score: s.score,
        }
    }
}

/// Why an application is among the winners the award policy proposes.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "super::ranking::Proposal")]
pub enum AwardProposal {
    /// One of the top titles (at most one per country when the policy has that rule).
    Top,
    /// An extra title that ignores the country rule.
    Extra,
}

/// The mean score of one criterion over the counted assessments.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct CriterionAverage {
    /// Mean score (two decimals; null without scores).
    pub average_score: Option<Decimal>,
    #[graphql(skip)]
    pub criterion_id: uuid::Uuid,
}

#[ComplexObject]
impl CriterionAverage {
    /// The criterion.
    async fn criterion(&self, ctx: &Context<'_>) -> Result<Option<Criterion>> {
        Ok(req(ctx)
            .loaders
            .load_one(CriterionById(self.criterion_id))
            .await?
            .map(Criterion::from))
    }
}

fn averages(e: &ranking::Entry) -> Vec<CriterionAverage> {
    e.criteria
        .iter()
        .map(|c| CriterionAverage {
            average_score: c.average.map(Into::into),
            criterion_id: c.criterion_id,
        })
        .collect()
}

/// The ranking of one stage of an edition (coordinators only).
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Ranking {
    /// The stage ranked.
    pub stage: AssessmentStage,
    /// The best weighted total possible (every criterion at its maximum).
    pub max_score: Decimal,
    /// How many applications have at least one counted assessment.
    pub ranked_count: i32,
    /// Best first; applications without counted assessments last (rank null).
    pub entries: Vec<RankingEntry>,
    #[graphql(skip)]
    pub edition_id: uuid::Uuid,
}

impl Ranking {
    pub fn new(edition_id: uuid::Uuid, r: &ranking::Ranking) -> Self {
        Self {
            stage: r.stage.into(),
            max_score: r.max_total.into(),
            ranked_count: r.ranked(),
            entries: r
                .entries
                .iter()
                .map(|e| RankingEntry {
                    rank: e.rank,
                    average_score: e.average.map(Into::into),
                    score_count: e.score_count as i32,
                    conflicts_declared: e.conflicts as i32,
                    criteria: averages(e),
                    proposal: e.proposal.map(Into::into),
                    application_id: e.application_id,
                })
                .collect(),
            edition_id,
        }
    }
}

#[ComplexObject]
impl Ranking {
    /// The edition.
    async fn edition(&self, ctx: &Context<'_>) -> Result<Option<Edition>> {
        Ok(req(ctx)
            .loaders
            .load_one(EditionById(self.edition_id))
            .await?
            .map(Edition::from))
    }

    /// The applications the award policy proposes, best first (jury stage only).
    async fn proposed_winners(&self, ctx: &Context<'_>) -> Result<Vec<Application>> {
        let ids: Vec<_> = self
            .entries
            .iter()
            .filter(|e| e.proposal.is_some())
            .map(|e| ApplicationById(e.application_id))
            .collect();
        let found = req(ctx).loaders.load_many(ids.iter().copied()).await?;
        Ok(ids
            .iter()
            .filter_map(|k| found.get(k).cloned().map(Application::from))
            .collect())
    }
}

/// One application's line in a ranking.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct RankingEntry {
    /// 1 = best; equal means share a rank; null without counted assessments.
    pub rank: Option<i32>,
    /// Mean of the counted assessments' weighted totals (two decimals).
    pub average_score: Option<Decimal>,
    /// Assessments counted.
    pub score_count: i32,
    /// Assessors who declared a conflict of interest (excluded).
    pub conflicts_declared: i32,
    /// Mean per criterion.
    pub criteria: Vec<CriterionAverage>,
    /// Whether the award policy proposes this application for a title (jury stage).
    pub proposal: Option<AwardProposal>,
    #[graphql(skip)]
    pub application_id: uuid::Uuid,
}

#[ComplexObject]
impl RankingEntry {
    /// The application.
    async fn application(&self, ctx: &Context<'_>) -> Result<Option<Application>> {
        Ok(req(ctx)
            .loaders
            .load_one(ApplicationById(self.application_id))
            .await?
            .map(Application::from))
    }
}

/// An application's own result in a stage: what its municipality sees once the stage's decision
/// is taken (no assessor names, no individual scores).
#[derive(SimpleObject, Clone)]
pub struct AssessmentResult {
    /// The stage.
    pub stage: AssessmentStage,
    /// The application's mean weighted total (null if nobody scored it).
    pub average_score: Option<Decimal>,
    /// The best weighted total possible.
    pub max_score: Decimal,
    /// Assessments counted.
    pub score_count: i32,
    /// Its rank in the stage (null if unranked).
    pub rank: Option<i32>,
    /// How many applications were ranked in the stage.
    pub ranked_count: i32,
    /// Mean per criterion.
    pub criteria: Vec<CriterionAverage>,
}

impl AssessmentResult {
    pub fn of(r: &Arc<ranking::Ranking>, application_id: uuid::Uuid) -> Option<Self> {
        let e = r.entry(application_id)?;
        Some(Self {
            stage: r.stage.into(),
            average_score: e.average.map(Into::into),
            max_score: r.max_total.into(),
            score_count: e.score_count as i32,
            rank: e.rank,
            ranked_count: r.ranked(),
            criteria: averages(e),
        })
    }
}

crate::connection!(
    AssessmentConnection,
    AssessmentEdge,
    Assessment,
    "A page of assessments."
);

/// Which assessments to list; all conditions must hold.
#[derive(InputObject, Default)]
pub struct AssessmentFilter {
    /// Only these title years.
    pub edition_year: Option<Vec<i32>>,
    /// Only this stage.
    pub stage: Option<AssessmentStage>,
    /// Only assessments of this application.
    pub application_id: Option<ID>,
    /// Only assessments by this assessor.
    pub assessor_id: Option<ID>,
    /// Only conflict-of-interest declarations (true) or only scored assessments (false).
    pub conflict_of_interest: Option<bool>,
}
