//! How the planned object types map to SQL: for each type, its table, the scalar fields it can
//! read straight from columns, and the relations it can follow — each relation with the row
//! scope of `policy/scope.rs` its DataLoader applies, so a planned page sees exactly what the
//! loaders would. A field that is not here (or needs a rule this table does not state) is not
//! planned: the whole page then goes through the resolvers and loaders.

use sea_orm::sea_query::SelectStatement;
use sea_orm::{EntityTrait, QueryTrait};

use crate::policy::{Actor, scope};

/// How a scalar is stored, and how it is written in the response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Text, as is.
    Text,
    /// An integer.
    Int,
    /// A boolean (SQLite stores 0/1).
    Bool,
    /// An enum value, stored by its GraphQL name.
    Enum,
    /// An instant: RFC 3339 in UTC with `Z` (the `DateTime` scalar).
    Instant,
    /// A calendar day (the `Date` scalar).
    Day,
    /// EUR cents, written as a `Decimal` string.
    Cents,
    /// The row's UUID, written as the global id of the type.
    GlobalId(&'static str),
}

/// Where a scalar's value comes from.
#[derive(Clone, Copy, Debug)]
pub enum Source {
    /// A column of the type's table.
    Column(&'static str),
    /// A boolean: this integer column is above zero.
    Positive(&'static str),
}

/// Who may read a field (beyond the row being visible).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readers {
    /// Whoever sees the row.
    All,
    /// Signed-in users only; anyone else gets an error from the resolver, so such a request is
    /// not planned.
    SignedIn,
}

/// A scalar field.
pub struct ScalarField {
    pub name: &'static str,
    pub source: Source,
    pub kind: Kind,
    pub readers: Readers,
}

/// The scope of a relation's rows: the `Select` of `policy/scope.rs` as a statement.
pub type ScopeFn = fn(&Actor) -> SelectStatement;

/// A related object or list: rows of `shape`'s table where `child_column` equals the parent's
/// `parent_column`, within `scope`, in `order` (`latest`: the last row of that order only).
///
/// The rows of an application's file (plan, mentor assignments, status history) take the
/// `…_of_readable_application` scopes of `policy/scope.rs`: the planner reaches them only from
/// an application row, and every application row it reads is within `scope::applications`
/// (the `applications` connection starts from it, and every relation to an application
/// applies it; a test below holds the second).
pub struct Relation {
    pub name: &'static str,
    pub shape: &'static Shape,
    pub child_column: &'static str,
    pub parent_column: &'static str,
    pub scope: ScopeFn,
    pub cardinality: Cardinality,
}

/// One or many.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cardinality {
    /// An object made of the parent row's own columns (`Edition.awardPolicy`): the same row,
    /// so no scope and no sub-query; `shape.table` is the parent's.
    Embedded,
    /// At most one row (null when none is visible).
    One,
    /// The last row of an order (`latestStatusChange`).
    Latest(&'static [&'static str]),
    /// Every visible row, in an order (columns, ascending; `name` sorts bytewise).
    Many(&'static [&'static str]),
    /// Every visible row reached through a link table (`link`, its column towards the parent,
    /// its column towards the child), in an order.
    Linked {
        link: &'static str,
        to_parent: &'static str,
        to_child: &'static str,
        order: &'static [&'static str],
    },
}

/// A planned object type.
pub struct Shape {
    pub type_name: &'static str,
    pub table: &'static str,
    pub scalars: &'static [ScalarField],
    pub relations: &'static [Relation],
}

impl Shape {
    pub fn scalar(&self, name: &str) -> Option<&ScalarField> {
        self.scalars.iter().find(|f| f.name == name)
    }

    pub fn relation(&self, name: &str) -> Option<&Relation> {
        self.relations.iter().find(|r| r.name == name)
    }
}

