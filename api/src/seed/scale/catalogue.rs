//! The catalogue of good practices, with their vocabulary terms.

use entity::{PracticeStatus, good_practice, practice_term};
use sea_orm::ActiveValue::Set;
use uuid::Uuid;

use super::{COUNTRIES, Gen, Programme, ymd};
use crate::error::AppResult;
use crate::seed::Seeder;

buffers! {
    /// The practices' rows; parents first.
    struct PracticeRows {
        practices: good_practice = "practices",
        terms: practice_term = "practice terms",
    }
}

impl Programme {
    /// 10 N + 20 practices, 17 in 20 of them published (only those can be cited), one in seven
    /// in German.
    pub(super) async fn catalogue(&mut self, s: &mut Seeder<'_>, g: &mut Gen) -> AppResult<()> {
        let mut rows = PracticeRows::new();
        for i in 0..(10 * self.n + 20) {
            let id = g.id();
            let title = g.title();
            let summary = g.words(18);
            let body = g.words(90);
            let status = match g.below(20) {
                0 => PracticeStatus::InReview,
                1 | 2 => PracticeStatus::Draft,
                _ => PracticeStatus::Published,
            };
            let created = g.during(ymd(2023, 1, 1), self.now);
            if status == PracticeStatus::Published {
                self.practices.push((id, title.clone()));
            }
            rows.practices.push(good_practice::ActiveModel {
                id: Set(id),
                search_title: Set(crate::search::normalise(&title)),
                search_summary: Set(crate::search::normalise(&summary)),
                search_body: Set(crate::search::normalise(&body)),
                title: Set(title),
                summary: Set(summary),
                body: Set(body),
                country_code: Set(Some((*g.pick(&COUNTRIES)).into())),
                source_organisation_id: Set(Some(
                    self.municipalities[g.below(self.municipalities.len())].0,
                )),
                source_text: Set(None),
                outcomes: Set(g.words(12)),
                link: Set(None),
                licence: Set("CC BY 4.0".into()),
                language: Set(if i % 7 == 0 { "de" } else { "en" }.into()),
                status: Set(status),
                author_id: Set(Some(*g.pick(&self.partners))),
                review_comment: Set(None),
                published_at: Set((status == PracticeStatus::Published).then_some(created)),
                created_at: Set(created),
                updated_at: Set(created),
                version: Set(1),
            });
            for t in self.draw_terms(g) {
                rows.terms.push(practice_term::ActiveModel {
                    practice_id: Set(id),
                    term_id: Set(t),
                });
            }
            rows.flush_if_full(s.txn).await?;
        }
        rows.finish(s.txn, &mut s.report).await
    }

    /// A practice's terms: a theme, a method, a cultural tool, and half the time another theme.
    fn draw_terms(&self, g: &mut Gen) -> Vec<Uuid> {
        let mut terms = vec![
            *g.pick(&self.themes),
            *g.pick(&self.methods),
            *g.pick(&self.tools),
        ];
        if g.chance(0.5) {
            let t = *g.pick(&self.themes);
            if !terms.contains(&t) {
                terms.push(t);
            }
        }
        terms
    }
}
