//! Test support: builds a database in the v1 layout, as the first release
//! left it, to exercise the upgrade.
use super::*;
use web_sys::IdbOpenDbRequest;

pub async fn create_v1_database(name: &str, rows: &[JsValue]) -> Result<()> {
    let factory: web_sys::IdbFactory =
        Reflect::get(&js_sys::global(), &JsValue::from_str("indexedDB"))
            .map_err(|e| ClientError::from_idb(&e))?
            .unchecked_into();
    let open: IdbOpenDbRequest = factory
        .open_with_u32(name, 1)
        .map_err(|e| ClientError::from_idb(&e))?;
    let for_upgrade = open.clone();
    let on_upgrade = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| {
        if let Ok(db) = for_upgrade.result() {
            let _ = crate::schema::create_v1(&db.unchecked_into());
        }
    });
    open.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let db: IdbDatabase = idb::request(open.clone().unchecked_into())
        .await?
        .unchecked_into();
    drop(on_upgrade);
    let tx = idb::transaction(&db, &[SESSIONS], IdbTransactionMode::Readwrite)?;
    let sessions = idb::store(&tx, SESSIONS)?;
    for row in rows {
        idb::req(sessions.put(row))?;
    }
    idb::committed(&tx).await?;
    db.close();
    Ok(())
}

pub async fn delete_database(name: &str) -> Result<()> {
    idb::delete_database(name).await
}
