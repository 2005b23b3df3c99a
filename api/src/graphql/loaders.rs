//! DataLoaders for every relation a list can reach: one query per relation per request, never
//! one per row. Every loader starts from the actor's scope, so a nested field can only ever
//! return rows its reader may see.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::{
    AssessmentStage, activity, activity_progress, application, application_co_applicant,
    application_status_change, assessment, assessment_score, assessor_assignment, criterion,
    deliverable, deliverable_progress, edition, event, expenditure, good_practice, indicator,
    indicator_contribution, jury_assignment, mentor_assignment, mentoring_session, organisation,
    output, participation, partner_report, peer_learning_group, peer_learning_member, phase, plan,
    plan_action, plan_action_practice, plan_action_theme, plan_comment, plan_indicator,
    plan_version, practice_term, progress_update, reporting_period, user, vocabulary_term,
};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, IntoCondition, Query};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, JoinType, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait,
};
use uuid::Uuid;

use crate::error::AppError;
use crate::policy::{Actor, scope};

/// The request's loaders: the pool and the actor whose scopes they apply.
pub struct Loaders {
    pub db: DatabaseConnection,
    pub actor: Actor,
}

macro_rules! key {
    ($($name:ident),* $(,)?) => {$(
        #[doc = concat!("Loader key: ", stringify!($name), ".")]
        #[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
        pub struct $name(pub Uuid);
    )*};
}

key!(
    IndicatorValuesOf,
    ExpenditureTotalsOf,
    OrganisationById,
    UserById,
    EditionById,
    ApplicationById,
    PhasesOfEdition,
    StatusHistoryOf,
    LatestStatusChangeOf,
    MentorAssignmentsOf,
    CoApplicantsOf,
    MembersOf,
    MentorAssignmentById,
    MentoringSessionsOf,
    MentoringSummaryOf,
    PlanById,
    PlanOfApplication,
    ActionsOfPlan,
    IndicatorsOfPlan,
    CommentsOfPlan,
    VersionsOfPlan,
    ProgressOfAction,
    LatestProgressOf,
    CriterionById,
    TermById,
    PeriodById,
    IndicatorById,
    ActivityById,
    DeliverableById,
    ActivitiesOfWorkPackage,
    OutputsOfWorkPackage,
    DeliverablesOfActivity,
    ContributionsOfIndicator,
    ReportsOfPeriod,
    ActivityProgressOf,
    DeliverableProgressOf,
    ExpenditureOf,
    EventById,
    ParticipationCounts,
    ParticipantsOf,
    WaitlistOf,
    GroupById,
    MembersOfGroup,
    PracticeById,
    TermsOfPractice,
    ReuseOfPractice,
    ThemesOfAction,
    PracticesOfAction,
    CriteriaOfEdition,
    AssessorsOfEdition,
    AssessmentsOfApplication,
    JuryOfApplication,
    ScoresOfAssessment,
);

/// Loads rows by primary key through a scope.
macro_rules! by_id {
    ($key:ident, $module:ident, $scope:path) => {
        impl Loader<$key> for Loaders {
            type Value = $module::Model;
            type Error = AppError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, AppError> {
                let rows = $scope(&self.actor)
                    .filter($module::Column::Id.is_in(keys.iter().map(|k| k.0)))
                    .all(&self.db)
                    .await?;
                Ok(rows.into_iter().map(|r| ($key(r.id), r)).collect())
            }
        }
    };
}

by_id!(OrganisationById, organisation, scope::organisations);
by_id!(UserById, user, scope::users);
by_id!(EditionById, edition, scope::editions);
by_id!(ApplicationById, application, scope::applications);
by_id!(
    MentorAssignmentById,
    mentor_assignment,
    scope::mentor_assignments
);

by_id!(PlanById, plan, scope::plans);
by_id!(CriterionById, criterion, scope::criteria);
by_id!(TermById, vocabulary_term, scope::vocabulary_terms);
by_id!(EventById, event, scope::events);
by_id!(PeriodById, reporting_period, scope::reporting_periods);
by_id!(IndicatorById, indicator, scope::indicators);
by_id!(ActivityById, activity, scope::activities);
by_id!(DeliverableById, deliverable, scope::deliverables);
by_id!(GroupById, peer_learning_group, scope::peer_learning_groups);

