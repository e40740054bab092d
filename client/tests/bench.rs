//! Benchmarks in headless Chromium, run by `client/scripts/bench.sh` (not
//! part of the test suite: figures, not pass/fail). Each prints one
//! `BENCH name=value` line.

#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chatterbox_recovery_client::{OpenOptions, Status, StatusEvent, Store};
use common::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn now() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    reason = "a rank among a few hundred samples"
)]
fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

fn text_of(len: usize, seed: usize) -> String {
    let words = [
        "speech ",
        "synthesis ",
        "recovers ",
        "every ",
        "word ",
        "typed ",
    ];
    let mut text = String::with_capacity(len + 16);
    let mut n = seed;
    while text.len() < len {
        text.push_str(words[n % words.len()]);
        n += 1;
    }
    text.truncate(len);
    text
}

/// Resolves at the next `saved` status of `store`.
fn next_saved(store: &Store) -> (js_sys::Promise, u32) {
    let (mut resolve_fn, mut promise) = (None, None);
    promise.replace(js_sys::Promise::new(&mut |resolve, _| {
        resolve_fn = Some(resolve);
    }));
    let resolve = resolve_fn.unwrap();
    let id = store.on_status(std::rc::Rc::new(move |e: &StatusEvent| {
        if e.status == Status::Saved {
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
        }
    }));
    (promise.unwrap(), id)
}

/// One autosave as an app makes it: handed over, written by the store on its
/// own, until `saved` says it is committed.
async fn autosave_cycle(store: &Store, text: &str) -> f64 {
    let (saved, listener) = next_saved(store);
    let start = now();
    store.autosave(input("s1", text));
    wasm_bindgen_futures::JsFuture::from(saved).await.unwrap();
    let took = now() - start;
    store.off_status(listener);
    took
}

#[wasm_bindgen_test]
async fn bench_autosave_of_a_10kb_session() {
    let store = open(&unique_db("bench-autosave"), "tab-bench").await;
    let mut samples = Vec::new();
    for i in 0..220 {
        let took = autosave_cycle(&store, &text_of(10 * 1024, i)).await;
        if i >= 20 {
            samples.push(took);
        }
    }
    let p50 = percentile(&mut samples, 50.0);
    let p95 = percentile(&mut samples, 95.0);
    console_log!("BENCH autosave_10kb_p50_ms={p50:.2}");
    console_log!("BENCH autosave_10kb_p95_ms={p95:.2}");
}

/// Memory in use, in bytes: `performance.measureUserAgentSpecificMemory()`
/// where the page is cross-origin isolated (the browser measures after a
/// garbage collection), else Chromium's `performance.memory` after `gc()`
/// when exposed; plus the wasm memory.
async fn memory_in_use() -> f64 {
    let measure = js_sys::Function::new_no_args(
        "return (async () => {
           if (globalThis.crossOriginIsolated && performance.measureUserAgentSpecificMemory) {
             return (await performance.measureUserAgentSpecificMemory()).bytes;
           }
           globalThis.gc?.();
           return performance.memory?.usedJSHeapSize ?? 0;
         })();",
    );
    let promise: js_sys::Promise = measure.call0(&wasm_bindgen::JsValue::NULL).unwrap().into();
    let bytes = wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
    bytes.as_f64().unwrap() + wasm_memory()
}

fn wasm_memory() -> f64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    f64::from(js_sys::ArrayBuffer::from(memory.buffer()).byte_length())
}

#[wasm_bindgen_test]
async fn bench_memory_over_1000_autosave_cycles() {
    let store = open(&unique_db("bench-memory"), "tab-bench").await;
    for i in 0..50 {
        autosave_cycle(&store, &text_of(10 * 1024, i)).await;
    }
    sleep(200).await;
    let (heap_before, wasm_before) = (memory_in_use().await, wasm_memory());
    for i in 0..1000 {
        autosave_cycle(&store, &text_of(10 * 1024, i)).await;
    }
    sleep(200).await;
    let (heap_after, wasm_after) = (memory_in_use().await, wasm_memory());
    let how = js_sys::eval(
        "globalThis.crossOriginIsolated && performance.measureUserAgentSpecificMemory ? 'measureUserAgentSpecificMemory' : performance.memory ? 'usedJSHeapSize' : 'the wasm memory alone (this browser measures no JS heap)'",
    )
    .unwrap()
    .as_string()
    .unwrap();
    console_log!("BENCH memory_method={how}");
    console_log!(
        "BENCH memory_growth_1000_autosaves_kb={:.0}",
        (heap_after - heap_before) / 1024.0
    );
    console_log!(
        "BENCH wasm_memory_growth_1000_autosaves_kb={:.0}",
        (wasm_after - wasm_before) / 1024.0
    );
}

