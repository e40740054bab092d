#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    recovery_shared::runtime::run_function(sessions::handle).await
}
