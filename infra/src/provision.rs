//! Creates the table and bucket on the emulators with the settings `template.yaml` gives them.
//! Idempotent: running it against what already exists brings the settings back in line.

use std::time::Duration;

use anyhow::{Context as _, bail};
use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification, TimeToLiveStatus,
};
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint,
    CorsConfiguration, CorsRule, CreateBucketConfiguration, ExpirationStatus, LifecycleExpiration,
    LifecycleRule, LifecycleRuleFilter, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
};

use recovery_shared::Config;

use crate::template::{BucketSpec, TableSpec, Template};

/// What to create, and for which web origins.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub table: &'a str,
    pub bucket: &'a str,
    pub allowed_origins: &'a [String],
    pub s3_force_path_style: bool,
}

impl<'a> Target<'a> {
    /// The table, bucket, origins and S3 addressing a configuration names: what the functions
    /// configured so will expect to find. The one place provisioning reads the configuration
    /// (the `provision` binary and the end-to-end harness both start here).
    pub fn from_config(config: &'a Config) -> Self {
        Self {
            table: &config.table_name,
            bucket: &config.bucket_name,
            allowed_origins: &config.allowed_origins,
            s3_force_path_style: config.s3_force_path_style,
        }
    }
}

pub async fn provision(
    sdk: &SdkConfig,
    template: &Template,
    target: &Target<'_>,
) -> anyhow::Result<()> {
    // The functions' SDK settings give one operation 4 s, right for a request but not for setting
    // up: a busy emulator (DynamoDB Local's first CreateTable on a loaded machine) can take longer.
    let sdk = sdk
        .to_builder()
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(30))
                .operation_timeout(Duration::from_secs(90))
                .build(),
        )
        .build();
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let s3 = recovery_shared::aws::s3_client(&sdk, target.s3_force_path_style);
    provision_table(&dynamodb, &template.table()?, target.table).await?;
    provision_bucket(&s3, &template.bucket()?, target).await?;
    Ok(())
}

async fn provision_table(
    client: &aws_sdk_dynamodb::Client,
    spec: &TableSpec,
    name: &str,
) -> anyhow::Result<()> {
    let key_type = match spec.partition_key_type.as_str() {
        "S" => ScalarAttributeType::S,
        "N" => ScalarAttributeType::N,
        "B" => ScalarAttributeType::B,
        other => bail!("unsupported key attribute type {other}"),
    };
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::from(spec.billing_mode.as_str()))
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(&spec.partition_key)
                .attribute_type(key_type)
                .build()?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(&spec.partition_key)
                .key_type(KeyType::Hash)
                .build()?,
        )
        .send()
        .await;
    match created {
        Ok(_) => tracing::info!(table = name, "table created"),
        Err(e)
            if e.as_service_error()
                .is_some_and(aws_sdk_dynamodb::operation::create_table::CreateTableError::is_resource_in_use_exception) =>
        {
            tracing::info!(table = name, "table exists");
        }
        Err(e) => return Err(anyhow::Error::new(e).context(format!("creating table {name}"))),
    }
    wait_for_table(client, name).await?;

    if let Some(attribute) = &spec.ttl_attribute {
        let current = client
            .describe_time_to_live()
            .table_name(name)
            .send()
            .await
            .context("describing the table's TTL")?;
        let enabled = current.time_to_live_description().is_some_and(|d| {
            d.attribute_name() == Some(attribute.as_str())
                && matches!(
                    d.time_to_live_status(),
                    Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
                )
        });
        if !enabled {
            client
                .update_time_to_live()
                .table_name(name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(attribute)
                        .enabled(true)
                        .build()?,
                )
                .send()
                .await
                .context("enabling TTL")?;
        }
    }
    Ok(())
}