impl Loader<MembersOfGroup> for Loaders {
    type Value = Vec<peer_learning_member::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[MembersOfGroup],
    ) -> Result<HashMap<MembersOfGroup, Self::Value>, AppError> {
        let rows = scope::peer_learning_members(&self.actor)
            .filter(peer_learning_member::Column::GroupId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(peer_learning_member::Column::Role)
            .order_by_asc(peer_learning_member::Column::OrganisationId)
            .all(&self.db)
            .await?;
        let mut out: HashMap<MembersOfGroup, Self::Value> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            out.entry(MembersOfGroup(row.group_id))
                .or_default()
                .push(row);
        }
        Ok(out)
    }
}

/// Registered and waiting counts per event, in SQL. Aggregates over everyone's registrations;
/// served to signed-in readers only (the public sees no participant data).
impl Loader<ParticipationCounts> for Loaders {
    type Value = (i64, i64);
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ParticipationCounts],
    ) -> Result<HashMap<ParticipationCounts, Self::Value>, AppError> {
        use sea_orm::QuerySelect;
        use sea_orm::sea_query::{Alias, Expr, Func};
        let rows: Vec<(Uuid, entity::ParticipationStatus, i64)> = participation::Entity::find()
            .select_only()
            .column(participation::Column::EventId)
            .column(participation::Column::Status)
            .column_as(
                Expr::expr(Func::cast_as(
                    Func::count(Expr::col(participation::Column::Id)),
                    Alias::new("BIGINT"),
                )),
                "n",
            )
            .filter(participation::Column::EventId.is_in(keys.iter().map(|k| k.0)))
            .group_by(participation::Column::EventId)
            .group_by(participation::Column::Status)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut out: HashMap<ParticipationCounts, (i64, i64)> =
            keys.iter().map(|k| (*k, (0, 0))).collect();
        for (event, status, n) in rows {
            let e = out.entry(ParticipationCounts(event)).or_default();
            match status {
                entity::ParticipationStatus::Registered => e.0 = n,
                entity::ParticipationStatus::Waitlisted => e.1 = n,
                entity::ParticipationStatus::Cancelled => {}
            }
        }
        Ok(out)
    }
}

/// The waiting list of each event in order (ids only: a reader learns their own position).
impl Loader<WaitlistOf> for Loaders {
    type Value = Vec<Uuid>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[WaitlistOf],
    ) -> Result<HashMap<WaitlistOf, Self::Value>, AppError> {
        use sea_orm::QuerySelect;
        let rows: Vec<(Uuid, Uuid)> = participation::Entity::find()
            .select_only()
            .column(participation::Column::EventId)
            .column(participation::Column::Id)
            .filter(participation::Column::EventId.is_in(keys.iter().map(|k| k.0)))
            .filter(participation::Column::Status.eq(entity::ParticipationStatus::Waitlisted))
            .order_by_asc(participation::Column::RegisteredAt)
            .order_by_asc(participation::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut out: HashMap<WaitlistOf, Vec<Uuid>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for (event, id) in rows {
            out.entry(WaitlistOf(event)).or_default().push(id);
        }
        Ok(out)
    }
}
by_id!(PracticeById, good_practice, scope::practices);

/// Groups `(link, Some(target))` rows by the link's parent id, in the order given.
fn group_links<K, L, T>(
    keys: &[K],
    rows: Vec<(L, Option<T>)>,
    key: impl Fn(&L) -> K,
) -> HashMap<K, Vec<T>>
where
    K: Copy + Eq + std::hash::Hash,
{
    let mut out: HashMap<K, Vec<T>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for (link, target) in rows {
        if let Some(t) = target {
            out.entry(key(&link)).or_default().push(t);
        }
    }
    out
}

