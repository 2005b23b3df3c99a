//! The application lifecycle as one table: for each action, the states it starts from, the state
//! it leads to, the roles allowed, the phase that must be open and the checks that must pass.
//!
//! The service consults only this table, so a transition's rules live in exactly one row.
//! Later stages (screening, shortlisting, CuReAP, award, title year) are added here as rows.

use entity::{ApplicationStatus as S, PhaseKind, Role};

/// What a caller asks to do with an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Hand in a draft within the call.
    Submit,
    /// Step out of the competition before the decision.
    Withdraw,
}

/// A condition a transition needs besides role, state and phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// A municipality user may act only for the application its organisation leads.
    LeadMunicipality,
    /// Title and motivation are filled in.
    Complete,
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
        checks: &[Check::LeadMunicipality, Check::Complete],
    },
    Transition {
        action: Action::Withdraw,
        from: BEFORE_DECISION,
        to: S::Withdrawn,
        roles: &[Role::Municipality, Role::Coordinator],
        phase: None,
        checks: &[Check::LeadMunicipality],
    },
];

/// The row for an action.
pub fn transition(action: Action) -> &'static Transition {
    TRANSITIONS
        .iter()
        .find(|t| t.action == action)
        .expect("every action has a row in TRANSITIONS")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_exactly_one_row() {
        for action in [Action::Submit, Action::Withdraw] {
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
