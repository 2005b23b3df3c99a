//! Assessment queries and mutations.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use entity::{application, assessment, edition, jury_assignment};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, Order, QueryFilter};

use super::service::{self, CriterionChanges, CriterionFields, Verdict};
use super::types::{
    Assessment, AssessmentConnection, AssessmentFilter, AssessorAssignment, Criterion,
    JuryAssignment, JuryAssignmentConnection, Ranking,
};
use crate::domain::NonEmptyText;
use crate::error::AppError;
use crate::graphql::connection::{PageArgs, cost, order_with_tiebreak, paginate};
use crate::graphql::context::req;
use crate::graphql::enums::AssessmentStage;
use crate::graphql::ids;
use crate::graphql::loaders::RankingOf;
use crate::graphql::planner::{self, ASSESSMENT, Planned};
use crate::graphql::scalars::Decimal;
use crate::policy::{rules, scope};

/// The assessments connection's type names, for a planned page.
const TYPES: planner::ConnectionTypes = planner::ConnectionTypes {
    connection: "AssessmentConnection",
    edge: "AssessmentEdge",
};

/// The ids of the applications to the editions of these title years (the `editionYear`
/// filters of the assessment lists).
fn applications_of(years: Vec<i32>) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(application::Column::Id)
        .from(application::Entity)
        .and_where(
            application::Column::EditionId.in_subquery(
                Query::select()
                    .column(edition::Column::Id)
                    .from(edition::Entity)
                    .and_where(edition::Column::TitleYear.is_in(years))
                    .to_owned(),
            ),
        )
        .to_owned()
}

/// Assessment queries.
#[derive(Default)]
pub struct AssessmentQuery;

#[Object]
impl AssessmentQuery {
    /// Assessments the caller may see: all for coordinators, their own for assessors; nothing for
    /// mentors and municipalities. Newest first.
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn assessments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return at most this many rows from the start (default 20, max 100).")]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return at most this many rows from the end (max 100).")] last: Option<
            i32,
        >,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
        #[graphql(desc = "Conditions the rows must meet.")] filter: Option<AssessmentFilter>,
    ) -> Result<Option<Planned<AssessmentConnection>>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let mut select = scope::assessments(&rc.actor);
        if let Some(f) = filter {
            if let Some(years) = f.edition_year {
                select = select
                    .filter(assessment::Column::ApplicationId.in_subquery(applications_of(years)));
            }
            if let Some(stage) = f.stage {
                select = select
                    .filter(assessment::Column::Stage.eq(entity::AssessmentStage::from(stage)));
            }
            if let Some(app) = f.application_id {
                let app = ids::decode(&app, "Application", "filter.applicationId")?;
                select = select.filter(assessment::Column::ApplicationId.eq(app));
            }
            if let Some(user) = f.assessor_id {
                let user = ids::decode(&user, "User", "filter.assessorId")?;
                select = select.filter(assessment::Column::AssessorId.eq(user));
            }
            if let Some(coi) = f.conflict_of_interest {
                select = select.filter(assessment::Column::ConflictOfInterest.eq(coi));
            }
        }
        let order = order_with_tiebreak(
            vec![],
            (assessment::Column::SubmittedAt, Order::Desc),
            assessment::Column::Id,
        )?;
        let args = PageArgs::new(ctx, first, after, last, before);
        if rc.state.config.planner
            && let Some(built) =
                planner::connection(ctx, &ASSESSMENT, &TYPES, select.clone(), &order, &args).await?
        {
            return Ok(Some(Planned::built(built)));
        }
        let (page, total) = paginate(rc.db(), select, order, &args).await?;
        Ok(Some(Planned::Resolved(AssessmentConnection::from_page(
            page,
            total,
            Assessment::from,
        ))))
    }

    /// Jury assignments the caller may see: all for coordinators, their own for a juror (what
    /// they are to score); nothing for anyone else. Newest first.
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn jury_assignments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return at most this many rows from the start (default 20, max 100).")]
        first: Option<i32>,
        #[graphql(desc = "Start after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return at most this many rows from the end (max 100).")] last: Option<
            i32,
        >,
        #[graphql(desc = "End before this cursor.")] before: Option<String>,
        #[graphql(desc = "Conditions the rows must meet.")] filter: Option<JuryAssignmentFilter>,
    ) -> Result<Option<JuryAssignmentConnection>> {
        let rc = req(ctx);
        rc.actor.principal()?;
        let mut select = scope::jury_assignments(&rc.actor);
        if let Some(f) = filter {
            if let Some(years) = f.edition_year {
                select = select.filter(
                    jury_assignment::Column::ApplicationId.in_subquery(applications_of(years)),
                );
            }
            if let Some(stage) = f.stage {
                select = select.filter(
                    jury_assignment::Column::Stage.eq(entity::AssessmentStage::from(stage)),
                );
            }
            if let Some(user) = f.juror_id {
                let user = ids::decode(&user, "User", "filter.jurorId")?;
                select = select.filter(jury_assignment::Column::JurorId.eq(user));
            }
        }
        let order = order_with_tiebreak(
            vec![],
            (jury_assignment::Column::CreatedAt, Order::Desc),
            jury_assignment::Column::Id,
        )?;
        let args = PageArgs::new(ctx, first, after, last, before);
        let (page, total) = paginate(rc.db(), select, order, &args).await?;
        Ok(Some(JuryAssignmentConnection::from_page(
            page,
            total,
            JuryAssignment::from,
        )))
    }

    /// The ranking of an edition's stage, with the award policy's proposal for the jury stage
    /// (coordinators only).
    async fn ranking(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The title year of the edition.")] edition_year: i32,
        #[graphql(desc = "The stage to rank.")] stage: AssessmentStage,
    ) -> Result<Option<Ranking>> {
        let rc = req(ctx);
        rules::manage_selection(&rc.actor)?;
        let ed = scope::editions(&rc.actor)
            .filter(edition::Column::TitleYear.eq(edition_year))
            .one(rc.db())
            .await
            .map_err(AppError::from)?
            .ok_or_else(|| AppError::NotFound(format!("there is no {edition_year} edition")))?;
        let r = rc
            .loaders
            .load_one(RankingOf(ed.id, stage.into()))
            .await?
            .ok_or_else(|| AppError::internal("ranking of a known edition missing"))?;
        Ok(Some(Ranking::new(ed.id, &r)))
    }
}