#[wasm_bindgen_test]
async fn bench_detect_with_20_stored_sessions() {
    let db = unique_db("bench-detect");
    // 20 sessions left by a killed tab, each with text and some audio.
    let ghost = open(&db, "tab-ghost").await;
    for n in 0..20 {
        let id = format!("s{n}");
        ghost
            .save(input(&id, &text_of(10 * 1024, n)))
            .await
            .unwrap();
        for index in 0..3 {
            ghost
                .append_chunk(&id, index, bytes(1, 16 * 1024), "audio/wav")
                .await
                .unwrap();
        }
    }
    ghost.abandon().await;

    let store = open(&db, "tab-bench").await;
    let mut samples = Vec::new();
    for i in 0..60 {
        let start = now();
        let found = store.detect().await.unwrap();
        if i >= 10 {
            samples.push(now() - start);
        }
        assert_eq!(found.len(), 20);
    }
    console_log!(
        "BENCH detect_20_sessions_p50_ms={:.2}",
        percentile(&mut samples, 50.0)
    );
    console_log!(
        "BENCH detect_20_sessions_p95_ms={:.2}",
        percentile(&mut samples, 95.0)
    );
    store.close().await.unwrap();

    // Start-up as an app sees it: open (schema check, lock, retention) + detect.
    let mut startup = Vec::new();
    for i in 0..30 {
        let start = now();
        let s = Store::open(options(&db, &format!("tab-start-{i}")))
            .await
            .unwrap();
        let found = s.detect().await.unwrap();
        startup.push(now() - start);
        assert_eq!(found.len(), 20);
        s.close().await.unwrap();
    }
    console_log!(
        "BENCH open_and_detect_20_p95_ms={:.2}",
        percentile(&mut startup, 95.0)
    );
}

#[wasm_bindgen_test]
async fn bench_chunk_writes() {
    let store = Store::open(OpenOptions {
        ..options(&unique_db("bench-chunks"), "tab-bench")
    })
    .await
    .unwrap();
    store.save(input("s1", "audio")).await.unwrap();
    for (label, chunk_kb, count) in [("64kb", 64usize, 320u32), ("256kb", 256, 80)] {
        let buffers: Vec<_> = (0..count)
            .map(|i| bytes(i.to_le_bytes()[0], chunk_kb * 1024))
            .collect();
        let id = format!("s-{label}");
        let start = now();
        for (index, buffer) in buffers.into_iter().enumerate() {
            let out = store
                .append_chunk(&id, u32::try_from(index).unwrap(), buffer, "audio/wav")
                .await
                .unwrap();
            assert!(out.stored);
        }
        let seconds = (now() - start) / 1000.0;
        let mb = f64::from(u32::try_from(chunk_kb).unwrap() * count) / 1024.0;
        console_log!("BENCH chunk_write_{label}_mb_per_s={:.1}", mb / seconds);
    }
}

/// The browser's own floor under the two write figures: the same work in
/// plain JavaScript, with no client at all. A 10 KB session row read and
/// rewritten in one read-write transaction (as an autosave does: the row is
/// read for its revision), awaited to its `complete`, 200 times after 20 of
/// warm-up; and 320 parts of 64 KB, each put in its own transaction. What
/// the client adds is the difference.
#[wasm_bindgen_test]
async fn bench_indexeddb_floor() {
    let run = js_sys::Function::new_with_args(
        "name",
        "return (async () => {
           const db = await new Promise((resolve, reject) => {
             const open = indexedDB.open(name, 1);
             open.onupgradeneeded = () => {
               open.result.createObjectStore('rows', { keyPath: 'id' });
               open.result.createObjectStore('parts', { keyPath: ['id', 'index'] });
             };
             open.onsuccess = () => resolve(open.result);
             open.onerror = () => reject(open.error);
           });
           const done = (tx) => new Promise((resolve, reject) => {
             tx.oncomplete = resolve;
             tx.onerror = tx.onabort = () => reject(tx.error);
           });
           const words = 'speech synthesis recovers every word typed ';
           const samples = [];
           for (let i = 0; i < 220; i++) {
             const text = (String(i) + words.repeat(250)).slice(0, 10240);
             const start = performance.now();
             const tx = db.transaction(['rows'], 'readwrite');
             const rows = tx.objectStore('rows');
             rows.get('s1').onsuccess = (e) => {
               const revision = (e.target.result?.revision ?? 0) + 1;
               rows.put({ id: 's1', text, voiceId: 'v', params: null, revision, updatedAt: Date.now() });
             };
             await done(tx);
             if (i >= 20) samples.push(performance.now() - start);
           }
           samples.sort((a, b) => a - b);
           const at = (p) => samples[Math.ceil((p / 100) * samples.length) - 1];
           const start = performance.now();
           for (let i = 0; i < 320; i++) {
             const tx = db.transaction(['parts'], 'readwrite');
             tx.objectStore('parts').put({ id: 's-64kb', index: i, mime: 'audio/wav', bytes: new Uint8Array(65536).fill(i & 255).buffer });
             await done(tx);
           }
           const mbPerS = 20 / ((performance.now() - start) / 1000);
           db.close();
           return [at(50), at(95), mbPerS];
         })();",
    );
    let promise: js_sys::Promise = run
        .call1(
            &wasm_bindgen::JsValue::NULL,
            &unique_db("bench-floor").into(),
        )
        .unwrap()
        .into();
    let figures: js_sys::Array = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .unwrap()
        .into();
    let figure = |i| figures.get(i).as_f64().unwrap();
    console_log!("BENCH floor_row_10kb_p50_ms={:.2}", figure(0));
    console_log!("BENCH floor_row_10kb_p95_ms={:.2}", figure(1));
    console_log!("BENCH floor_part_64kb_mb_per_s={:.1}", figure(2));
}
