//! Knowledge and community: managed vocabularies (themes, methods, cultural tools), the
//! good-practice catalogue with full-text search, plan actions' themes and cited practices,
//! events with participation, personal calendar feeds, and peer-learning groups.
//!
//! Search: the service stores each practice's text normalised in Rust (diacritics folded, lower
//! case, English stems) in `search_*` columns, so that both databases index the same tokens and
//! answer the same query alike. PostgreSQL indexes them with a GIN index over `to_tsvector(
//! 'simple', …)`; SQLite with an FTS5 table kept in step by triggers (joined on the id).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::index::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(
    from: &'static str,
    col: &'static str,
    to: &'static str,
    to_col: &'static str,
    cascade: bool,
) -> ForeignKeyCreateStatement {
    let mut f = ForeignKey::create()
        .name(format!("fk_{from}_{col}"))
        .from(from, col)
        .to(to, to_col)
        .to_owned();
    if cascade {
        f.on_delete(ForeignKeyAction::Cascade);
    }
    f
}

fn link(table: &'static str, a: &'static str, b: &'static str) -> TableCreateStatement {
    Table::create()
        .table(table)
        .col(uuid(a))
        .col(uuid(b))
        .to_owned()
}

// The FTS rows carry the practice's id (not its `rowid`, which VACUUM may renumber on a table
// without an INTEGER PRIMARY KEY). Updating or deleting by an UNINDEXED column scans the FTS
// table; practices change rarely, searches often.
const SQLITE_FTS: [&str; 4] = [
    "CREATE VIRTUAL TABLE practice_fts USING fts5(practice_id UNINDEXED, title, summary, body, \
     tokenize = 'unicode61 remove_diacritics 0')",
    "CREATE TRIGGER practice_fts_ai AFTER INSERT ON good_practice BEGIN
       INSERT INTO practice_fts(practice_id, title, summary, body)
       VALUES (new.id, new.search_title, new.search_summary, new.search_body);
     END",
    "CREATE TRIGGER practice_fts_au AFTER UPDATE OF search_title, search_summary, search_body ON good_practice BEGIN
       DELETE FROM practice_fts WHERE practice_id = old.id;
       INSERT INTO practice_fts(practice_id, title, summary, body)
       VALUES (new.id, new.search_title, new.search_summary, new.search_body);
     END",
    "CREATE TRIGGER practice_fts_ad AFTER DELETE ON good_practice BEGIN
       DELETE FROM practice_fts WHERE practice_id = old.id;
     END",
];

const PG_FTS: &str = "CREATE INDEX ix_good_practice_search ON good_practice USING GIN \
    (to_tsvector('simple', search_title || ' ' || search_summary || ' ' || search_body))";

