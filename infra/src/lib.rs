//! Local stand-ins for AWS: the API gateway that serves `template.yaml`'s routes with the
//! functions' own handler code, provisioning of the table and bucket on the emulators, and a
//! development speech endpoint for the demo page.

pub mod functions;
pub mod gateway;
pub mod gzip;
pub mod jwt;
pub mod preflight;
pub mod provision;
pub mod speech;
pub mod template;

use std::path::PathBuf;

/// A path from the environment, or a default relative to the repository.
pub fn path_from_env(var: &str, default_in_repo: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(
        || {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .map_or_else(|| default_in_repo.into(), |root| root.join(default_in_repo))
        },
        PathBuf::from,
    )
}