const fn col(name: &'static str, column: &'static str, kind: Kind) -> ScalarField {
    ScalarField {
        name,
        source: Source::Column(column),
        kind,
        readers: Readers::All,
    }
}

fn q<E: EntityTrait>(select: sea_orm::Select<E>) -> SelectStatement {
    select.into_query()
}

pub static ORGANISATION: Shape = Shape {
    type_name: "Organisation",
    table: "organisation",
    scalars: &[
        col("id", "id", Kind::GlobalId("Organisation")),
        col("kind", "kind", Kind::Enum),
        col("name", "name", Kind::Text),
        col("countryCode", "country_code", Kind::Text),
        col("region", "region", Kind::Text),
        col("population", "population", Kind::Int),
        col("isCapital", "is_capital", Kind::Bool),
        col("createdAt", "created_at", Kind::Instant),
        col("updatedAt", "updated_at", Kind::Instant),
        col("version", "version", Kind::Int),
    ],
    relations: &[Relation {
        name: "members",
        shape: &USER,
        child_column: "organisation_id",
        parent_column: "id",
        scope: |a| q(scope::users(a)),
        cardinality: Cardinality::Many(&["name", "id"]),
    }],
};

pub static USER: Shape = Shape {
    type_name: "User",
    table: "app_user",
    scalars: &[
        col("id", "id", Kind::GlobalId("User")),
        col("email", "email", Kind::Text),
        col("name", "name", Kind::Text),
        col("role", "role", Kind::Enum),
        col("countryCode", "country_code", Kind::Text),
        col("active", "active", Kind::Bool),
        col("createdAt", "created_at", Kind::Instant),
        col("version", "version", Kind::Int),
    ],
    relations: &[Relation {
        name: "organisation",
        shape: &ORGANISATION,
        child_column: "id",
        parent_column: "organisation_id",
        scope: |a| q(scope::organisations(a)),
        cardinality: Cardinality::One,
    }],
};

pub static STATUS_CHANGE: Shape = Shape {
    type_name: "StatusChange",
    table: "application_status_change",
    scalars: &[
        col("id", "id", Kind::GlobalId("StatusChange")),
        col("fromStatus", "from_status", Kind::Enum),
        col("toStatus", "to_status", Kind::Enum),
        col("note", "note", Kind::Text),
        col("changedAt", "changed_at", Kind::Instant),
        col("effectiveAt", "effective_at", Kind::Instant),
    ],
    relations: &[Relation {
        name: "actor",
        shape: &USER,
        child_column: "id",
        parent_column: "actor_id",
        scope: |a| q(scope::users(a)),
        cardinality: Cardinality::One,
    }],
};

pub static MENTOR_ASSIGNMENT: Shape = Shape {
    type_name: "MentorAssignment",
    table: "mentor_assignment",
    scalars: &[
        col("id", "id", Kind::GlobalId("MentorAssignment")),
        col("kind", "kind", Kind::Enum),
        col("startsOn", "starts_on", Kind::Day),
        col("endsOn", "ends_on", Kind::Day),
        col("createdAt", "created_at", Kind::Instant),
    ],
    relations: &[Relation {
        name: "mentor",
        shape: &USER,
        child_column: "id",
        parent_column: "mentor_id",
        scope: |a| q(scope::mentors_of_readable_assignment(a)),
        cardinality: Cardinality::One,
    }],
};

pub static PLAN: Shape = Shape {
    type_name: "Plan",
    table: "plan",
    scalars: &[
        col("id", "id", Kind::GlobalId("Plan")),
        col("vision", "vision", Kind::Text),
        col("context", "context", Kind::Text),
        col("objectives", "objectives", Kind::Text),
        col("stakeholders", "stakeholders", Kind::Text),
        col("budget", "budget_cents", Kind::Cents),
        col("timeline", "timeline", Kind::Text),
        col("submittedVersion", "submitted_version", Kind::Int),
        ScalarField {
            name: "isFrozen",
            source: Source::Positive("submitted_version"),
            kind: Kind::Bool,
            readers: Readers::All,
        },
        col("updatedAt", "updated_at", Kind::Instant),
        col("version", "version", Kind::Int),
    ],
    relations: &[],
};

