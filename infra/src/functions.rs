//! The functions the local gateway runs in-process: the one Rust list of them. Each entry ties
//! a logical id of `template.yaml` (the variant's name + `Function`) to its crate, whose routes
//! (its `ROUTE`, or the constants listed in brackets for a function that serves several) and
//! `handle` the gateway uses. Adding a function means one line here and its path dependency
//! in `infra/Cargo.toml`, beside its crate, its resources in `template.yaml` and its path in
//! `openapi.yaml`; the tests check that this list, the template's functions and the crates of
//! `functions/` agree (see docs/architecture.md, "Adding a route").

use std::convert::Infallible;

use lambda_http::{Body, Response};
use recovery_shared::App;
use recovery_shared::ports::{ObjectStore, TokenStore};

/// The routes of a function crate: its `ROUTE`, or the constants named in brackets.
macro_rules! routes_of {
    ($krate:ident) => {
        &[$krate::ROUTE]
    };
    ($krate:ident [$($route:ident),+]) => {
        &[$($krate::$route),+]
    };
}

macro_rules! functions {
    ($($variant:ident => $krate:ident $([$($route:ident),+ $(,)?])?),+ $(,)?) => {
        /// The functions of the stack, by their logical id in `template.yaml`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Function {
            $($variant),+
        }

        impl Function {
            pub const ALL: &'static [Function] = &[$(Function::$variant),+];

            pub fn logical_id(self) -> &'static str {
                match self {
                    $(Function::$variant => concat!(stringify!($variant), "Function")),+
                }
            }

            /// The routes the handler says it serves (`METHOD /path`, as the template's
            /// route keys): every one of them, and only these, must lead to it in the template.
            pub fn routes(self) -> &'static [&'static str] {
                match self {
                    $(Function::$variant => routes_of!($krate $([$($route),+])?)),+
                }
            }

            /// Runs this function's handler on `req`, as its Lambda would.
            pub async fn invoke<T, O>(self, app: &App<T, O>, req: lambda_http::Request) -> Response<Body>
            where
                T: TokenStore,
                O: ObjectStore,
            {
                let result: Result<Response<Body>, Infallible> = match self {
                    $(Function::$variant => $krate::handle(app, req).await),+
                };
                match result {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            }
        }
    };
}

functions! {
    CreateUpload => create_upload,
    IssueToken => issue_token,
    // The link's path form and the header form the browser client uses.
    RedeemToken => redeem_token [ROUTE, HEADER_ROUTE],
    // A token, and (the server copy) a whole session.
    RevokeToken => revoke_token [ROUTE, SESSION_ROUTE],
    Health => health,
    CopySession => copy_session,
    // The caller's copies, and one copy.
    Sessions => sessions [ROUTE, ONE_ROUTE],
}

impl Function {
    pub fn from_logical_id(id: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|f| f.logical_id() == id)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::template::{Template, repo_template_path};

    #[test]
    fn the_list_matches_the_functions_of_the_template() {
        let template = Template::load(&repo_template_path()).unwrap();
        let mut in_template: Vec<String> = template
            .functions()
            .unwrap()
            .into_iter()
            .map(|f| f.logical_id)
            .collect();
        in_template.sort();
        let mut here: Vec<&str> = Function::ALL.iter().map(|f| f.logical_id()).collect();
        here.sort_unstable();
        assert_eq!(in_template, here);
        assert_eq!(
            Function::from_logical_id("HealthFunction"),
            Some(Function::Health)
        );
        assert_eq!(Function::from_logical_id("Health"), None);
    }

    #[test]
    fn the_build_scripts_read_the_same_functions_from_the_template() {
        let root = repo_template_path().parent().unwrap().to_owned();
        let out = std::process::Command::new("bash")
            .arg(root.join("scripts/functions.sh"))
            .output()
            .unwrap();
        assert!(out.status.success());
        let mut listed: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        listed.sort();
        let template = Template::load(&repo_template_path()).unwrap();
        let mut binaries: Vec<String> = template
            .functions()
            .unwrap()
            .into_iter()
            .map(|f| f.binary)
            .collect();
        binaries.sort();
        assert_eq!(listed, binaries);
    }
}
