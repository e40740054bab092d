//! The small key-value store (Zustand adapter) and the client secret.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::IdbTransactionMode;

use super::{Status, Store};
use crate::{
    Boxed,
    error::{ClientError, Result},
    idb, js, model,
    prelude::*,
    schema::KV,
    text::concat,
};

const CLIENT_SECRET_KEY: &str = "clientSecret";

impl Store {
    pub fn kv_get<'a>(&'a self, key: &'a str) -> Boxed<'a, Result<Option<String>>> {
        Box::pin(self.kv_get_body(key))
    }

    async fn kv_get_body(&self, key: &str) -> Result<Option<String>> {
        self.check_open()?;
        let tx = idb::transaction(&self.inner.db, &[KV], IdbTransactionMode::Readonly)?;
        let value =
            idb::request(idb::req(idb::store(&tx, KV)?.get(&JsValue::from_str(key)))?).await?;
        Ok(value.as_string())
    }

    pub fn kv_set<'a>(&'a self, key: &'a str, value: &'a str) -> Boxed<'a, Result<()>> {
        Box::pin(self.kv_set_body(key, value))
    }

    async fn kv_set_body(&self, key: &str, value: &str) -> Result<()> {
        self.check_open()?;
        let (result, evicted) = self
            .with_quota_retry("", || async {
                self.take_injected_failure()?;
                let tx = idb::transaction(&self.inner.db, &[KV], IdbTransactionMode::Readwrite)?;
                idb::req(
                    idb::store(&tx, KV)?
                        .put_with_key(&JsValue::from_str(value), &JsValue::from_str(key)),
                )?;
                idb::committed(&tx).await
            })
            .await;
        if result.as_ref().is_err_and(ClientError::is_quota) || !evicted.is_empty() {
            self.emit(
                Status::Quota,
                Vec::new(),
                Some(concat(&["storage full while saving \"", key, "\""])),
                evicted,
            );
        }
        result
    }

    pub fn kv_remove<'a>(&'a self, key: &'a str) -> Boxed<'a, Result<()>> {
        Box::pin(self.kv_remove_body(key))
    }

    async fn kv_remove_body(&self, key: &str) -> Result<()> {
        self.check_open()?;
        let tx = idb::transaction(&self.inner.db, &[KV], IdbTransactionMode::Readwrite)?;
        idb::req(idb::store(&tx, KV)?.delete(&JsValue::from_str(key)))?;
        idb::committed(&tx).await
    }

    /// The secret sent as `X-Recovery-Client`: 256 random bits, base64url,
    /// created on first use and kept. Read and created in one transaction, so
    /// two tabs starting together still agree on one secret.
    pub fn client_secret<'a>(&'a self) -> Boxed<'a, Result<String>> {
        Box::pin(self.client_secret_body())
    }

    async fn client_secret_body(&self) -> Result<String> {
        if let Some(s) = self.inner.client_secret.borrow().clone() {
            return Ok(s);
        }
        self.check_open()?;
        let fresh = model::base64url(&random_bytes::<32>()?);
        let tx = idb::transaction(&self.inner.db, &[KV], IdbTransactionMode::Readwrite)?;
        let kv = idb::store(&tx, KV)?;
        let key = JsValue::from_str(CLIENT_SECRET_KEY);
        let secret = match idb::request(idb::req(kv.get(&key))?).await?.as_string() {
            Some(existing) => existing,
            None => {
                idb::req(kv.put_with_key(&JsValue::from_str(&fresh), &key))?;
                fresh
            }
        };
        idb::committed(&tx).await?;
        *self.inner.client_secret.borrow_mut() = Some(secret.clone());
        Ok(secret)
    }
}

pub(super) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let crypto: web_sys::Crypto = js::global_object("crypto")
        .ok_or_else(|| ClientError::Invalid("crypto.getRandomValues is not available".into()))?
        .unchecked_into();
    let mut bytes = [0u8; N];
    crypto
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(|e| ClientError::Invalid(js::describe(&e)))?;
    Ok(bytes)
}