pub static AWARD_POLICY: Shape = Shape {
    type_name: "AwardPolicy",
    table: "edition",
    scalars: &[
        col("awardCap", "award_cap", Kind::Int),
        col("onePerCountry", "one_per_country", Kind::Bool),
        col("extraAwards", "extra_awards", Kind::Int),
    ],
    relations: &[],
};

pub static EDITION: Shape = Shape {
    type_name: "Edition",
    table: "edition",
    scalars: &[
        col("id", "id", Kind::GlobalId("Edition")),
        col("titleYear", "title_year", Kind::Int),
        col("name", "name", Kind::Text),
        col("createdAt", "created_at", Kind::Instant),
        col("version", "version", Kind::Int),
    ],
    relations: &[Relation {
        name: "awardPolicy",
        shape: &AWARD_POLICY,
        child_column: "id",
        parent_column: "id",
        scope: |a| q(scope::editions(a)),
        cardinality: Cardinality::Embedded,
    }],
};

pub static APPLICATION: Shape = Shape {
    type_name: "Application",
    table: "application",
    scalars: &[
        col("id", "id", Kind::GlobalId("Application")),
        col("title", "title", Kind::Text),
        col("status", "status", Kind::Enum),
        col("submittedAt", "submitted_at", Kind::Instant),
        col("createdAt", "created_at", Kind::Instant),
        col("updatedAt", "updated_at", Kind::Instant),
        col("version", "version", Kind::Int),
        ScalarField {
            name: "motivation",
            source: Source::Column("motivation"),
            kind: Kind::Text,
            readers: Readers::SignedIn,
        },
    ],
    relations: &[
        Relation {
            name: "edition",
            shape: &EDITION,
            child_column: "id",
            parent_column: "edition_id",
            scope: |a| q(scope::editions(a)),
            cardinality: Cardinality::One,
        },
        Relation {
            name: "leadMunicipality",
            shape: &ORGANISATION,
            child_column: "id",
            parent_column: "lead_municipality_id",
            scope: |a| q(scope::organisations(a)),
            cardinality: Cardinality::One,
        },
        Relation {
            name: "coApplicants",
            shape: &ORGANISATION,
            child_column: "id",
            parent_column: "id",
            scope: |a| q(scope::organisations(a)),
            cardinality: Cardinality::Linked {
                link: "application_co_applicant",
                to_parent: "application_id",
                to_child: "organisation_id",
                order: &["name"],
            },
        },
        Relation {
            name: "mentorAssignments",
            shape: &MENTOR_ASSIGNMENT,
            child_column: "application_id",
            parent_column: "id",
            scope: |a| q(scope::mentor_assignments_of_readable_application(a)),
            cardinality: Cardinality::Many(&["created_at", "id"]),
        },
        Relation {
            name: "plan",
            shape: &PLAN,
            child_column: "application_id",
            parent_column: "id",
            scope: |a| q(scope::plans_of_readable_application(a)),
            cardinality: Cardinality::One,
        },
        Relation {
            name: "statusHistory",
            shape: &STATUS_CHANGE,
            child_column: "application_id",
            parent_column: "id",
            scope: |a| q(scope::status_changes_of_readable_application(a)),
            cardinality: Cardinality::Many(&["changed_at", "id"]),
        },
        Relation {
            name: "latestStatusChange",
            shape: &STATUS_CHANGE,
            child_column: "application_id",
            parent_column: "id",
            scope: |a| q(scope::status_changes_of_readable_application(a)),
            cardinality: Cardinality::Latest(&["changed_at", "id"]),
        },
    ],
};

