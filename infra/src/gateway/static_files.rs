//! The static files beside the API (the demo page, the client package, the React example's
//! build) and their cache rules: hashed assets kept, every other file revalidated.

use axum::Router;
use axum::response::Redirect;
use axum::routing::get;
use http::{HeaderValue, header};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeader;

use super::GatewayOptions;

/// `router` with the directories `options` names served beside it; the demo directory takes
/// every path nothing else does.
pub(super) fn serve(mut router: Router, options: &GatewayOptions) -> Router {
    if let Some(dir) = &options.client_dir {
        router = router
            .nest_service("/client/js", revalidated(ServeDir::new(dir.join("js"))))
            .nest_service("/client/pkg", revalidated(ServeDir::new(dir.join("pkg"))));
    }
    if let Some(dir) = &options.react_dir {
        let app = ServeDir::new(dir)
            .append_index_html_on_directories(true)
            .fallback(ServeFile::new(dir.join("index.html")));
        // Vite names every file in `assets/` by its content's hash: a browser keeps them.
        let assets = SetResponseHeader::overriding(
            ServeDir::new(dir.join("assets")),
            header::CACHE_CONTROL,
            when_found(HeaderValue::from_static(
                "public, max-age=31536000, immutable",
            )),
        );
        router = router
            .route("/react", get(|| async { Redirect::permanent("/react/") }))
            .nest_service("/react/assets", assets)
            .nest_service("/react/", revalidated(app));
    }
    if let Some(dir) = &options.demo_dir {
        router = router.fallback_service(revalidated(
            ServeDir::new(dir).append_index_html_on_directories(true),
        ));
    }
    router
}

/// `Cache-Control` for a file served as found (never for a 404 or an error).
fn when_found<B>(value: HeaderValue) -> impl Fn(&http::Response<B>) -> Option<HeaderValue> + Clone {
    move |response| response.status().is_success().then(|| value.clone())
}

/// Static files whose names stay the same when they change (the demo, the client package, the
/// React example's `index.html`): `no-cache`, so a browser revalidates them on every load and
/// never runs a stale page or package after an edit or a rebuild. Left to the browser's
/// heuristics, a file's freshness would follow its modification time.
fn revalidated<S, B>(
    files: S,
) -> SetResponseHeader<S, impl Fn(&http::Response<B>) -> Option<HeaderValue> + Clone> {
    SetResponseHeader::overriding(
        files,
        header::CACHE_CONTROL,
        when_found(HeaderValue::from_static("no-cache")),
    )
}

#[cfg(test)]
mod tests;
