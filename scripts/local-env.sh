#!/usr/bin/env bash
# The environment every local process shares: emulator endpoints, throwaway credentials, and the
# stack's configuration. Sourced by scripts/run.sh and scripts/test.sh; S3_PORT and DYNAMODB_PORT
# must be set first.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
# The SDK must not look for credentials, config files or instance metadata of the machine.
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL
export AWS_ENDPOINT_URL_S3="http://127.0.0.1:$S3_PORT"
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$DYNAMODB_PORT"
export S3_FORCE_PATH_STYLE=true
