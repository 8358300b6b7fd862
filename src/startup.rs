//! Builds the application: state, session middleware, security headers, the input check
//! (`web::input`), CSRF check, routes, the listener (port 0 in tests) and the mail worker; and
//! runs it until it stops, in the order `crate::shutdown` gives.

use std::net::TcpListener;

use actix_session::config::{BrowserSession, CookieContentSecurity, TtlExtensionPolicy};
use actix_session::SessionMiddleware;
use actix_web::cookie::{time::Duration, Key, SameSite};
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};

use crate::auth::hash_gate::HashGate;
use crate::config::Settings;
use crate::db::models::sessions;
use crate::db::session_store::PgSessionStore;
use crate::db::PgPool;
use crate::error::AppError;
use crate::mail::worker::Worker;
use crate::shutdown::Trigger;
use crate::state::AppState;

pub struct Application {
    port: u16,
    base_url: String,
    server: Server,
    /// The mail worker and housekeeping, stopped with the server.
    background: Vec<(&'static str, tokio::task::JoinHandle<()>)>,
    /// Tells the background tasks to stop.
    stop: Trigger,
    shutdown_timeout: std::time::Duration,
    hashing: std::sync::Arc<HashGate>,
}

impl Application {
    pub async fn build(mut settings: Settings, pool: PgPool) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&settings.bind)?;
        let port = listener.local_addr()?.port();
        // A base URL derived from a ":0" bind learns the port the system chose.
        if settings.base_url.ends_with(":0") {
            settings.base_url = format!("{}{port}", settings.base_url.trim_end_matches('0'));
        }
        let key = Key::from(&settings.session_key()?);
        let worker = Worker::new(pool.clone(), &settings)?;
        let pool_for_housekeeping = pool.clone();
        let hashing = std::sync::Arc::new(HashGate::new(settings.hashing.clone()));
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            settings: settings.clone(),
            cookie_key: key.clone(),
            oidc: std::sync::Arc::new(crate::auth::oidc::Providers::new(&settings.oidc)?),
            content_security_policy: crate::web::security_headers::content_security_policy(
                &settings.oidc,
            ),
            hashing: hashing.clone(),
        });
        let secure = settings.is_https();
        // One store, so that the workers share its frames.
        let store = PgSessionStore::new(pool.clone());
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(crate::auth::csrf::require_token))
                .wrap(from_fn(crate::web::errors::in_frame))
                .wrap(from_fn(crate::web::input::require_text))
                .wrap(session_middleware(store.clone(), key.clone(), secure))
                .wrap(from_fn(crate::web::context::hold_connection))
                .wrap(from_fn(crate::web::security_headers::add))
                .wrap(from_fn(crate::telemetry::log_request))
                .app_data(state.clone())
                .app_data(
                    web::FormConfig::default()
                        .limit(crate::auth::csrf::MAX_FORM_BYTES)
                        .error_handler(crate::web::input::unreadable_form),
                )
                .app_data(
                    web::QueryConfig::default().error_handler(crate::web::input::unreadable_query),
                )
                .app_data(
                    web::PathConfig::default().error_handler(crate::web::input::unreadable_path),
                )
                .configure(crate::web::config)
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(AppError::NotFound)
                }))
        })
        .listen(listener)?
        // Signals are handled in `run_until_signalled`, which also stops the background tasks.
        .disable_signals()
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        .workers(
            std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .clamp(2, 8),
        )
        .run();
        let (trigger, stop) = crate::shutdown::channel();
        let worker = tokio::spawn(worker.run_until(stop.clone()));
        let housekeeping = tokio::spawn(crate::housekeeping::run(
            pool_for_housekeeping,
            settings.base_url.clone(),
            stop,
        ));
        Ok(Self {
            port,
            base_url: settings.base_url,
            server,
            background: vec![("mail worker", worker), ("housekeeping", housekeeping)],
            stop: trigger,
            shutdown_timeout: settings.shutdown_timeout,
            hashing,
        })
    }

    /// The admission to password hashing that every worker of this server shares.
    pub fn hash_gate(&self) -> std::sync::Arc<HashGate> {
        self.hashing.clone()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM or SIGINT, then stops as `crate::shutdown` describes (`serve`).
    pub async fn run_until_signalled(self) -> std::io::Result<()> {
        let listener = tokio::spawn(crate::shutdown::on_signals(
            self.server.handle(),
            self.stop.clone(),
            self.shutdown_timeout,
        ));
        let result = self.run_until_stopped().await;
        listener.abort();
        result
    }

    /// Serves until stopped (a signal, or the handle), then gives the background tasks what
    /// is left of the shutdown bound to finish what they began.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        // Stopped through the handle: the background tasks learn of it only now.
        let began = self.stop.fire();
        tracing::info!("requests finished; stopping the background tasks");
        let deadline = tokio::time::Instant::from_std(began + self.shutdown_timeout);
        for (name, mut task) in self.background {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                tracing::warn!(task = name, "still busy at the shutdown bound; stopped");
                task.abort();
            }
        }
        result
    }
}

fn session_middleware(
    store: PgSessionStore,
    key: Key,
    secure: bool,
) -> SessionMiddleware<PgSessionStore> {
    SessionMiddleware::builder(store, key)
        // `__Host-` requires Secure, Path=/ and no Domain: only possible under https.
        .cookie_name(if secure {
            "__Host-staffroom".into()
        } else {
            "staffroom".into()
        })
        .cookie_secure(secure)
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Lax)
        .cookie_path("/".into())
        .cookie_content_security(CookieContentSecurity::Signed)
        .session_lifecycle(
            BrowserSession::default()
                .state_ttl(Duration::minutes(sessions::IDLE_TIMEOUT_MINUTES))
                // The store moves the idle expiry itself, at most once a minute, in the same
                // statement that reads the session: no write per request.
                .state_ttl_extension_policy(TtlExtensionPolicy::OnStateChanges),
        )
        .build()
}