impl Loader<TermsOfPractice> for Loaders {
    type Value = Vec<vocabulary_term::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[TermsOfPractice],
    ) -> Result<HashMap<TermsOfPractice, Self::Value>, AppError> {
        let rows = practice_term::Entity::find()
            .filter(practice_term::Column::PracticeId.is_in(keys.iter().map(|k| k.0)))
            .find_also_related(vocabulary_term::Entity)
            .order_by_asc(vocabulary_term::Column::Name)
            .all(&self.db)
            .await?;
        Ok(group_links(keys, rows, |l| TermsOfPractice(l.practice_id)))
    }
}

impl Loader<ThemesOfAction> for Loaders {
    type Value = Vec<vocabulary_term::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ThemesOfAction],
    ) -> Result<HashMap<ThemesOfAction, Self::Value>, AppError> {
        let rows = plan_action_theme::Entity::find()
            .filter(plan_action_theme::Column::ActionId.is_in(keys.iter().map(|k| k.0)))
            .find_also_related(vocabulary_term::Entity)
            .order_by_asc(vocabulary_term::Column::Name)
            .all(&self.db)
            .await?;
        Ok(group_links(keys, rows, |l| ThemesOfAction(l.action_id)))
    }
}

/// The practices an action cites, as far as the reader may see them.
impl Loader<PracticesOfAction> for Loaders {
    type Value = Vec<good_practice::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[PracticesOfAction],
    ) -> Result<HashMap<PracticesOfAction, Self::Value>, AppError> {
        // Correlated EXISTS, not `IN (SELECT id …)`: SQLite built the list of every published
        // practice for each plan page (25 ms of 35 at scale 1000).
        let rows = plan_action_practice::Entity::find()
            .filter(plan_action_practice::Column::ActionId.is_in(keys.iter().map(|k| k.0)))
            .filter(scope::visible_practice(
                &self.actor,
                (
                    plan_action_practice::Entity,
                    plan_action_practice::Column::PracticeId,
                ),
            ))
            .find_also_related(good_practice::Entity)
            .order_by_asc(good_practice::Column::Title)
            .all(&self.db)
            .await?;
        Ok(group_links(keys, rows, |l| PracticesOfAction(l.action_id)))
    }
}

/// How many plans cite each practice: an aggregate over all plans (it names none of them),
/// shown to whoever may see the practice.
impl Loader<ReuseOfPractice> for Loaders {
    type Value = i64;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ReuseOfPractice],
    ) -> Result<HashMap<ReuseOfPractice, Self::Value>, AppError> {
        use sea_orm::sea_query::{Alias, Expr, Func};
        use sea_orm::{JoinType, QuerySelect, RelationTrait};
        let rows: Vec<(Uuid, i64)> = plan_action_practice::Entity::find()
            .select_only()
            .column(plan_action_practice::Column::PracticeId)
            .column_as(
                Expr::expr(Func::cast_as(
                    Func::count_distinct(Expr::col((
                        plan_action::Entity,
                        plan_action::Column::PlanId,
                    ))),
                    Alias::new("BIGINT"),
                )),
                "plans",
            )
            .join(
                JoinType::InnerJoin,
                plan_action_practice::Relation::Action.def(),
            )
            .filter(plan_action_practice::Column::PracticeId.is_in(keys.iter().map(|k| k.0)))
            .group_by(plan_action_practice::Column::PracticeId)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut out: HashMap<ReuseOfPractice, i64> = keys.iter().map(|k| (*k, 0)).collect();
        for (p, n) in rows {
            out.insert(ReuseOfPractice(p), n);
        }
        Ok(out)
    }
}

/// The parent id of a child row, so one macro can group any child table.
trait ParentField {
    fn parent(&self) -> Uuid;
}

macro_rules! parent_field {
    ($module:ident, $field:ident) => {
        impl ParentField for $module::Model {
            fn parent(&self) -> Uuid {
                self.$field
            }
        }
    };
}

parent_field!(phase, edition_id);
parent_field!(application_status_change, application_id);
parent_field!(mentor_assignment, application_id);
parent_field!(plan_action, plan_id);
parent_field!(plan_indicator, plan_id);
parent_field!(plan_comment, plan_id);
parent_field!(plan_version, plan_id);
parent_field!(progress_update, action_id);
parent_field!(criterion, edition_id);
parent_field!(assessor_assignment, edition_id);
parent_field!(assessment, application_id);
parent_field!(jury_assignment, application_id);
parent_field!(participation, event_id);
parent_field!(activity, work_package_id);
parent_field!(output, work_package_id);
parent_field!(deliverable, activity_id);
parent_field!(indicator_contribution, indicator_id);
parent_field!(partner_report, period_id);
parent_field!(activity_progress, report_id);
parent_field!(deliverable_progress, report_id);
parent_field!(expenditure, report_id);

