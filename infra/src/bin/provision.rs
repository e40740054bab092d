//! Creates the table and bucket named by `TABLE_NAME` and `BUCKET_NAME` on the endpoints the
//! standard AWS variables point at, with the settings of `template.yaml`.

use recovery_infra::path_from_env;
use recovery_infra::provision::{Target, provision};
use recovery_infra::template::Template;
use recovery_shared::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    lambda_http::tracing::init_default_subscriber();
    let template = Template::load(&path_from_env("TEMPLATE_PATH", "template.yaml"))?;
    let config = Config::from_env()?;
    let sdk = recovery_shared::aws::load_sdk_config().await;
    provision(&sdk, &template, &Target::from_config(&config)).await?;
    tracing::info!(table = %config.table_name, bucket = %config.bucket_name, "provisioned");
    Ok(())
}