pub static EVENT: Shape = Shape {
    type_name: "Event",
    table: "event",
    scalars: &[
        col("id", "id", Kind::GlobalId("Event")),
        col("kind", "kind", Kind::Enum),
        col("title", "title", Kind::Text),
        col("description", "description", Kind::Text),
        col("programme", "programme", Kind::Text),
        col("startsAt", "starts_at", Kind::Instant),
        col("endsAt", "ends_at", Kind::Instant),
        col("timeZone", "time_zone", Kind::Text),
        col("place", "place", Kind::Text),
        col("onlineUrl", "online_url", Kind::Text),
        col("isPublic", "is_public", Kind::Bool),
        col("capacity", "capacity", Kind::Int),
        col(
            "registrationDeadline",
            "registration_deadline",
            Kind::Instant,
        ),
        col("cancelledAt", "cancelled_at", Kind::Instant),
        col("version", "version", Kind::Int),
    ],
    relations: &[Relation {
        name: "organiser",
        shape: &ORGANISATION,
        child_column: "id",
        parent_column: "organiser_id",
        scope: |a| q(scope::organisations(a)),
        cardinality: Cardinality::One,
    }],
};

pub static ASSESSMENT: Shape = Shape {
    type_name: "Assessment",
    table: "assessment",
    scalars: &[
        col("id", "id", Kind::GlobalId("Assessment")),
        col("stage", "stage", Kind::Enum),
        col("conflictOfInterest", "conflict_of_interest", Kind::Bool),
        col("comment", "comment", Kind::Text),
        col("submittedAt", "submitted_at", Kind::Instant),
        col("updatedAt", "updated_at", Kind::Instant),
        col("version", "version", Kind::Int),
    ],
    relations: &[
        Relation {
            name: "application",
            shape: &APPLICATION,
            child_column: "id",
            parent_column: "application_id",
            scope: |a| q(scope::applications(a)),
            cardinality: Cardinality::One,
        },
        Relation {
            name: "assessor",
            shape: &USER,
            child_column: "id",
            parent_column: "assessor_id",
            scope: |a| q(scope::users(a)),
            cardinality: Cardinality::One,
        },
    ],
};