async fn wait_for_table(client: &aws_sdk_dynamodb::Client, name: &str) -> anyhow::Result<()> {
    for _ in 0..100 {
        let out = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .context("describing the table")?;
        if out.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("table {name} did not become ACTIVE")
}

#[allow(
    clippy::too_many_lines,
    reason = "one step per bucket setting of the template, in the order S3 needs them"
)]
async fn provision_bucket(
    client: &aws_sdk_s3::Client,
    spec: &BucketSpec,
    target: &Target<'_>,
) -> anyhow::Result<()> {
    let bucket = target.bucket;
    let mut create = client.create_bucket().bucket(bucket);
    // us-east-1 is the one region that refuses an explicit location constraint.
    if let Some(region) = client.config().region().map(|r| r.as_ref().to_owned())
        && region != "us-east-1"
    {
        create = create.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region.as_str()))
                .build(),
        );
    }
    match create.send().await {
        Ok(_) => tracing::info!(bucket, "bucket created"),
        Err(e)
            if e.as_service_error().is_some_and(|e| {
                e.is_bucket_already_owned_by_you() || e.is_bucket_already_exists()
            }) =>
        {
            tracing::info!(bucket, "bucket exists");
        }
        Err(e) => return Err(anyhow::Error::new(e).context(format!("creating bucket {bucket}"))),
    }

    if spec.block_public_access {
        client
            .put_public_access_block()
            .bucket(bucket)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .block_public_policy(true)
                    .ignore_public_acls(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .context("blocking public access")?;
    }
    if let Some(algorithm) = &spec.sse_algorithm {
        client
            .put_bucket_encryption()
            .bucket(bucket)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(
                        ServerSideEncryptionRule::builder()
                            .apply_server_side_encryption_by_default(
                                ServerSideEncryptionByDefault::builder()
                                    .sse_algorithm(ServerSideEncryption::from(algorithm.as_str()))
                                    .build()?,
                            )
                            .build(),
                    )
                    .build()?,
            )
            .send()
            .await
            .context("setting default encryption")?;
    }
    if !spec.cors.is_empty() && !target.allowed_origins.is_empty() {
        let mut cors = CorsConfiguration::builder();
        for rule in &spec.cors {
            cors = cors.cors_rules(
                CorsRule::builder()
                    .set_allowed_origins(Some(target.allowed_origins.to_vec()))
                    .set_allowed_methods(Some(rule.allowed_methods.clone()))
                    .set_allowed_headers(Some(rule.allowed_headers.clone()))
                    .set_expose_headers(Some(rule.exposed_headers.clone()))
                    .set_max_age_seconds(rule.max_age)
                    .build()?,
            );
        }
        client
            .put_bucket_cors()
            .bucket(bucket)
            .cors_configuration(cors.build()?)
            .send()
            .await
            .context("setting CORS")?;
    }
    if !spec.lifecycle.is_empty() {
        let mut lifecycle = BucketLifecycleConfiguration::builder();
        for rule in &spec.lifecycle {
            let mut built = LifecycleRule::builder()
                .id(&rule.id)
                .status(ExpirationStatus::Enabled)
                .filter(
                    LifecycleRuleFilter::builder()
                        .prefix(rule.prefix.clone().unwrap_or_default())
                        .build(),
                );
            if let Some(days) = rule.expiration_days {
                built = built.expiration(LifecycleExpiration::builder().days(days).build());
            }
            if let Some(days) = rule.abort_incomplete_days {
                built = built.abort_incomplete_multipart_upload(
                    AbortIncompleteMultipartUpload::builder()
                        .days_after_initiation(days)
                        .build(),
                );
            }
            lifecycle = lifecycle.rules(built.build()?);
        }
        client
            .put_bucket_lifecycle_configuration()
            .bucket(bucket)
            .lifecycle_configuration(lifecycle.build()?)
            .send()
            .await
            .context("setting lifecycle rules")?;
    }
    // The template's TLS-only bucket policy is not applied: the emulator speaks plain HTTP on
    // loopback and would be locked out by it.
    Ok(())
}