/// Loads child rows grouped by their parent, through a scope, in a stable order.
macro_rules! children_via_parent {
    // Ordered by a code, naturally (`A1.2` before `A1.10`): sorted here after loading.
    ($key:ident, $module:ident, $scope:path, $parent:ident, natural $code:ident) => {
        children_via_parent!($key, $module, $scope, $parent, Id, |rows: &mut Vec<
            $module::Model,
        >| {
            rows.sort_by_cached_key(|r| crate::domain::natural_key(&r.$code))
        });
    };
    ($key:ident, $module:ident, $scope:path, $parent:ident, $order:ident) => {
        children_via_parent!($key, $module, $scope, $parent, $order, |_: &mut Vec<
            $module::Model,
        >| {});
    };
    ($key:ident, $module:ident, $scope:path, $parent:ident, $order:ident, $post:expr) => {
        impl Loader<$key> for Loaders {
            type Value = Vec<$module::Model>;
            type Error = AppError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, AppError> {
                let rows = $scope(&self.actor)
                    .filter($module::Column::$parent.is_in(keys.iter().map(|k| k.0)))
                    .order_by_asc($module::Column::$order)
                    .order_by_asc($module::Column::Id)
                    .all(&self.db)
                    .await?;
                let mut out: HashMap<$key, Self::Value> =
                    keys.iter().map(|k| (*k, Vec::new())).collect();
                for row in rows {
                    out.entry($key(ParentField::parent(&row)))
                        .or_default()
                        .push(row);
                }
                let post = $post;
                for rows in out.values_mut() {
                    post(rows);
                }
                Ok(out)
            }
        }
    };
}

children_via_parent!(PhasesOfEdition, phase, scope::phases, EditionId, StartsAt);
children_via_parent!(
    StatusHistoryOf,
    application_status_change,
    scope::status_changes,
    ApplicationId,
    ChangedAt
);
/// A loader of each parent's newest child (by `$order`, then id: the last row of the
/// `children_via_parent!` list of the same parent), chosen in SQL with `NOT EXISTS` a later
/// sibling, so a page reads one row per parent instead of whole histories.
macro_rules! latest_via_parent {
    ($key:ident, $module:ident, $scope:path, $parent:ident, $order:ident) => {
        impl Loader<$key> for Loaders {
            type Value = $module::Model;
            type Error = AppError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, AppError> {
                use $module::{Column as C, Entity as E};
                let later = Alias::new("later");
                let newer_sibling = Query::select()
                    .expr(Expr::val(1))
                    .from_as(E, later.clone())
                    .and_where(Expr::col((later.clone(), C::$parent)).equals((E, C::$parent)))
                    .cond_where(
                        Condition::any()
                            .add(
                                Expr::col((later.clone(), C::$order)).gt(Expr::col((E, C::$order))),
                            )
                            .add(
                                Condition::all()
                                    .add(
                                        Expr::col((later.clone(), C::$order))
                                            .equals((E, C::$order)),
                                    )
                                    .add(Expr::col((later, C::Id)).gt(Expr::col((E, C::Id)))),
                            ),
                    )
                    .to_owned();
                let rows = $scope(&self.actor)
                    .filter(C::$parent.is_in(keys.iter().map(|k| k.0)))
                    .filter(Expr::exists(newer_sibling).not())
                    .all(&self.db)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|row| ($key(ParentField::parent(&row)), row))
                    .collect())
            }
        }
    };
}

latest_via_parent!(
    LatestStatusChangeOf,
    application_status_change,
    scope::status_changes,
    ApplicationId,
    ChangedAt
);
latest_via_parent!(
    LatestProgressOf,
    progress_update,
    scope::progress_updates,
    ActionId,
    PostedAt
);