pub static PRACTICE: Shape = Shape {
    type_name: "GoodPractice",
    table: "good_practice",
    scalars: &[
        col("id", "id", Kind::GlobalId("GoodPractice")),
        col("title", "title", Kind::Text),
        col("summary", "summary", Kind::Text),
        col("body", "body", Kind::Text),
        col("countryCode", "country_code", Kind::Text),
        col("sourceText", "source_text", Kind::Text),
        col("outcomes", "outcomes", Kind::Text),
        col("link", "link", Kind::Text),
        col("licence", "licence", Kind::Text),
        col("language", "language", Kind::Text),
        col("status", "status", Kind::Enum),
        col("publishedAt", "published_at", Kind::Instant),
        col("createdAt", "created_at", Kind::Instant),
        col("updatedAt", "updated_at", Kind::Instant),
        col("version", "version", Kind::Int),
    ],
    relations: &[
        Relation {
            name: "sourceOrganisation",
            shape: &ORGANISATION,
            child_column: "id",
            parent_column: "source_organisation_id",
            scope: |a| q(scope::organisations(a)),
            cardinality: Cardinality::One,
        },
        Relation {
            name: "author",
            shape: &USER,
            child_column: "id",
            parent_column: "author_id",
            scope: |a| q(scope::users(a)),
            cardinality: Cardinality::One,
        },
    ],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Principal;
    use entity::Role;

    fn actors() -> Vec<Actor> {
        let mut out = vec![Actor::Anonymous];
        for role in [
            Role::Coordinator,
            Role::Partner,
            Role::Mentor,
            Role::Municipality,
            Role::Juror,
        ] {
            out.push(Actor::User(Principal {
                user_id: uuid::Uuid::now_v7(),
                role,
                organisation_id: Some(uuid::Uuid::now_v7()),
            }));
        }
        out
    }

    /// `r` (a relation of `shape`) reads its rows through `expected`, for every kind of reader.
    fn assert_scope_is(shape: &Shape, r: &Relation, expected: fn(&Actor) -> SelectStatement) {
        let b = sea_orm::DbBackend::Postgres;
        for actor in actors() {
            assert_eq!(
                b.build(&(r.scope)(&actor)).sql,
                b.build(&expected(&actor)).sql,
                "{}.{}",
                shape.type_name,
                r.name
            );
        }
    }

    /// Every shape the planner writes.
    fn shapes() -> [&'static Shape; 11] {
        [
            &ORGANISATION,
            &USER,
            &STATUS_CHANGE,
            &MENTOR_ASSIGNMENT,
            &PLAN,
            &APPLICATION,
            &EVENT,
            &ASSESSMENT,
            &PRACTICE,
            &EDITION,
            &AWARD_POLICY,
        ]
    }

    /// What the application file's scopes rely on: every relation that reaches an application
    /// reads it within `scope::applications`, for every kind of reader.
    #[test]
    fn every_relation_to_an_application_is_within_its_scope() {
        let shapes = shapes();
        let mut seen = 0;
        for shape in shapes {
            for r in shape
                .relations
                .iter()
                .filter(|r| r.shape.table == "application")
            {
                for actor in actors() {
                    let b = sea_orm::DbBackend::Postgres;
                    let (got, want) = (
                        b.build(&(r.scope)(&actor)),
                        b.build(&q(scope::applications(&actor))),
                    );
                    let what = format!("{}.{}", shape.type_name, r.name);
                    assert_eq!(got.sql, want.sql, "{what}");
                    assert_eq!(got.values, want.values, "{what}");
                }
                seen += 1;
            }
        }
        assert!(seen > 0);

        // And the other way round: the application file's own-rule scopes are used only for
        // rows reached from an application; reached from anything else, those rows take their
        // whole scope (`scope::status_changes` etc.).
        type Full = fn(&Actor) -> SelectStatement;
        let files: [(&str, Full, Full); 3] = [
            (
                "application_status_change",
                |a| q(scope::status_changes(a)),
                |a| q(scope::status_changes_of_readable_application(a)),
            ),
            (
                "mentor_assignment",
                |a| q(scope::mentor_assignments(a)),
                |a| q(scope::mentor_assignments_of_readable_application(a)),
            ),
            (
                "plan",
                |a| q(scope::plans(a)),
                |a| q(scope::plans_of_readable_application(a)),
            ),
        ];
        let mut own = 0;
        for shape in shapes {
            for r in shape.relations {
                let Some((_, full, of_readable)) =
                    files.iter().find(|(table, ..)| *table == r.shape.table)
                else {
                    continue;
                };
                let expected = if shape.table == "application" {
                    own += 1;
                    of_readable
                } else {
                    full
                };
                assert_scope_is(shape, r, *expected);
            }
        }
        assert_eq!(
            own, 4,
            "plan, mentorAssignments, statusHistory, latestStatusChange"
        );
    }

    /// Users reached as an assignment's mentor take `scope::mentors_of_readable_assignment`;
    /// users reached from anything else take `scope::users`.
    #[test]
    fn mentors_take_the_assignment_rule() {
        let mut mentors = 0;
        for shape in shapes() {
            for r in shape
                .relations
                .iter()
                .filter(|r| r.shape.table == "app_user")
            {
                let expected: fn(&Actor) -> SelectStatement = if shape.table == "mentor_assignment"
                {
                    mentors += 1;
                    |a| q(scope::mentors_of_readable_assignment(a))
                } else {
                    |a| q(scope::users(a))
                };
                assert_scope_is(shape, r, expected);
            }
        }
        assert_eq!(mentors, 1, "MentorAssignment.mentor");
    }
}
