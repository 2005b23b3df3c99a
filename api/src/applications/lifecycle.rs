//! The application lifecycle as one table: for each action, the states it starts from, the state
//! it leads to, the roles allowed, the phase that must be open and the checks that must pass.
//!
//! The service consults only this table, so a transition's rules live in exactly one row.

use entity::{ApplicationStatus as S, PhaseKind, Role};

/// What a caller asks to do with an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Hand in a draft within the call.
    Submit,
    /// Step out of the competition before the decision.
    Withdraw,
    /// The coordinator confirms a submitted application is eligible.
    ConfirmEligibility,
    /// The coordinator finds a submitted application ineligible.
    RejectEligibility,
    /// Stage 1: selected to write a CuReAP.
    Shortlist,
    /// Stage 1: not selected.
    RejectShortlist,
    /// A shortlisted candidate starts writing its CuReAP (a mentor must be assigned).
    StartCureap,
    /// The CuReAP is handed in; the plan is frozen as a numbered version.
    SubmitCureap,
    /// The jury's decision: the title is awarded (within the edition's award policy).
    Award,
    /// The jury's decision: no title.
    Decline,
    /// A Pearl's title year begins.
    StartTitleYear,
    /// A Pearl's title year is over.
    CompleteTitleYear,
}

/// Every action, for tests and for listing what a caller may do.
pub const ALL_ACTIONS: [Action; 12] = [
    Action::Submit,
    Action::Withdraw,
    Action::ConfirmEligibility,
    Action::RejectEligibility,
    Action::Shortlist,
    Action::RejectShortlist,
    Action::StartCureap,
    Action::SubmitCureap,
    Action::Award,
    Action::Decline,
    Action::StartTitleYear,
    Action::CompleteTitleYear,
];

/// A condition a transition needs besides role, state and phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Title and motivation are filled in.
    Complete,
    /// At least one mentor is assigned.
    MentorAssigned,
    /// The edition's award policy (cap, one title per country, extras) still allows a title.
    AwardPolicy,
    /// The plan has every section, a budget, an action and an indicator; it is then frozen.
    PlanComplete,
}

/// One row of the table.
#[derive(Debug)]
pub struct Transition {
    pub action: Action,
    pub from: &'static [S],
    pub to: S,
    pub roles: &'static [Role],
    pub phase: Option<PhaseKind>,
    pub checks: &'static [Check],
}

/// States from which a municipality can still withdraw: everything before the jury's decision.
pub const BEFORE_DECISION: &[S] = &[
    S::Draft,
    S::Submitted,
    S::Eligible,
    S::Shortlisted,
    S::CureapInDevelopment,
    S::CureapSubmitted,
];