/// An application's mentor assignments with their mentors, in one statement: the mentor is
/// joined only where the actor's user scope admits them (the scope sits in the join condition,
/// so an assignment whose mentor is hidden keeps its row and gets no mentor).
impl Loader<MentorAssignmentsOf> for Loaders {
    type Value = Vec<(mentor_assignment::Model, Option<user::Model>)>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[MentorAssignmentsOf],
    ) -> Result<HashMap<MentorAssignmentsOf, Self::Value>, AppError> {
        let visible_users = scope::ids(scope::users(&self.actor), user::Column::Id);
        let mentor = mentor_assignment::Relation::Mentor
            .def()
            .on_condition(move |_, mentor| {
                Expr::col((mentor, user::Column::Id))
                    .in_subquery(visible_users.clone())
                    .into_condition()
            });
        let rows = scope::mentor_assignments(&self.actor)
            .filter(mentor_assignment::Column::ApplicationId.is_in(keys.iter().map(|k| k.0)))
            .join(JoinType::LeftJoin, mentor)
            .select_also(user::Entity)
            .order_by_asc(mentor_assignment::Column::CreatedAt)
            .order_by_asc(mentor_assignment::Column::Id)
            .all(&self.db)
            .await?;
        let mut out: HashMap<MentorAssignmentsOf, Self::Value> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for (assignment, mentor) in rows {
            out.entry(MentorAssignmentsOf(assignment.application_id))
                .or_default()
                .push((assignment, mentor));
        }
        Ok(out)
    }
}

children_via_parent!(
    ActionsOfPlan,
    plan_action,
    scope::plan_actions,
    PlanId,
    Position
);
children_via_parent!(
    IndicatorsOfPlan,
    plan_indicator,
    scope::plan_indicators,
    PlanId,
    CreatedAt
);
children_via_parent!(
    CommentsOfPlan,
    plan_comment,
    scope::plan_comments,
    PlanId,
    CreatedAt
);
children_via_parent!(
    VersionsOfPlan,
    plan_version,
    scope::plan_versions,
    PlanId,
    Number
);
children_via_parent!(
    ProgressOfAction,
    progress_update,
    scope::progress_updates,
    ActionId,
    PostedAt
);

children_via_parent!(
    ParticipantsOf,
    participation,
    scope::participations,
    EventId,
    RegisteredAt
);
children_via_parent!(
    ActivitiesOfWorkPackage,
    activity,
    scope::activities,
    WorkPackageId,
    natural code
);
children_via_parent!(
    OutputsOfWorkPackage,
    output,
    scope::outputs,
    WorkPackageId,
    natural code
);
children_via_parent!(
    DeliverablesOfActivity,
    deliverable,
    scope::deliverables,
    ActivityId,
    natural code
);
children_via_parent!(
    ContributionsOfIndicator,
    indicator_contribution,
    scope::contributions,
    IndicatorId,
    CreatedAt
);
children_via_parent!(
    ReportsOfPeriod,
    partner_report,
    scope::partner_reports,
    PeriodId,
    CreatedAt
);

/// Loads child rows of tables keyed by (parent, other), grouped by parent, through a scope.
macro_rules! children_by_key {
    ($key:ident, $module:ident, $scope:path, $parent:ident, $order:ident) => {
        impl Loader<$key> for Loaders {
            type Value = Vec<$module::Model>;
            type Error = AppError;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, AppError> {
                let rows = $scope(&self.actor)
                    .filter($module::Column::$parent.is_in(keys.iter().map(|k| k.0)))
                    .order_by_asc($module::Column::$order)
                    .all(&self.db)
                    .await?;
                let mut out: HashMap<$key, Self::Value> =
                    keys.iter().map(|k| (*k, Vec::new())).collect();
                for row in rows {
                    out.entry($key(ParentField::parent(&row)))
                        .or_default()
                        .push(row);
                }
                Ok(out)
            }
        }
    };
}

children_by_key!(
    ActivityProgressOf,
    activity_progress,
    scope::activity_progress,
    ReportId,
    ActivityId
);
children_by_key!(
    DeliverableProgressOf,
    deliverable_progress,
    scope::deliverable_progress,
    ReportId,
    DeliverableId
);
children_by_key!(
    ExpenditureOf,
    expenditure,
    scope::expenditure,
    ReportId,
    Category
);

