#!/usr/bin/env bash
# Measures the client's size, speed and memory figures and writes them, with the date, the
# machine and the tools' versions, to docs/figures/client.md (and prints them; targets from
# client/README.md in brackets): package size after build.sh, then in headless
# Chromium and Firefox ESR the autosave, detect, chunk-write and memory benchmarks of tests/bench.rs
# and the browser's own floor under the write figures (the same writes in plain IndexedDB),
# built with the optimised wasm-release profile; with RECOVERY_BASE_URL set (a
# running gateway), the demo page's figures too. Figures, not pass/fail.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The browsers, as in test.sh: BENCH_BROWSERS ("chromium firefox").
select_browsers BENCH_BROWSERS

"$CLIENT_DIR/scripts/build.sh" >&2
wasm_gz=$(gzip -9c "$PKG_DIR/${WASM_NAME}_bg.wasm" | wc -c)
js_gz=$(gzip -9c "$PKG_DIR/${WASM_NAME}.js" | wc -c)
wasm_raw=$(wc -c <"$PKG_DIR/${WASM_NAME}_bg.wasm")

cd "$CLIENT_DIR"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
# The memory figure waits for the browser's own measurement (after a GC): up to ~20 s each.
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-300}
results=$(mktemp)
trap 'rm -f "$results"' EXIT

# One benchmark per browser session, so none runs beside another.
bench() {
    local browser=$1 name=$2
    in_browser "$browser" cargo test --manifest-path "$ROOT_DIR/Cargo.toml" -p "$CRATE" \
        --target wasm32-unknown-unknown --profile wasm-release --test bench \
        -- --nocapture "$name" 2>&1 | tee /dev/stderr | grep -E '^BENCH ' | sed "s/^BENCH /BENCH $browser:/" >>"$results"
}
for browser in "${browsers[@]}"; do
    for name in bench_autosave bench_detect bench_chunk bench_memory bench_indexeddb_floor; do
        say "running $name in $browser"
        bench "$browser" "$name" || die "$name failed in $browser"
    done
done

figures_md="$ROOT_DIR/docs/figures/client.md"
mkdir -p "$(dirname "$figures_md")"
report=$(mktemp)
trap 'rm -f "$results" "$report"' EXIT
{
    printf '%-44s %s\n' "figure" "measured [target]"
    printf '%-44s %s\n' "wasm + JS glue, gzip -9" "$((wasm_gz + js_gz)) B (wasm $wasm_gz B of $wasm_raw B raw, glue $js_gz B) [<= 70 KB]"
    for browser in "${browsers[@]}"; do
        value() { awk -F= -v k="BENCH $browser:$1" '$1 == k { print $2 }' "$results"; }
        printf '%s\n' "in $browser:"
        printf '%-44s %s\n' "autosave 10 KB text, call to saved, p95" "$(value autosave_10kb_p95_ms) ms (p50 $(value autosave_10kb_p50_ms) ms) [<= 5 ms]"
        printf '%-44s %s\n' "detect() with 20 stored sessions, p95" "$(value detect_20_sessions_p95_ms) ms (p50 $(value detect_20_sessions_p50_ms) ms) [<= 20 ms]"
        printf '%-44s %s\n' "open + detect() at start-up, 20 sessions, p95" "$(value open_and_detect_20_p95_ms) ms"
        printf '%-44s %s\n' "chunk writes, 64 KB chunks" "$(value chunk_write_64kb_mb_per_s) MB/s [>= 50 MB/s]"
        printf '%-44s %s\n' "chunk writes, 256 KB chunks" "$(value chunk_write_256kb_mb_per_s) MB/s"
        printf '%-44s %s\n' "JS heap + wasm growth, 1,000 autosaves" "$(value memory_growth_1000_autosaves_kb) KB (wasm alone $(value wasm_memory_growth_1000_autosaves_kb) KB; by $(value memory_method)) [<= 1 MB]"
        printf '%-44s %s\n' "floor: plain IndexedDB, 10 KB row read+put, p95" "$(value floor_row_10kb_p95_ms) ms (p50 $(value floor_row_10kb_p50_ms) ms), no client"
        printf '%-44s %s\n' "floor: plain IndexedDB, 64 KB part puts" "$(value floor_part_64kb_mb_per_s) MB/s, no client"
    done
} | tee "$report"

# The demo page's figures (banner after navigation start, generation time with
# the client on and off) need a running gateway that serves the demo (`make run`).
if [[ -n "${RECOVERY_BASE_URL:-}" ]]; then
    [[ -d "$ROOT_DIR/tests/browser/node_modules/playwright-core" ]] ||
        (cd "$ROOT_DIR/tests/browser" && npm ci --no-audit --no-fund)
    for browser in "${browsers[@]}"; do
        say "the demo page's figures in $browser against $RECOVERY_BASE_URL${DEMO_PATH:-/} (tests/browser/bench-page.mjs)"
        printf '\nthe demo page (%s) in %s:\n' "${DEMO_PATH:-/}" "$browser" >>"$report"
        E2E_BROWSER=$browser node "$ROOT_DIR/tests/browser/bench-page.mjs" | tee -a "$report"
    done
else
    say "RECOVERY_BASE_URL not set: skipping the demo page's figures (banner, generation on/off)"
fi

version() { "$@" 2>/dev/null | head -n 1 || echo "not found"; }
{
    echo "# Figures of the browser client"
    echo
    echo "Written by \`make bench-client\` (\`client/scripts/bench.sh\`); do not edit by hand. The targets"
    echo "and what each figure means: client/README.md, \"Figures\"."
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $(nproc) CPUs (\`nproc\`), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "- browsers: ${browsers[*]}"
    [[ " ${browsers[*]} " != *" chromium "* ]] || echo "- Chromium: $(version chromium --version)"
    [[ " ${browsers[*]} " != *" firefox "* ]] || echo "- Firefox: $(version firefox-esr --version)"
    echo "- rustc: $(version rustc --version)"
    echo "- wasm-bindgen: $(version wasm-bindgen --version)"
    echo "- wasm-opt: $(version "$WASM_OPT" --version)"
    echo "- esbuild: $(version "$CLIENT_DIR/node_modules/.bin/esbuild" --version)"
    echo "- node: $(version node --version)"
    echo
    echo '```text'
    cat "$report"
    echo '```'
} >"$figures_md"
say "written: $figures_md"
