//! The body of every function's `main`: logging, configuration and clients once per cold start,
//! then the Lambda runtime loop.

use std::future::Future;

use futures_util::future::Either;
use lambda_http::{Body, Error, Request, Response, service_fn};

use crate::{AwsApp, http};

pub async fn run_function<F, Fut>(handle: F) -> Result<(), Error>
where
    F: Fn(&'static AwsApp, Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, std::convert::Infallible>> + Send,
{
    lambda_http::tracing::init_default_subscriber();
    let app = match AwsApp::from_env().await {
        Ok(app) => app,
        Err(e) => {
            // Fails the init phase with the reason in the log, before any request is accepted.
            tracing::error!(error = %e, "cold start failed");
            return Err(e.into());
        }
    };
    // The app lives as long as the process; leaking it lets every invocation borrow it.
    let app: &'static AwsApp = Box::leak(Box::new(app));
    let origin = app.config.origin_secret.as_ref();
    lambda_http::run(service_fn(move |req: Request| {
        // Behind the edge, a request that did not come through it is refused before anything
        // else is read (the local gateway has no edge and calls the handlers directly).
        match http::check_origin(origin, &req) {
            Ok(()) => Either::Left(handle(app, req)),
            Err(refused) => {
                tracing::info!(reason = %refused, "request refused");
                let response = refused.into_response(&http::request_id(&req));
                Either::Right(std::future::ready(Ok(response)))
            }
        }
    }))
    .await
}