children_via_parent!(
    CriteriaOfEdition,
    criterion,
    scope::criteria,
    EditionId,
    Position
);
children_via_parent!(
    AssessorsOfEdition,
    assessor_assignment,
    scope::assessor_assignments,
    EditionId,
    CreatedAt
);
children_via_parent!(
    JuryOfApplication,
    jury_assignment,
    scope::jury_assignments,
    ApplicationId,
    CreatedAt
);
children_via_parent!(
    AssessmentsOfApplication,
    assessment,
    scope::assessments,
    ApplicationId,
    SubmittedAt
);
impl Loader<ScoresOfAssessment> for Loaders {
    type Value = Vec<assessment_score::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ScoresOfAssessment],
    ) -> Result<HashMap<ScoresOfAssessment, Self::Value>, AppError> {
        let rows = scope::assessment_scores(&self.actor)
            .filter(assessment_score::Column::AssessmentId.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        let mut out: HashMap<ScoresOfAssessment, Self::Value> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            out.entry(ScoresOfAssessment(row.assessment_id))
                .or_default()
                .push(row);
        }
        Ok(out)
    }
}

/// Loader key: the ranking of one edition's stage.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct RankingOf(pub Uuid, pub AssessmentStage);

/// Rankings are aggregates over every assessor, computed in SQL once per edition and stage and
/// request. They are not row-scoped: whoever serves them asks the access policy first.
impl Loader<RankingOf> for Loaders {
    type Value = std::sync::Arc<crate::assessment::ranking::Ranking>;
    type Error = AppError;

    async fn load(&self, keys: &[RankingOf]) -> Result<HashMap<RankingOf, Self::Value>, AppError> {
        let editions: HashMap<Uuid, edition::Model> = edition::Entity::find()
            .filter(edition::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|e| (e.id, e))
            .collect();
        let mut out = HashMap::new();
        for key in keys {
            let Some(ed) = editions.get(&key.0) else {
                continue;
            };
            let r = crate::assessment::ranking::compute(&self.db, ed.id, key.1, ed.into()).await?;
            out.insert(*key, std::sync::Arc::new(r));
        }
        Ok(out)
    }
}

impl Loader<PlanOfApplication> for Loaders {
    type Value = plan::Model;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[PlanOfApplication],
    ) -> Result<HashMap<PlanOfApplication, Self::Value>, AppError> {
        let rows = scope::plans(&self.actor)
            .filter(plan::Column::ApplicationId.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| (PlanOfApplication(r.application_id), r))
            .collect())
    }
}

impl Loader<CoApplicantsOf> for Loaders {
    type Value = Vec<Uuid>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[CoApplicantsOf],
    ) -> Result<HashMap<CoApplicantsOf, Self::Value>, AppError> {
        let rows = scope::co_applicants(&self.actor)
            .filter(application_co_applicant::Column::ApplicationId.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        let mut out: HashMap<CoApplicantsOf, Vec<Uuid>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            out.entry(CoApplicantsOf(row.application_id))
                .or_default()
                .push(row.organisation_id);
        }
        Ok(out)
    }
}

impl Loader<MembersOf> for Loaders {
    type Value = Vec<user::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[MembersOf]) -> Result<HashMap<MembersOf, Self::Value>, AppError> {
        let rows = scope::users(&self.actor)
            .filter(user::Column::OrganisationId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(user::Column::Name)
            .order_by_asc(user::Column::Id)
            .all(&self.db)
            .await?;
        let mut out: HashMap<MembersOf, Vec<user::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            if let Some(org) = row.organisation_id {
                out.entry(MembersOf(org)).or_default().push(row);
            }
        }
        Ok(out)
    }
}

