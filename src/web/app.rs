//! Building the service: pool, migrations, signing keys, routes, HTTP server.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use actix_http::error::DispatchError;
use actix_http::{HttpService, Protocol};
use actix_server::Server;
use actix_service::{IntoServiceFactory, ServiceFactoryExt, fn_service, map_config};
use actix_web::dev::AppConfig;
use actix_web::{App, web};
use secrecy::ExposeSecret;
use tokio::net::TcpStream;
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;

use crate::api::wire::ProblemIo;
use crate::auth::password::Hasher;
use crate::auth::token::TokenKeys;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::state::AppState;

/// Opens the pool, applies pending migrations and loads the default catalog if missing
/// (what `migrate` does, and `serve` first).
pub fn prepare_database(settings: &Settings) -> Result<DbPool, String> {
    let url = settings.db_url().map_err(|e| e.to_string())?;
    let pool = db::build_pool(&url, settings.database.pool_size)?;
    let mut conn = pool.get().map_err(|e| format!("cannot connect to the database: {e}"))?;
    let applied = db::migrate::run_pending(&mut conn).map_err(|e| format!("migration failed: {e}"))?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    if crate::model::directive::seed_default(&mut conn, chrono::Utc::now().naive_utc())? {
        tracing::info!("default catalog 24-CT/TU loaded");
    }
    if crate::model::handling::seed_default(&mut conn, chrono::Utc::now().naive_utc())? {
        tracing::info!("handling catalog loaded from config/measures/vietnam.toml");
    }
    let years = crate::model::calendar::seed_default(&mut conn)?;
    if !years.is_empty() {
        tracing::info!(?years, "working-day calendar loaded from config/calendars/vietnam.toml");
    }
    let moved = crate::casework::adopt_files(&mut conn, &settings.cases.attachment_dir, chrono::Utc::now().naive_utc())
        .map_err(|e| format!("moving attachment files into the database: {e}"))?;
    if moved > 0 {
        tracing::info!(moved, folder = %settings.cases.attachment_dir.display(), "attachment files moved into the database");
    }
    Ok(pool)
}

/// The signing secret: configured, or (SQLite only) generated once and kept beside the database.
pub fn jwt_secret(settings: &Settings) -> Result<Vec<u8>, String> {
    if let Some(secret) = &settings.auth.jwt_secret {
        return Ok(secret.expose_secret().as_bytes().to_vec());
    }
    let db_path = settings
        .db_url()
        .map_err(|e| e.to_string())?
        .sqlite_path()
        .ok_or("configuration key `auth.jwt_secret`: is required with PostgreSQL")?;
    let dir = db_path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file = dir.join("jwt_secret");
    if let Ok(existing) = std::fs::read_to_string(&file) {
        return Ok(existing.trim().as_bytes().to_vec());
    }
    let secret = crate::auth::password::generate() + &crate::auth::password::generate();
    write_private(&file, &secret).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    Ok(secret.into_bytes())
}

/// Writes a new file that only its owner can read (0600).
pub fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(content.as_bytes())
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    server: Server,
    pub state: web::Data<AppState>,
}