/// The lifecycle (DOMAIN.md, "Application lifecycle").
pub const TRANSITIONS: &[Transition] = &[
    Transition {
        action: Action::Submit,
        from: &[S::Draft],
        to: S::Submitted,
        roles: &[Role::Municipality, Role::Coordinator],
        phase: Some(PhaseKind::Call),
        checks: &[Check::Complete],
    },
    Transition {
        action: Action::Withdraw,
        from: BEFORE_DECISION,
        to: S::Withdrawn,
        roles: &[Role::Municipality, Role::Coordinator],
        phase: None,
        checks: &[],
    },
    Transition {
        action: Action::ConfirmEligibility,
        from: &[S::Submitted],
        to: S::Eligible,
        roles: &[Role::Coordinator],
        phase: Some(PhaseKind::Preselection),
        checks: &[],
    },
    Transition {
        action: Action::RejectEligibility,
        from: &[S::Submitted],
        to: S::Ineligible,
        roles: &[Role::Coordinator],
        phase: Some(PhaseKind::Preselection),
        checks: &[],
    },
    Transition {
        action: Action::Shortlist,
        from: &[S::Eligible],
        to: S::Shortlisted,
        roles: &[Role::Coordinator],
        phase: Some(PhaseKind::Preselection),
        checks: &[],
    },
    Transition {
        action: Action::RejectShortlist,
        from: &[S::Eligible],
        to: S::NotShortlisted,
        roles: &[Role::Coordinator],
        phase: Some(PhaseKind::Preselection),
        checks: &[],
    },
    Transition {
        action: Action::StartCureap,
        from: &[S::Shortlisted],
        to: S::CureapInDevelopment,
        roles: &[Role::Coordinator],
        phase: Some(PhaseKind::CureapDevelopment),
        checks: &[Check::MentorAssigned],
    },
    Transition {
        action: Action::SubmitCureap,
        from: &[S::CureapInDevelopment],
        to: S::CureapSubmitted,
        roles: &[Role::Municipality, Role::Coordinator],
        phase: Some(PhaseKind::CureapDevelopment),
        checks: &[Check::PlanComplete],
    },
    Transition {
        action: Action::Award,
        from: &[S::CureapSubmitted],
        to: S::Awarded,
        roles: &[Role::Coordinator],
        phase: Some(PhaseKind::Award),
        checks: &[Check::AwardPolicy],
    },
    Transition {
        action: Action::Decline,
        from: &[S::CureapSubmitted],
        to: S::NotAwarded,
        roles: &[Role::Coordinator],
        phase: Some(PhaseKind::Award),
        checks: &[],
    },
    Transition {
        action: Action::StartTitleYear,
        from: &[S::Awarded],
        to: S::TitleYearActive,
        roles: &[Role::Coordinator],
        phase: Some(PhaseKind::TitleYear),
        checks: &[],
    },
    Transition {
        action: Action::CompleteTitleYear,
        from: &[S::TitleYearActive],
        to: S::TitleYearCompleted,
        roles: &[Role::Coordinator],
        phase: None,
        checks: &[],
    },
];

impl Action {
    /// Name used in audit entries (`application.<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Withdraw => "withdraw",
            Action::ConfirmEligibility => "confirmEligibility",
            Action::RejectEligibility => "rejectEligibility",
            Action::Shortlist => "shortlist",
            Action::RejectShortlist => "rejectShortlist",
            Action::StartCureap => "startCureap",
            Action::SubmitCureap => "submitCureap",
            Action::Award => "award",
            Action::Decline => "decline",
            Action::StartTitleYear => "startTitleYear",
            Action::CompleteTitleYear => "completeTitleYear",
        }
    }
}

/// The actions a role may take from a state (phase and checks are verified when acting).
pub fn allowed(role: Role, from: S) -> Vec<Action> {
    TRANSITIONS
        .iter()
        .filter(|t| t.roles.contains(&role) && t.from.contains(&from))
        .map(|t| t.action)
        .collect()
}

/// The row for an action.
pub fn transition(action: Action) -> &'static Transition {
    TRANSITIONS
        .iter()
        .find(|t| t.action == action)
        .expect("every action has a row in TRANSITIONS")
}

/// The states an application can be in once it has been in `state`, short of withdrawing: `state`
/// and everything the table's other transitions lead on to (the KPI funnel's "reached").
pub fn reached_or_past(state: S) -> Vec<S> {
    let mut reached = vec![state];
    let mut i = 0;
    while i < reached.len() {
        let from = reached[i];
        for t in TRANSITIONS {
            if t.action != Action::Withdraw && t.from.contains(&from) && !reached.contains(&t.to) {
                reached.push(t.to);
            }
        }
        i += 1;
    }
    reached
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_exactly_one_row() {
        for action in ALL_ACTIONS {
            assert_eq!(
                TRANSITIONS.iter().filter(|t| t.action == action).count(),
                1,
                "{action:?}"
            );
        }
    }

    #[test]
    fn no_transition_leaves_a_final_state() {
        for t in TRANSITIONS {
            for from in t.from {
                assert!(!matches!(
                    from,
                    S::Withdrawn
                        | S::NotAwarded
                        | S::TitleYearCompleted
                        | S::Ineligible
                        | S::NotShortlisted
                ));
            }
        }
    }
}