impl Loader<MentoringSessionsOf> for Loaders {
    type Value = Vec<mentoring_session::Model>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[MentoringSessionsOf],
    ) -> Result<HashMap<MentoringSessionsOf, Self::Value>, AppError> {
        let assignments: HashMap<Uuid, Uuid> = scope::mentor_assignments(&self.actor)
            .filter(mentor_assignment::Column::ApplicationId.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|a| (a.id, a.application_id))
            .collect();
        let rows = scope::mentoring_sessions(&self.actor)
            .filter(mentoring_session::Column::AssignmentId.is_in(assignments.keys().copied()))
            .order_by_asc(mentoring_session::Column::HeldOn)
            .order_by_asc(mentoring_session::Column::Id)
            .all(&self.db)
            .await?;
        let mut out: HashMap<MentoringSessionsOf, Self::Value> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            if let Some(app) = assignments.get(&row.assignment_id) {
                out.entry(MentoringSessionsOf(*app)).or_default().push(row);
            }
        }
        Ok(out)
    }
}

/// Session count and minutes per application, computed in SQL. Aggregates are visible to
/// everyone who may see the application (partners see only these).
impl Loader<MentoringSummaryOf> for Loaders {
    type Value = (i64, i64);
    type Error = AppError;

    async fn load(
        &self,
        keys: &[MentoringSummaryOf],
    ) -> Result<HashMap<MentoringSummaryOf, Self::Value>, AppError> {
        use sea_orm::sea_query::{Expr, ExprTrait, Func};
        use sea_orm::{JoinType, QuerySelect, QueryTrait, RelationTrait};
        let rows: Vec<(Uuid, i64, Option<i64>)> = mentoring_session::Entity::find()
            .select_only()
            .column(mentor_assignment::Column::ApplicationId)
            .column_as(
                Expr::col((mentoring_session::Entity, mentoring_session::Column::Id)).count(),
                "sessions",
            )
            .column_as(
                Expr::expr(Func::cast_as(
                    Func::sum(Expr::col((
                        mentoring_session::Entity,
                        mentoring_session::Column::Minutes,
                    ))),
                    sea_orm::sea_query::Alias::new("BIGINT"),
                )),
                "minutes",
            )
            .join(
                JoinType::InnerJoin,
                mentoring_session::Relation::Assignment.def(),
            )
            .filter(mentor_assignment::Column::ApplicationId.is_in(keys.iter().map(|k| k.0)))
            .filter(
                mentor_assignment::Column::ApplicationId.in_subquery(
                    scope::applications(&self.actor)
                        .select_only()
                        .column(application::Column::Id)
                        .into_query(),
                ),
            )
            .group_by(mentor_assignment::Column::ApplicationId)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut out: HashMap<MentoringSummaryOf, Self::Value> =
            keys.iter().map(|k| (*k, (0, 0))).collect();
        for (app, n, minutes) in rows {
            out.insert(MentoringSummaryOf(app), (n, minutes.unwrap_or(0)));
        }
        Ok(out)
    }
}

/// A period's indicator figures: every period of the request in one batch (the figures are
/// programme-wide; whoever may read a period may read them).
impl Loader<IndicatorValuesOf> for Loaders {
    type Value = Vec<crate::reporting::figures::IndicatorFigure>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[IndicatorValuesOf],
    ) -> Result<HashMap<IndicatorValuesOf, Self::Value>, AppError> {
        let periods = scope::reporting_periods(&self.actor)
            .filter(reporting_period::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .all(&self.db)
            .await?;
        Ok(
            crate::reporting::figures::indicators_for(&self.db, &periods)
                .await?
                .into_iter()
                .map(|(id, figures)| (IndicatorValuesOf(id), figures))
                .collect(),
        )
    }
}

/// A period's expenditure totals per cost category, every period of the request in one batch.
impl Loader<ExpenditureTotalsOf> for Loaders {
    type Value = Vec<(entity::CostCategory, i64)>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[ExpenditureTotalsOf],
    ) -> Result<HashMap<ExpenditureTotalsOf, Self::Value>, AppError> {
        let visible: Vec<Uuid> = scope::reporting_periods(&self.actor)
            .filter(reporting_period::Column::Id.is_in(keys.iter().map(|k| k.0)))
            .select_only()
            .column(reporting_period::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(
            crate::reporting::figures::expenditure_totals_for(&self.db, &visible)
                .await?
                .into_iter()
                .map(|(id, lines)| (ExpenditureTotalsOf(id), lines))
                .collect(),
        )
    }
}