/// Input of `createCriterion`.
#[derive(InputObject)]
pub struct CreateCriterionInput {
    /// The edition.
    pub edition_id: ID,
    /// The stage it is scored in.
    pub stage: AssessmentStage,
    /// Name (1–200 characters).
    pub name: String,
    /// What the assessors look for (up to 5000 characters).
    #[graphql(default)]
    pub description: String,
    /// Weight in the weighted total (greater than 0, at most 1000, three decimals).
    pub weight: Decimal,
    /// Scores run from 0 to this (1–100).
    pub max_score: i32,
}

/// Input of `updateCriterion`; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateCriterionInput {
    /// The criterion.
    pub id: ID,
    /// The `version` the change is based on; CONFLICT if someone saved in between.
    pub expected_version: i32,
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New weight.
    pub weight: Option<Decimal>,
    /// New maximum score.
    pub max_score: Option<i32>,
}

/// Input of `deleteCriterion` and `unassignAssessor`.
#[derive(InputObject)]
pub struct DeleteByIdInput {
    /// The object to remove.
    pub id: ID,
}

/// Which jury assignments to list; all conditions must hold.
#[derive(InputObject, Default)]
pub struct JuryAssignmentFilter {
    /// Only applications of these title years' editions.
    pub edition_year: Option<Vec<i32>>,
    /// Only this stage.
    pub stage: Option<AssessmentStage>,
    /// Only this juror's.
    pub juror_id: Option<ID>,
}

/// Input of `assignJuror`.
#[derive(InputObject)]
pub struct AssignJurorInput {
    /// The application to score.
    pub application_id: ID,
    /// The stage the juror scores it in (the jury stage opens its CuReAP to the juror).
    pub stage: AssessmentStage,
    /// An active user with the JUROR role (a member of an external organisation).
    pub juror_id: ID,
}

/// Result of a jury-assignment mutation.
#[derive(SimpleObject)]
pub struct JuryAssignmentPayload {
    /// The assignment (as it was, when removed).
    pub assignment: JuryAssignment,
}

/// Input of `assignAssessor`.
#[derive(InputObject)]
pub struct AssignAssessorInput {
    /// The edition.
    pub edition_id: ID,
    /// The stage the user scores.
    pub stage: AssessmentStage,
    /// A coordinator or partner user.
    pub assessor_id: ID,
}

