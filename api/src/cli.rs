//! The `pearls` command line: serve (default), migrate, seed, schema, user administration.

use std::io::Read;

use clap::{Parser, Subcommand, ValueEnum};
use entity::{organisation, user};
use migration::Migrator;
use migration::sea_orm_migration::MigratorTrait;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::config::Config;
use crate::domain::{Email, NonEmptyText};
use crate::startup::{Application, build_state, prepare_database};
use crate::users::service::{NewUser, create_user_unchecked};

/// The BSR Cultural Pearls portal backend.
#[derive(Parser)]
#[command(name = "pearls", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do (default: serve).
#[derive(Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve the API.
    Serve,
    /// Manage the database schema.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Load data into the database.
    Seed {
        /// Real public facts about the programme plus fictional demo accounts (idempotent).
        #[arg(long, conflicts_with = "scale")]
        demo: bool,
        /// A deterministic synthetic programme for benchmarks, into an empty database: N = 1 is
        /// about the real programme's size, N = 1000 about a million participations.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
        scale: Option<u32>,
        /// The day the synthetic calendar is anchored to (default: today, UTC); the same N and
        /// anchor give the same data.
        #[arg(long, value_name = "YYYY-MM-DD", requires = "scale")]
        anchor: Option<chrono::NaiveDate>,
    },
    /// The programme-wide KPI rollups the services keep (plan action totals, event counts, the
    /// funnel's milestones on applications).
    Rollups {
        #[command(subcommand)]
        action: RollupAction,
    },
    /// Write a consistent copy of the embedded SQLite database to a new file (safe while the
    /// server runs). For PostgreSQL use pg_dump.
    Backup {
        /// The file to write (must not exist).
        #[arg(long, value_name = "FILE")]
        to: std::path::PathBuf,
    },
    /// Check a backup (integrity, migrations), then copy it over the embedded SQLite database.
    Restore {
        /// The backup file.
        #[arg(long, value_name = "FILE")]
        from: std::path::PathBuf,
    },
    /// Print the GraphQL SDL (what `schema.graphql` must contain).
    Schema,
    /// Write an export for the programme's systems.
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
    /// Load history into the portal.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
}

/// Exports.
#[derive(Subcommand)]
pub enum ExportWhat {
    /// The keep.eu exchange document (as `GET /export/keep.json` and `/export/keep.xml`).
    Keep {
        /// JSON or XML.
        #[arg(long, value_enum, default_value = "json", ignore_case = true)]
        format: KeepFormatArg,
        /// The reporting period whose cumulative indicator values it carries (default: the
        /// latest period that has begun).
        #[arg(long, value_name = "N")]
        period: Option<i32>,
        /// The file to write (default: standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
    /// An edition's history in the import format, canonical (it imports back unchanged).
    Edition {
        /// The title year.
        #[arg(value_name = "YEAR")]
        year: i32,
        /// The file to write (default: standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<std::path::PathBuf>,
    },
}

/// Imports.
#[derive(Subcommand)]
pub enum ImportWhat {
    /// An edition's history (format `bsr-cultural-pearls/edition-history`, JSON Schema in
    /// api/schemas/edition-history.schema.json), in one transaction; again, it changes nothing.
    Edition {
        /// The document.
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
        /// The e-mail of the coordinator the audit log names (default: the only active
        /// coordinator, if there is exactly one).
        #[arg(long = "as", value_name = "EMAIL")]
        as_user: Option<String>,
    },
}

/// The keep.eu document's form.
#[derive(Clone, Copy, ValueEnum)]
pub enum KeepFormatArg {
    Json,
    Xml,
}

/// Migration commands.
#[derive(Subcommand)]
pub enum MigrateAction {
    /// Apply all pending migrations.
    Up,
    /// Roll back the most recent migration (or `--steps N`).
    Down {
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List applied and pending migrations.
    Status,
}

/// KPI rollup commands.
#[derive(Subcommand)]
pub enum RollupAction {
    /// Recompute them from the rows (after loading or fixing rows outside the API).
    Rebuild,
    /// List where they differ from the rows; fails if they do.
    Check,
}

/// Role names accepted on the command line.
#[derive(Clone, Copy, ValueEnum)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RoleArg {
    Coordinator,
    Partner,
    Mentor,
    Municipality,
    Juror,
}

impl From<RoleArg> for entity::Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Coordinator => entity::Role::Coordinator,
            RoleArg::Partner => entity::Role::Partner,
            RoleArg::Mentor => entity::Role::Mentor,
            RoleArg::Municipality => entity::Role::Municipality,
            RoleArg::Juror => entity::Role::Juror,
        }
    }
}

/// User commands.
#[derive(Subcommand)]
pub enum UserAction {
    /// Create a user; the password is read from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum, ignore_case = true)]
        role: RoleArg,
        /// Exact name of the user's organisation.
        #[arg(long)]
        organisation: Option<String>,
        /// Full name (default: the part of the e-mail before the @).
        #[arg(long)]
        name: Option<String>,
    },
}

