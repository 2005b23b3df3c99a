//! The vocabulary, the municipalities and the people: coordinators, partner staff and mentors in
//! the consortium, a contact per municipality and network members.

use chrono::Duration;
use entity::{OrganisationKind, Role, TermKind, organisation, user};
use sea_orm::ActiveValue::Set;
use uuid::Uuid;

use super::{Bulk, COUNTRIES, Gen, Programme};
use crate::error::AppResult;
use crate::seed::{Seeder, TERMS};

/// A user to create, as drawn.
struct Login {
    id: Uuid,
    email: String,
    name: String,
    role: Role,
    organisation: Uuid,
    country: Option<&'static str>,
}

impl Programme {
    /// The vocabulary of [`TERMS`], a row at a time (there are few).
    pub(super) async fn vocabulary(&mut self, s: &mut Seeder<'_>, g: &mut Gen) -> AppResult<()> {
        for (kind, name) in TERMS {
            let id = g.id();
            s.term(id, *kind, name).await?;
            match kind {
                TermKind::Theme => {
                    self.themes.push(id);
                    self.theme_names.insert(id, *name);
                }
                TermKind::Method => self.methods.push(id),
                TermKind::CulturalTool => self.tools.push(id),
            }
        }
        Ok(())
    }

    /// 30 N municipalities; the first is Demoville, the municipality login's.
    pub(super) async fn municipalities(
        &mut self,
        s: &mut Seeder<'_>,
        g: &mut Gen,
    ) -> AppResult<()> {
        let created = s.now - Duration::days(900);
        let rows = (0..(30 * self.n)).map(|i| {
            let id = g.id();
            let cc = *g.pick(&COUNTRIES);
            self.municipalities.push((id, cc));
            let name = if i == 0 {
                "Demoville (fictional demo municipality)".to_owned()
            } else {
                g.town(i)
            };
            organisation::ActiveModel {
                id: Set(id),
                kind: Set(OrganisationKind::Municipality),
                name: Set(name),
                country_code: Set(cc.into()),
                region: Set(None),
                population: Set(Some(g.between(2_000, 400_000))),
                is_capital: Set(false),
                created_at: Set(created),
                updated_at: Set(created),
                version: Set(1),
            }
        });
        Bulk::insert_all("municipalities", s, rows).await
    }

    /// The users, all with the demo password: two coordinators of the lead partner, 2 N + 10
    /// partner staff, 2 N + 5 mentors, a contact per municipality and 10 N network members. The
    /// first partner, mentor and contact are the demo logins (`partner@pearls.example` …).
    pub(super) async fn people(&mut self, s: &mut Seeder<'_>, g: &mut Gen) -> AppResult<()> {
        let mut logins = Vec::new();
        for (email, name) in [
            ("coordinator@pearls.example", "Demo Coordinator"),
            ("coordinator2@scale.pearls.example", "Second Coordinator"),
        ] {
            logins.push(Login {
                id: g.id(),
                email: email.to_owned(),
                name: name.into(),
                role: Role::Coordinator,
                organisation: self.lead_partner(),
                country: None,
            });
        }
        // The consortium without its lead partner; the demo partner works for the eighth member.
        let (partner_orgs, demo_partner) = (&self.consortium[1..], self.consortium[7]);
        let municipalities = &self.municipalities;
        self.partners = draw(
            g,
            &mut logins,
            (Role::Partner, 2 * self.n + 10, "Partner"),
            |i| address(i, Some("partner"), "partner"),
            |g, i| {
                let org = if i == 0 {
                    demo_partner
                } else {
                    *g.pick(partner_orgs)
                };
                (org, None)
            },
        );
        self.mentors = draw(
            g,
            &mut logins,
            (Role::Mentor, 2 * self.n + 5, "Mentor"),
            |i| address(i, Some("mentor"), "mentor"),
            |g, _| {
                let cc = *g.pick(&COUNTRIES);
                (*g.pick(partner_orgs), Some(cc))
            },
        );
        self.contacts = draw(
            g,
            &mut logins,
            (Role::Municipality, municipalities.len(), "Contact"),
            |i| address(i, Some("municipality"), "town"),
            |_, i| (municipalities[i].0, Some(municipalities[i].1)),
        );
        draw(
            g,
            &mut logins,
            (Role::Municipality, 10 * self.n, "Network member"),
            |i| address(i, None, "member"),
            |g, _| {
                let (m, cc) = *g.pick(municipalities);
                (m, Some(cc))
            },
        );
        self.insert_logins(s, logins).await
    }

    /// Inserts the users in the order drawn and counts them all among the people.
    async fn insert_logins(&mut self, s: &mut Seeder<'_>, logins: Vec<Login>) -> AppResult<()> {
        let created = s.now - Duration::days(800);
        let rows = logins.into_iter().map(|login| {
            self.people.push((login.id, Some(login.organisation)));
            user::ActiveModel {
                id: Set(login.id),
                email: Set(login.email),
                name: Set(login.name),
                role: Set(login.role),
                organisation_id: Set(Some(login.organisation)),
                country_code: Set(login.country.map(Into::into)),
                active: Set(true),
                password_hash: Set(self.hash.clone()),
                created_at: Set(created),
                updated_at: Set(created),
                version: Set(1),
            }
        });
        Bulk::insert_all("users", s, rows).await
    }
}

/// Draws `count` users with one role, named "{name} {i}": for each its id, then its
/// organisation and country from `place`. Returns their ids.
fn draw(
    g: &mut Gen,
    logins: &mut Vec<Login>,
    (role, count, name): (Role, usize, &str),
    email: impl Fn(usize) -> String,
    mut place: impl FnMut(&mut Gen, usize) -> (Uuid, Option<&'static str>),
) -> Vec<Uuid> {
    (0..count)
        .map(|i| {
            let id = g.id();
            let (organisation, country) = place(g, i);
            logins.push(Login {
                id,
                email: email(i),
                name: format!("{name} {i}"),
                role,
                organisation,
                country,
            });
            id
        })
        .collect()
}

/// The `i`-th user's address: the demo login's (`partner@pearls.example`) for the first where
/// there is one, else `partner{i}@scale.pearls.example`.
fn address(i: usize, demo: Option<&str>, prefix: &str) -> String {
    match demo {
        Some(demo) if i == 0 => format!("{demo}@pearls.example"),
        _ => format!("{prefix}{i}@scale.pearls.example"),
    }
}
