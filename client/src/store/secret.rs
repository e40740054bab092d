//! The client secret sent as `X-Recovery-Client`: in an object store of its
//! own (`secrets`), out of reach of the key-value API apps use, and mirrored
//! to localStorage: when the browser deletes a damaged IndexedDB (Chromium
//! does, now and then, after a crash) an anonymous owner keeps its identity,
//! and with it its server copies (`GET /api/recovery/sessions`).

use wasm_bindgen::{JsCast, JsValue};
use web_sys::IdbTransactionMode;

use super::{Store, hints};
use crate::{
    Boxed,
    error::{ClientError, Result},
    idb, js, model,
    prelude::*,
    schema::{CLIENT_SECRET, SECRETS},
    text::concat,
};

/// The localStorage key of a database's client secret mirror.
fn mirror_key(db_name: &str) -> String {
    concat(&["chatterbox-recovery:", db_name, ":client-secret"])
}

impl Store {
    /// The secret sent as `X-Recovery-Client`: 256 random bits, base64url,
    /// created on first use and kept. Read and created in one transaction, so
    /// two tabs starting together still agree on one secret.
    pub fn client_secret(&self) -> Boxed<'_, Result<String>> {
        Box::pin(self.client_secret_body())
    }

    async fn client_secret_body(&self) -> Result<String> {
        if let Some(s) = self.inner.client_secret.borrow().clone() {
            return Ok(s);
        }
        self.check_open()?;
        // IndexedDB has none after the browser deleted it: the mirror's
        // secret is the owner's, so it comes back rather than a new one.
        let mirror = mirror_key(&self.inner.db_name);
        let fresh = match hints::get_item(&mirror).filter(|s| s.len() == 43) {
            Some(kept) => kept,
            None => model::base64url(&random_bytes::<32>()?),
        };
        let tx = idb::transaction(&self.inner.db, &[SECRETS], IdbTransactionMode::Readwrite)?;
        let secrets = idb::store(&tx, SECRETS)?;
        let key = JsValue::from_str(CLIENT_SECRET);
        let secret = if let Some(existing) = idb::request(idb::req(secrets.get(&key))?)
            .await?
            .as_string()
        {
            existing
        } else {
            idb::req(secrets.put_with_key(&JsValue::from_str(&fresh), &key))?;
            fresh
        };
        idb::committed(&tx).await?;
        hints::set_item(&mirror, &secret);
        *self.inner.client_secret.borrow_mut() = Some(secret.clone());
        Ok(secret)
    }
}

/// `N` random bytes (`crypto.getRandomValues`).
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    fill_random(&mut bytes)?;
    Ok(bytes)
}

/// The work of [`random_bytes`], compiled once rather than for each `N`.
fn fill_random(bytes: &mut [u8]) -> Result<()> {
    let crypto: web_sys::Crypto = js::global_object("crypto")
        .ok_or_else(|| ClientError::Invalid("crypto.getRandomValues is not available".into()))?
        .unchecked_into();
    crypto
        .get_random_values_with_u8_array(bytes)
        .map(|_| ())
        .map_err(|e| ClientError::Invalid(js::describe(&e)))
}
