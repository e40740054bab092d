//! Provisioning puts the template's settings on the emulators, and running it again is harmless.

use aws_sdk_dynamodb::types::TimeToLiveStatus;
use aws_sdk_s3::types::{AbortIncompleteMultipartUpload, LifecycleExpiration};
use recovery_e2e::{ORIGIN, Stack};
use recovery_infra::provision::{Target, provision};
use recovery_infra::template::{Template, repo_template_path};

#[tokio::test]
async fn the_table_and_bucket_get_the_templates_ttl_lifecycle_cors_and_encryption() {
    let stack = Stack::start().await;
    let table = &stack.config.table_name;
    let bucket = &stack.config.bucket_name;

    let ttl = stack
        .dynamodb
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some("expires_at"));
    assert_eq!(ttl.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));

    let described = stack
        .dynamodb
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap();
    let key = &described.table().unwrap().key_schema()[0];
    assert_eq!(key.attribute_name(), "token_hash");

    let lifecycle = stack
        .s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let rules = lifecycle.rules();
    let expire = rules
        .iter()
        .find(|r| r.id() == Some("expire-recovery-audio"))
        .unwrap();
    assert_eq!(
        expire.expiration().and_then(LifecycleExpiration::days),
        Some(2)
    );
    assert_eq!(expire.filter().and_then(|f| f.prefix()), Some("recovery/"));
    let abort = rules
        .iter()
        .find(|r| r.id() == Some("abort-incomplete-multipart-uploads"))
        .unwrap();
    assert_eq!(
        abort
            .abort_incomplete_multipart_upload()
            .and_then(AbortIncompleteMultipartUpload::days_after_initiation),
        Some(1)
    );

    let cors = stack
        .s3
        .get_bucket_cors()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let rule = &cors.cors_rules()[0];
    assert_eq!(rule.allowed_origins(), [ORIGIN]);
    assert_eq!(rule.allowed_methods(), ["GET", "PUT"]);

    let encryption = stack
        .s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let algorithm = encryption
        .server_side_encryption_configuration()
        .and_then(|c| c.rules().first())
        .and_then(|r| r.apply_server_side_encryption_by_default())
        .map(|d| d.sse_algorithm().as_str().to_owned());
    assert_eq!(algorithm.as_deref(), Some("AES256"));

    let block = stack
        .s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let block = block.public_access_block_configuration().unwrap();
    assert_eq!(block.block_public_acls(), Some(true));
    assert_eq!(block.restrict_public_buckets(), Some(true));
}

#[tokio::test]
async fn provisioning_twice_changes_nothing_and_fails_nothing() {
    let stack = Stack::start().await;
    let template = Template::load(&repo_template_path()).unwrap();
    let origins = vec![ORIGIN.to_owned()];
    provision(
        &stack.sdk,
        &template,
        &Target {
            table: &stack.config.table_name,
            bucket: &stack.config.bucket_name,
            allowed_origins: &origins,
            s3_force_path_style: true,
        },
    )
    .await
    .unwrap();
    let health = stack.health().await;
    assert_eq!(health.status(), 200);
}