type CliResult = Result<(), Box<dyn std::error::Error>>;

fn app_err(e: crate::error::AppError) -> Box<dyn std::error::Error> {
    e.public_message().into()
}

/// `pearls export keep`: the document to a file or to standard output. A file is written
/// beside its path under a temporary name and renamed over it only once complete and synced:
/// a failed export never leaves a half-written document, nor removes the previous one.
async fn export_keep(
    config: &Config,
    format: KeepFormatArg,
    period: Option<i32>,
    out: Option<std::path::PathBuf>,
) -> CliResult {
    let (db, _) = crate::db::connect(config).await?;
    let format = match format {
        KeepFormatArg::Json => crate::reporting::keep::KeepFormat::Json,
        KeepFormatArg::Xml => crate::reporting::keep::KeepFormat::Xml,
    };
    let today = chrono::Utc::now().date_naive();
    use crate::reporting::export::keep_to;
    match out {
        Some(path) => {
            let name = path
                .file_name()
                .ok_or("--out must name a file")?
                .to_string_lossy();
            // Unique per run and never an existing file (nor a link planted at the name).
            let part = path.with_file_name(format!(".{name}.{}.part", std::process::id()));
            let created = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&part)?;
            let mut file = std::io::BufWriter::new(created);
            let written: CliResult = match keep_to(&db, format, period, today, &mut file).await {
                Ok(()) => file
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .and_then(|f| f.sync_all())
                    .and_then(|()| std::fs::rename(&part, &path))
                    .map_err(Into::into),
                Err(e) => Err(app_err(e)),
            };
            if written.is_err() {
                let _ = std::fs::remove_file(&part);
            }
            written
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            keep_to(&db, format, period, today, &mut stdout)
                .await
                .map_err(app_err)
        }
    }
}

/// `pearls import edition FILE`: the document imported as a coordinator, who the audit log
/// names; prints what happened (or every reason it was refused).
async fn import_edition(
    config: &Config,
    file: &std::path::Path,
    as_user: Option<&str>,
) -> CliResult {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let (db, _) = prepare_database(config).await?;
    let mut coordinators = user::Entity::find()
        .filter(user::Column::Role.eq(entity::Role::Coordinator))
        .filter(user::Column::Active.eq(true));
    if let Some(email) = as_user {
        coordinators = coordinators.filter(user::Column::Email.eq(email.trim().to_lowercase()));
    }
    let found = coordinators.all(&db).await?;
    let coordinator = match found.as_slice() {
        [one] => one,
        [] => return Err("no such active coordinator (name one with --as EMAIL)".into()),
        _ => return Err("several coordinators: name the one importing with --as EMAIL".into()),
    };
    let actor = crate::policy::Actor::User(crate::policy::Principal {
        user_id: coordinator.id,
        role: coordinator.role,
        organisation_id: coordinator.organisation_id,
    });
    let doc = crate::history::EditionHistory::parse(&text).map_err(app_err)?;
    match crate::history::import(&db, &actor, doc).await {
        Ok(r) if r.changed => println!(
            "imported the {} edition: {} applications, {} municipalities registered (sha256 {})",
            r.edition.title_year, r.applications, r.organisations_created, r.sha256
        ),
        Ok(r) => println!(
            "the {} edition already holds this history: nothing changed (sha256 {})",
            r.edition.title_year, r.sha256
        ),
        Err(crate::error::AppError::Refused { message, reasons }) => {
            for reason in &reasons {
                eprintln!("  - {reason}");
            }
            return Err(message.into());
        }
        Err(e) => return Err(app_err(e)),
    }
    Ok(())
}

