//! The small key-value store of the Zustand adapter. The client secret is
//! not here (`secret.rs`): no key an app picks can reach it.

use wasm_bindgen::JsValue;
use web_sys::IdbTransactionMode;

use super::{Status, Store};
use crate::{
    error::{ClientError, Result},
    idb,
    prelude::*,
    schema::KV,
    text::concat,
};

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
            .with_quota_retry("", &|| {
                Box::pin(async move {
                    self.take_injected_failure()?;
                    let tx =
                        idb::transaction(&self.inner.db, &[KV], IdbTransactionMode::Readwrite)?;
                    idb::req(
                        idb::store(&tx, KV)?
                            .put_with_key(&JsValue::from_str(value), &JsValue::from_str(key)),
                    )?;
                    idb::committed(&tx).await
                })
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
}