/// A score on one criterion.
#[derive(InputObject)]
pub struct CriterionScoreInput {
    /// The criterion (of the stage scored).
    pub criterion_id: ID,
    /// The score, 0 to the criterion's maximum.
    pub score: i32,
}

/// Input of `submitAssessment`.
#[derive(InputObject)]
pub struct SubmitAssessmentInput {
    /// The application.
    pub application_id: ID,
    /// The stage (its phase must be open, and the caller its assessor).
    pub stage: AssessmentStage,
    /// A score for every criterion of the stage.
    pub scores: Vec<CriterionScoreInput>,
    /// A comment for the coordinator and the jury (up to 5000 characters).
    #[graphql(default)]
    pub comment: String,
    /// To replace an earlier assessment: its `version` (CONFLICT if it changed since).
    pub expected_version: Option<i32>,
}

/// Input of `declareConflictOfInterest`.
#[derive(InputObject)]
pub struct DeclareConflictInput {
    /// The application.
    pub application_id: ID,
    /// The stage.
    pub stage: AssessmentStage,
    /// Why (1–2000 characters; seen by coordinators).
    pub note: String,
    /// To replace an earlier assessment: its `version`.
    pub expected_version: Option<i32>,
}

/// Result of a criterion mutation.
#[derive(SimpleObject)]
pub struct CriterionPayload {
    /// The criterion as it is now (or as it was, when deleted).
    pub criterion: Criterion,
}

/// Result of an assessor-assignment mutation.
#[derive(SimpleObject)]
pub struct AssessorAssignmentPayload {
    /// The assignment (as it was, when removed).
    pub assignment: AssessorAssignment,
}

/// Result of `submitAssessment` and `declareConflictOfInterest`.
#[derive(SimpleObject)]
pub struct AssessmentPayload {
    /// The assessment as it is now.
    pub assessment: Assessment,
}