impl Application {
    /// Prepares the database and binds `server.bind` (port 0 picks a free port).
    pub fn build(settings: Settings, clock: Clock) -> Result<Self, String> {
        let pool = prepare_database(&settings)?;
        let secret = jwt_secret(&settings)?;
        let tokens = TokenKeys::new(&secret);
        let backend = settings.db_url().map_err(|e| e.to_string())?.backend;
        let tz = settings.time_zone().map_err(|e| e.to_string())?;
        let console = web::Data::new(crate::console::Console::new(
            secret,
            &settings.server.public_url,
            tz,
            settings.cases.attachment_max_bytes,
        )?);
        let listener = TcpListener::bind(&settings.server.bind)
            .map_err(|e| format!("configuration key `server.bind`: cannot listen on {}: {e}", settings.server.bind))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        let port = local.port();
        // Half the cores: a storm of sign-ins then leaves the other half to case reads
        // (login_storm in docs/BENCHMARKS.md).
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let hasher = Hasher::start((cores / 2).max(1));
        let proxies = settings.proxies().map_err(|e| e.to_string())?;
        let state = web::Data::new(AppState {
            pool,
            settings: Arc::new(settings),
            tokens,
            clock,
            hasher,
            backend,
            proxies,
            memo: Arc::default(),
            audit_check: Arc::default(),
        });
        let data = state.clone();
        // As many blocking threads in all as pooled connections: requests wait in the blocking
        // queue, first come first served, not on r2d2's condvar, where a late arrival can take a
        // returned connection ahead of a waiter (PostgreSQL get_case p99 halved, docs/BENCHMARKS.md).
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let blocking = (state.settings.database.pool_size as usize).div_ceil(workers).max(1);
        // The stack HttpServer builds, with one addition: each connection is wrapped so the
        // errors actix-http answers before any of our code runs leave as problem+json too.
        let mut builder = actix_server::Server::build()
            .workers(workers)
            .worker_max_blocking_threads(blocking)
            .shutdown_timeout(30)
            .listen("casetrack", listener, move || {
                let data = data.clone();
                let app = App::new()
                    .wrap(crate::web::middleware::problem_for_bare_errors())
                    .wrap(actix_web::middleware::from_fn(crate::web::middleware::speak_the_readers_language))
                    .wrap(actix_web::middleware::from_fn(crate::console::console_layer))
                    .wrap(actix_web::middleware::Compress::default())
                    .wrap(actix_web::middleware::from_fn(crate::web::middleware::refuse_long_urls))
                    .wrap(actix_web::middleware::from_fn(crate::web::middleware::request_id_header))
                    .wrap(actix_web::middleware::from_fn(crate::web::middleware::access_log))
                    .wrap(TracingLogger::<crate::web::span::RequestSpan>::new())
                    .app_data(data.clone())
                    .app_data(console.clone())
                    .app_data(web::PayloadConfig::new(data.settings.server.body_limit_bytes))
                    .app_data(web::PathConfig::default().error_handler(|_, _| crate::error::Error::NotFound.into()))
                    .into_utoipa_app()
                    .configure(crate::api::configure)
                    .into_app()
                    .configure(crate::console::configure)
                    .default_service(web::to(crate::console::not_found));
                // HttpServer's defaults, stated: 5 s keep-alive and head timeouts, 1 s to close.
                let http = HttpService::build()
                    .client_disconnect_timeout(std::time::Duration::from_secs(1))
                    .local_addr(local)
                    .finish(map_config(app.into_factory().map_err(|e| e.error_response()), |_| AppConfig::default()));
                fn_service(|io: TcpStream| async move {
                    let peer = io.peer_addr().ok();
                    let _ = io.set_nodelay(true);
                    Ok::<_, DispatchError>((ProblemIo::new(io), Protocol::Http1, peer))
                })
                .and_then(http)
            })
            .map_err(|e| e.to_string())?;
        let mut metrics_port = None;
        if let Some(bind) = state.settings.server.metrics_bind.clone() {
            let listener = TcpListener::bind(&bind)
                .map_err(|e| format!("configuration key `server.metrics_bind`: cannot listen on {bind}: {e}"))?;
            metrics_port = Some(listener.local_addr().map_err(|e| e.to_string())?.port());
            let data = state.clone();
            builder = builder
                .listen("casetrack-metrics", listener, move || {
                    let app = App::new()
                        .app_data(data.clone())
                        .route("/metrics", web::get().to(crate::api::health::metrics_on_loopback));
                    HttpService::build().finish(map_config(app.into_factory(), |_| AppConfig::default())).tcp()
                })
                .map_err(|e| e.to_string())?;
        }
        let server = builder.run();
        Ok(Application { port, metrics_port, server, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the loopback metrics listener, when `server.metrics_bind` asks for one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// Serves until SIGTERM/SIGINT, then finishes in-flight requests (graceful shutdown).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
