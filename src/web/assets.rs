//! The static files, compiled into the binary so that the server runs from any directory: the
//! NHS design system (nhsuk-frontend, vendored by `scripts/update-nhsuk-frontend.sh`) under an
//! address that carries its version (so it is cached for a year and a new version is a new
//! address), the icons its CSS asks for at `/assets/images/`, and the app's own small
//! stylesheet and script.

use actix_web::{http::header, web, HttpResponse};

/// The vendored nhsuk-frontend's version, as `scripts/update-nhsuk-frontend.sh` recorded it.
pub fn nhsuk_version() -> &'static str {
    include_str!("../../static/nhsuk-frontend/VERSION").trim()
}

const NHSUK_CSS: &str = include_str!("../../static/nhsuk-frontend/nhsuk-frontend.min.css");
const NHSUK_JS: &str = include_str!("../../static/nhsuk-frontend/nhsuk-frontend.min.js");
const APP_CSS: &str = include_str!("../../static/css/app.css");
const APP_JS: &str = include_str!("../../static/js/app.js");

/// The images nhsuk-frontend's CSS refers to (`url(/assets/images/...)`), and the favicon.
const IMAGES: &[(&str, &str, &[u8])] = &[
    (
        "nhsuk-icon-arrow-down.svg",
        "image/svg+xml",
        include_bytes!("../../static/nhsuk-frontend/assets/images/nhsuk-icon-arrow-down.svg"),
    ),
    (
        "nhsuk-icon-arrow-up-down.svg",
        "image/svg+xml",
        include_bytes!("../../static/nhsuk-frontend/assets/images/nhsuk-icon-arrow-up-down.svg"),
    ),
    (
        "nhsuk-icon-arrow-up.svg",
        "image/svg+xml",
        include_bytes!("../../static/nhsuk-frontend/assets/images/nhsuk-icon-arrow-up.svg"),
    ),
    (
        "nhsuk-icon-cross.svg",
        "image/svg+xml",
        include_bytes!("../../static/nhsuk-frontend/assets/images/nhsuk-icon-cross.svg"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../static/nhsuk-frontend/assets/images/favicon.svg"),
    ),
    (
        "favicon.ico",
        "image/x-icon",
        include_bytes!("../../static/nhsuk-frontend/assets/images/favicon.ico"),
    ),
];

/// A year: the address changes with the version.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The app's own files keep their address: an hour.
const HOURLY: &str = "public, max-age=3600";

/// Where the pages link the vendored stylesheet.
pub fn nhsuk_css_href() -> String {
    format!(
        "/static/nhsuk-frontend/{}/nhsuk-frontend.min.css",
        nhsuk_version()
    )
}

/// Where `static/js/app.js` imports the vendored script from (kept in step by a unit test).
pub fn nhsuk_js_href() -> String {
    format!(
        "/static/nhsuk-frontend/{}/nhsuk-frontend.min.js",
        nhsuk_version()
    )
}

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route(
        &nhsuk_css_href(),
        web::get().to(|| async { file("text/css; charset=utf-8", IMMUTABLE, NHSUK_CSS) }),
    )
    .route(
        &nhsuk_js_href(),
        web::get().to(|| async { file("text/javascript; charset=utf-8", IMMUTABLE, NHSUK_JS) }),
    )
    .route(
        "/static/css/app.css",
        web::get().to(|| async { file("text/css; charset=utf-8", HOURLY, APP_CSS) }),
    )
    .route(
        "/static/js/app.js",
        web::get().to(|| async { file("text/javascript; charset=utf-8", HOURLY, APP_JS) }),
    )
    .route("/assets/images/{name}", web::get().to(image))
    .route(
        "/favicon.ico",
        web::get().to(|| async { image(web::Path::from("favicon.ico".to_string())).await }),
    );
}

fn file(content_type: &'static str, cache: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, cache))
        .body(body)
}

async fn image(name: web::Path<String>) -> HttpResponse {
    match IMAGES.iter().find(|(n, _, _)| *n == name.as_str()) {
        Some((_, content_type, bytes)) => HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header((header::CACHE_CONTROL, HOURLY))
            .body(*bytes),
        None => HttpResponse::NotFound().finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_script_imports_the_vendored_version() {
        assert!(
            APP_JS.contains(&format!("from \"{}\"", nhsuk_js_href())),
            "static/js/app.js must import {}",
            nhsuk_js_href()
        );
    }

    #[test]
    fn every_image_the_css_asks_for_is_served() {
        for found in NHSUK_CSS.split("url(/assets/images/").skip(1) {
            let name = &found[..found.find(')').unwrap()];
            assert!(
                IMAGES.iter().any(|(n, _, _)| *n == name),
                "{name} is not served"
            );
        }
    }

    #[test]
    fn the_version_is_a_10_x_release() {
        assert!(nhsuk_version().starts_with("10."), "{}", nhsuk_version());
        assert!(NHSUK_CSS.contains(&format!("--nhsuk-frontend-version:\"{}\"", nhsuk_version())));
    }
}