fn comment(field: &str, raw: &str, max: usize) -> Result<String, AppError> {
    let t = raw.trim();
    if t.chars().count() > max {
        return Err(AppError::bad_input(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(t.to_owned())
}

/// Assessment mutations.
#[derive(Default)]
pub struct AssessmentMutation;

#[Object]
impl AssessmentMutation {
    /// Adds a scoring criterion to a stage (coordinators, before scoring of the stage begins).
    async fn create_criterion(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: CreateCriterionInput,
    ) -> Result<Option<CriterionPayload>> {
        let rc = req(ctx);
        rules::manage_editions(&rc.actor)?;
        let ed = ids::decode(&input.edition_id, "Edition", "editionId")?;
        let f = CriterionFields::parse(
            &input.name,
            &input.description,
            input.weight.0,
            input.max_score,
        )?;
        let c = service::create_criterion(rc.db(), &rc.actor, ed, input.stage.into(), f).await?;
        Ok(Some(CriterionPayload {
            criterion: c.into(),
        }))
    }

    /// Changes a criterion (coordinators, before scoring of its stage begins).
    async fn update_criterion(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: UpdateCriterionInput,
    ) -> Result<Option<CriterionPayload>> {
        let rc = req(ctx);
        rules::manage_editions(&rc.actor)?;
        let id = ids::decode(&input.id, "Criterion", "id")?;
        let changes = CriterionChanges {
            name: input
                .name
                .map(|n| NonEmptyText::parse("name", &n, 200))
                .transpose()?,
            description: input
                .description
                .map(|d| service::check_description(&d))
                .transpose()?,
            weight: input
                .weight
                .map(|w| service::check_weight(w.0))
                .transpose()?,
            max_score: input
                .max_score
                .map(|m| service::check_max_score(m).map(|_| m))
                .transpose()?,
        };
        let c = service::update_criterion(rc.db(), &rc.actor, id, input.expected_version, changes)
            .await?;
        Ok(Some(CriterionPayload {
            criterion: c.into(),
        }))
    }

    /// Removes a criterion (coordinators, before scoring of its stage begins).
    async fn delete_criterion(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: DeleteByIdInput,
    ) -> Result<Option<CriterionPayload>> {
        let rc = req(ctx);
        rules::manage_editions(&rc.actor)?;
        let id = ids::decode(&input.id, "Criterion", "id")?;
        let c = service::delete_criterion(rc.db(), &rc.actor, id).await?;
        Ok(Some(CriterionPayload {
            criterion: c.into(),
        }))
    }

    /// Makes a coordinator or partner user an assessor of an edition's stage (coordinators).
    async fn assign_assessor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: AssignAssessorInput,
    ) -> Result<Option<AssessorAssignmentPayload>> {
        let rc = req(ctx);
        rules::manage_selection(&rc.actor)?;
        let ed = ids::decode(&input.edition_id, "Edition", "editionId")?;
        let user = ids::decode(&input.assessor_id, "User", "assessorId")?;
        let a = service::assign_assessor(rc.db(), &rc.actor, ed, input.stage.into(), user).await?;
        Ok(Some(AssessorAssignmentPayload {
            assignment: a.into(),
        }))
    }

    /// Removes an assessor assignment (coordinators); scores already given stay.
    async fn unassign_assessor(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: DeleteByIdInput,
    ) -> Result<Option<AssessorAssignmentPayload>> {
        let rc = req(ctx);
        rules::manage_selection(&rc.actor)?;
        let id = ids::decode(&input.id, "AssessorAssignment", "id")?;
        let a = service::unassign_assessor(rc.db(), &rc.actor, id).await?;
        Ok(Some(AssessorAssignmentPayload {
            assignment: a.into(),
        }))
    }

    /// Assigns a juror to score one application in one stage (coordinators). The juror then
    /// reads that application (and its CuReAP in the jury stage), the criteria and their own
    /// scores, and nothing else.
    async fn assign_juror(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: AssignJurorInput,
    ) -> Result<Option<JuryAssignmentPayload>> {
        let rc = req(ctx);
        rules::manage_selection(&rc.actor)?;
        let app = ids::decode(&input.application_id, "Application", "applicationId")?;
        let juror = ids::decode(&input.juror_id, "User", "jurorId")?;
        let a = service::assign_juror(rc.db(), &rc.actor, app, input.stage.into(), juror).await?;
        Ok(Some(JuryAssignmentPayload {
            assignment: a.into(),
        }))
    }

    /// Removes a jury assignment (coordinators); an assessment already handed in stays.
    async fn unassign_juror(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: DeleteByIdInput,
    ) -> Result<Option<JuryAssignmentPayload>> {
        let rc = req(ctx);
        rules::manage_selection(&rc.actor)?;
        let id = ids::decode(&input.id, "JuryAssignment", "id")?;
        let a = service::unassign_juror(rc.db(), &rc.actor, id).await?;
        Ok(Some(JuryAssignmentPayload {
            assignment: a.into(),
        }))
    }

    /// Scores an application on every criterion of the stage (its assigned assessors, while the
    /// stage's phase is open). Send `expectedVersion` to replace an earlier assessment.
    async fn submit_assessment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: SubmitAssessmentInput,
    ) -> Result<Option<AssessmentPayload>> {
        let rc = req(ctx);
        rules::assess(&rc.actor)?;
        let app = ids::decode(&input.application_id, "Application", "applicationId")?;
        if input.scores.len() > 100 {
            return Err(AppError::bad_input("scores", "at most 100 scores").into());
        }
        let scores = input
            .scores
            .iter()
            .enumerate()
            .map(|(i, s)| {
                ids::decode(
                    &s.criterion_id,
                    "Criterion",
                    &format!("scores.{i}.criterionId"),
                )
                .map(|c| (c, s.score))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let verdict = Verdict::Scores {
            scores,
            comment: comment("comment", &input.comment, 5000)?,
        };
        let a = service::assess(
            rc.db(),
            &rc.actor,
            app,
            input.stage.into(),
            verdict,
            input.expected_version,
        )
        .await?;
        Ok(Some(AssessmentPayload {
            assessment: a.into(),
        }))
    }

    /// Declares a conflict of interest with an application (its assigned assessors): the caller
    /// gives no scores and is left out of the application's ranking.
    async fn declare_conflict_of_interest(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The mutation's input.")] input: DeclareConflictInput,
    ) -> Result<Option<AssessmentPayload>> {
        let rc = req(ctx);
        rules::assess(&rc.actor)?;
        let app = ids::decode(&input.application_id, "Application", "applicationId")?;
        let note = NonEmptyText::parse("note", &input.note, 2000)?;
        let a = service::assess(
            rc.db(),
            &rc.actor,
            app,
            input.stage.into(),
            Verdict::ConflictOfInterest { note },
            input.expected_version,
        )
        .await?;
        Ok(Some(AssessmentPayload {
            assessment: a.into(),
        }))
    }
}