/// Managed vocabularies and the good-practice catalogue with its terms.
async fn vocabulary_and_practices(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("vocabulary_term")
            .col(pk_uuid("id"))
            .col(string_len("kind", 32))
            .col(string_len("name", 100))
            .col(text("description"))
            .col(boolean("retired").default(false))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .col(integer("version").default(1))
            .to_owned(),
    )
    .await?;
    m.create_index(index("vocabulary_term", &["kind", "name"], true))
        .await?;

    m.create_table(
        Table::create()
            .table("good_practice")
            .col(pk_uuid("id"))
            .col(string_len("title", 300))
            .col(text("summary"))
            .col(text("body"))
            .col(string_len_null("country_code", 2))
            .col(uuid_null("source_organisation_id"))
            .col(string_len_null("source_text", 300))
            .col(text("outcomes"))
            .col(string_len_null("link", 2000))
            .col(string_len("licence", 100))
            .col(string_len("language", 8))
            .col(string_len("status", 32))
            .col(uuid_null("author_id"))
            .col(text_null("review_comment"))
            .col(timestamp_with_time_zone_null("published_at"))
            .col(text("search_title"))
            .col(text("search_summary"))
            .col(text("search_body"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .col(integer("version").default(1))
            .foreign_key(&mut fk(
                "good_practice",
                "country_code",
                "country",
                "code",
                false,
            ))
            .foreign_key(&mut fk(
                "good_practice",
                "source_organisation_id",
                "organisation",
                "id",
                false,
            ))
            .foreign_key(&mut fk(
                "good_practice",
                "author_id",
                "app_user",
                "id",
                false,
            ))
            .to_owned(),
    )
    .await?;
    m.create_index(index("good_practice", &["status", "published_at"], false))
        .await?;
    m.create_index(index("good_practice", &["author_id"], false))
        .await?;
    m.create_index(index("good_practice", &["country_code"], false))
        .await?;

    for (table, a, b) in [
        (
            "practice_term",
            ("practice_id", "good_practice"),
            ("term_id", "vocabulary_term"),
        ),
        (
            "plan_action_theme",
            ("action_id", "plan_action"),
            ("term_id", "vocabulary_term"),
        ),
        (
            "plan_action_practice",
            ("action_id", "plan_action"),
            ("practice_id", "good_practice"),
        ),
    ] {
        let mut t = link(table, a.0, b.0);
        t.primary_key(
            Index::create()
                .name(format!("pk_{table}"))
                .col(a.0)
                .col(b.0),
        )
        .foreign_key(&mut fk(table, a.0, a.1, "id", true))
        .foreign_key(&mut fk(table, b.0, b.1, "id", true));
        m.create_table(t).await?;
        m.create_index(index(table, &[b.0], false)).await?;
    }
    Ok(())
}

/// Events, participations and calendar feeds.
async fn events(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("event")
            .col(pk_uuid("id"))
            .col(string_len("kind", 32))
            .col(string_len("title", 300))
            .col(text("description"))
            .col(text("programme"))
            .col(timestamp_with_time_zone("starts_at"))
            .col(timestamp_with_time_zone("ends_at"))
            .col(string_len("time_zone", 64))
            .col(string_len_null("place", 300))
            .col(string_len_null("online_url", 2000))
            .col(uuid("organiser_id"))
            .col(uuid_null("edition_id"))
            .col(boolean("is_public"))
            .col(integer_null("capacity"))
            .col(timestamp_with_time_zone_null("registration_deadline"))
            .col(timestamp_with_time_zone_null("cancelled_at"))
            .col(uuid_null("created_by"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .col(integer("version").default(1))
            .foreign_key(&mut fk(
                "event",
                "organiser_id",
                "organisation",
                "id",
                false,
            ))
            .foreign_key(&mut fk("event", "edition_id", "edition", "id", false))
            .to_owned(),
    )
    .await?;
    m.create_index(index("event", &["starts_at"], false))
        .await?;
    m.create_index(index("event", &["organiser_id"], false))
        .await?;
    m.create_index(index("event", &["is_public", "starts_at"], false))
        .await?;

    m.create_table(
        Table::create()
            .table("participation")
            .col(pk_uuid("id"))
            .col(uuid("event_id"))
            .col(uuid("user_id"))
            .col(uuid_null("organisation_id"))
            .col(string_len("role", 32))
            .col(string_len("status", 32))
            .col(timestamp_with_time_zone("registered_at"))
            .col(uuid_null("registered_by"))
            .col(boolean_null("attended"))
            .col(timestamp_with_time_zone("updated_at"))
            .col(integer("version").default(1))
            .foreign_key(&mut fk("participation", "event_id", "event", "id", true))
            .foreign_key(&mut fk("participation", "user_id", "app_user", "id", true))
            .foreign_key(&mut fk(
                "participation",
                "organisation_id",
                "organisation",
                "id",
                false,
            ))
            .to_owned(),
    )
    .await?;
    m.create_index(index("participation", &["event_id", "user_id"], true))
        .await?;
    m.create_index(index(
        "participation",
        &["event_id", "status", "registered_at"],
        false,
    ))
    .await?;
    m.create_index(index("participation", &["user_id"], false))
        .await?;

    m.create_table(
        Table::create()
            .table("calendar_feed")
            .col(uuid("user_id").primary_key())
            .col(string_len("token_hash", 64))
            .col(timestamp_with_time_zone("created_at"))
            .foreign_key(&mut fk("calendar_feed", "user_id", "app_user", "id", true))
            .to_owned(),
    )
    .await?;
    m.create_index(index("calendar_feed", &["token_hash"], true))
        .await?;
    Ok(())
}

/// Peer-learning groups and their members.
async fn peer_learning(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    m.create_table(
        Table::create()
            .table("peer_learning_group")
            .col(pk_uuid("id"))
            .col(string_len("name", 200))
            .col(text("description"))
            .col(uuid_null("edition_id"))
            .col(uuid_null("facilitator_id"))
            .col(uuid_null("created_by"))
            .col(timestamp_with_time_zone("created_at"))
            .col(timestamp_with_time_zone("updated_at"))
            .col(integer("version").default(1))
            .foreign_key(&mut fk(
                "peer_learning_group",
                "edition_id",
                "edition",
                "id",
                false,
            ))
            .foreign_key(&mut fk(
                "peer_learning_group",
                "facilitator_id",
                "app_user",
                "id",
                false,
            ))
            .to_owned(),
    )
    .await?;
    m.create_index(index("peer_learning_group", &["facilitator_id"], false))
        .await?;
    m.create_table(
        Table::create()
            .table("peer_learning_member")
            .col(uuid("group_id"))
            .col(uuid("organisation_id"))
            .col(string_len("role", 32))
            .primary_key(
                Index::create()
                    .name("pk_peer_learning_member")
                    .col("group_id")
                    .col("organisation_id"),
            )
            .foreign_key(&mut fk(
                "peer_learning_member",
                "group_id",
                "peer_learning_group",
                "id",
                true,
            ))
            .foreign_key(&mut fk(
                "peer_learning_member",
                "organisation_id",
                "organisation",
                "id",
                true,
            ))
            .to_owned(),
    )
    .await?;
    m.create_index(index("peer_learning_member", &["organisation_id"], false))
        .await?;
    Ok(())
}

/// Full-text search over practices: FTS5 tables and triggers on SQLite, a GIN index on PostgreSQL.
async fn full_text_search(m: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = m.get_connection();
    match db.get_database_backend() {
        DbBackend::Sqlite => {
            for sql in SQLITE_FTS {
                db.execute_unprepared(sql).await?;
            }
        }
        _ => {
            db.execute_unprepared(PG_FTS).await?;
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        vocabulary_and_practices(m).await?;
        events(m).await?;
        peer_learning(m).await?;
        full_text_search(m).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() == DbBackend::Sqlite {
            for sql in [
                "DROP TRIGGER IF EXISTS practice_fts_ai",
                "DROP TRIGGER IF EXISTS practice_fts_au",
                "DROP TRIGGER IF EXISTS practice_fts_ad",
                "DROP TABLE IF EXISTS practice_fts",
            ] {
                db.execute_unprepared(sql).await?;
            }
        }
        for t in [
            "peer_learning_member",
            "peer_learning_group",
            "calendar_feed",
            "participation",
            "event",
            "plan_action_practice",
            "plan_action_theme",
            "practice_term",
            "good_practice",
            "vocabulary_term",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
