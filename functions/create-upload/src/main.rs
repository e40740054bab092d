#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    recovery_shared::runtime::run_function(create_upload::handle).await
}