/// Runs the command line.
pub async fn run(cli: Cli) -> CliResult {
    let config = cli.config;
    let command = cli.command.unwrap_or(Command::Serve);
    let traces = crate::telemetry::init(&config.log_filter, matches!(command, Command::Serve))?;
    match command {
        Command::Serve => {
            let app = Application::build(config.clone()).await?;
            tracing::info!(port = app.port(), bind = %config.bind, env = ?config.environment, traces = traces.enabled(), "serving the API");
            eprintln!(
                "BSR Cultural Pearls API on http://{}:{}/graphql",
                config.bind.ip(),
                app.port()
            );
            let served = app.run_until_stopped().await;
            // What the exporter still buffers is sent before the process ends.
            let _ = tokio::task::spawn_blocking(move || traces.shutdown()).await;
            served?;
        }
        Command::Schema => print!("{}", crate::graphql::schema::sdl()),
        Command::Export {
            what:
                ExportWhat::Keep {
                    format,
                    period,
                    out,
                },
        } => export_keep(&config, format, period, out).await?,
        Command::Export {
            what: ExportWhat::Edition { year, out },
        } => {
            let (db, _) = prepare_database(&config).await?;
            let txn = crate::db::begin_snapshot(&db).await?;
            let doc = crate::history::export(&txn, year).await.map_err(app_err)?;
            txn.commit().await?;
            let text = doc.to_canonical_text();
            match out {
                Some(path) => std::fs::write(path, text)?,
                None => print!("{text}"),
            }
        }
        Command::Import {
            what: ImportWhat::Edition { file, as_user },
        } => import_edition(&config, &file, as_user.as_deref()).await?,
        Command::Backup { to } => {
            let report = crate::backup::backup(&config, &to).await?;
            println!(
                "backup written to {} ({} bytes, {} migrations, integrity ok)",
                to.display(),
                report.bytes,
                report.migrations.len()
            );
        }
        Command::Restore { from } => {
            let report = crate::backup::restore(&config, &from).await?;
            println!(
                "restored {} ({} bytes, integrity ok); migrations to apply at the next start: {}",
                from.display(),
                report.bytes,
                if report.pending.is_empty() {
                    "none".to_owned()
                } else {
                    report.pending.join(", ")
                }
            );
        }
        Command::Migrate { action } => {
            let (db, _) = crate::db::connect(&config).await?;
            match action {
                MigrateAction::Up => Migrator::up(&db, None).await?,
                MigrateAction::Down { steps } => Migrator::down(&db, Some(steps)).await?,
                MigrateAction::Status => {
                    for m in Migrator::get_applied_migrations(&db).await? {
                        println!("applied  {}", m.name());
                    }
                    for m in Migrator::get_pending_migrations(&db).await? {
                        println!("pending  {}", m.name());
                    }
                }
            }
        }
        Command::Rollups { action } => {
            let (db, _) = prepare_database(&config).await?;
            match action {
                RollupAction::Rebuild => {
                    let txn = crate::db::begin_write(&db).await?;
                    crate::kpis::rollup::rebuild(&txn).await.map_err(app_err)?;
                    crate::db::commit(txn).await?;
                    println!("KPI rollups rebuilt");
                }
                RollupAction::Check => {
                    let drift = crate::kpis::rollup::drift(&db).await.map_err(app_err)?;
                    for line in &drift {
                        println!("{line}");
                    }
                    if !drift.is_empty() {
                        return Err(format!(
                            "{} KPI rollup rows differ from the data",
                            drift.len()
                        )
                        .into());
                    }
                    println!("KPI rollups match the data");
                }
            }
        }
        Command::Seed {
            demo,
            scale,
            anchor,
        } => {
            if !demo && scale.is_none() {
                return Err("say what to seed: --demo or --scale N".into());
            }
            if config.is_production() {
                return Err("refusing to load demo or synthetic data in production mode".into());
            }
            let (db, statements) = prepare_database(&config).await?;
            let state = build_state(&config, db, statements)?;
            if let Some(scale) = scale {
                let opts = crate::seed::scale::ScaleOptions {
                    scale,
                    anchor: anchor.unwrap_or_else(|| chrono::Utc::now().date_naive()),
                };
                let report = crate::seed::scale::load(&state.db, &state.passwords, &opts)
                    .await
                    .map_err(app_err)?;
                println!(
                    "synthetic programme loaded (scale {scale}, anchor {}): {} rows inserted",
                    opts.anchor, report.inserted
                );
            } else {
                let report = crate::seed::demo(&state.db, &state.passwords)
                    .await
                    .map_err(app_err)?;
                println!("demo data loaded: {} rows inserted", report.inserted);
            }
        }
        Command::User {
            action:
                UserAction::Create {
                    email,
                    role,
                    organisation,
                    name,
                },
        } => {
            let (db, statements) = prepare_database(&config).await?;
            let state = build_state(&config, db, statements)?;
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\n', '\r']).to_owned();
            let organisation_id = match organisation {
                Some(name) => Some(
                    organisation::Entity::find()
                        .filter(organisation::Column::Name.eq(name.as_str()))
                        .one(&state.db)
                        .await?
                        .ok_or_else(|| format!("no organisation named {name:?}"))?
                        .id,
                ),
                None => None,
            };
            let email = Email::parse("email", &email).map_err(app_err)?;
            let display = name.unwrap_or_else(|| {
                email
                    .as_str()
                    .split('@')
                    .next()
                    .unwrap_or("user")
                    .to_owned()
            });
            let new = NewUser {
                name: NonEmptyText::parse("name", &display, 200).map_err(app_err)?,
                email,
                role: role.into(),
                organisation_id,
                country_code: None,
                password,
            };
            let created = create_user_unchecked(&state.db, &state.passwords, None, new)
                .await
                .map_err(app_err)?;
            let check = user::Entity::find_by_id(created.id).one(&state.db).await?;
            println!(
                "created user {} ({})",
                created.email,
                check.map(|u| u.role.as_str()).unwrap_or("?")
            );
        }
    }
    Ok(())
}
