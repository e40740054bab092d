//! The end-to-end suite against LocalStack S3 and DynamoDB Local, as one test binary: each of
//! these links the whole AWS SDK, and one link instead of four saves minutes and gigabytes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod bad_input;
mod copy;
mod fault;
mod limits;
mod openapi;
mod provisioning;
mod session;
mod stores;
