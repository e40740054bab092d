# Shared by build.sh, test.sh and bench.sh: paths and tool checks.
# Sourced, not run.

CLIENT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT_DIR=$(cd "$CLIENT_DIR/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT_DIR/target}
PKG_DIR=$CLIENT_DIR/pkg
CRATE=chatterbox-recovery-client
WASM_NAME=chatterbox_recovery_client

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The version of the wasm-bindgen crate the lock file resolved; the CLI must
# match it exactly or the generated glue does not fit the wasm.
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT_DIR/Cargo.lock"
}

ensure_wasm_target() {
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        say "adding rust target wasm32-unknown-unknown"
        rustup target add wasm32-unknown-unknown
    fi
}

ensure_wasm_bindgen() {
    local want have
    if [[ ! -f "$ROOT_DIR/Cargo.lock" ]]; then
        (cd "$ROOT_DIR" && cargo generate-lockfile)
    fi
    want=$(wasm_bindgen_version)
    [[ -n "$want" ]] || die "wasm-bindgen not found in Cargo.lock"
    have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
    if [[ "$have" != "$want" ]]; then
        say "installing wasm-bindgen-cli $want (found: ${have:-none})"
        # --locked first for a reproducible tool; the registry may lack a
        # pinned transitive version, then let cargo resolve.
        cargo install wasm-bindgen-cli --version "$want" --locked ||
            cargo install wasm-bindgen-cli --version "$want"
    fi
}

require_cmd() {
    local cmd=$1 pkg=$2
    command -v "$cmd" >/dev/null 2>&1 ||
        die "$cmd not found: install the Debian package '$pkg' (apt-get install -y $pkg)"
}

# The browsers the wasm tests run in, from the variable named $1 ("chromium firefox" when unset),
# each checked for its browser and WebDriver: sets `browsers`, GECKODRIVER and CHROMEDRIVER.
select_browsers() {
    local var=$1 browser
    read -r -a browsers <<<"${!var:-chromium firefox}"
    for browser in "${browsers[@]}"; do
        case $browser in
            chromium)
                require_cmd chromium chromium
                require_cmd chromedriver chromium-driver
                ;;
            firefox)
                require_cmd firefox-esr firefox-esr
                GECKODRIVER=${GECKODRIVER:-$(command -v geckodriver || echo "$HOME/.cargo/bin/geckodriver")}
                [[ -x $GECKODRIVER ]] ||
                    die "geckodriver not found: cargo install geckodriver --locked (or set GECKODRIVER)"
                ;;
            *) die "$var: unknown browser '$browser' (chromium, firefox)" ;;
        esac
    done
    CHROMEDRIVER=${CHROMEDRIVER:-$(command -v chromedriver || true)}
}

# in_browser BROWSER COMMAND...: runs COMMAND (a `cargo test` of a wasm target) in that browser:
# wasm-bindgen-test-runner picks it by the driver variable that is set, geckodriver first.
in_browser() {
    local browser=$1
    shift
    if [[ $browser == firefox ]]; then
        env -u CHROMEDRIVER GECKODRIVER="$GECKODRIVER" "$@"
    else
        env -u GECKODRIVER CHROMEDRIVER="$CHROMEDRIVER" "$@"
    fi
}

ensure_npm_deps() {
    require_cmd npm npm
    if [[ ! -x "$CLIENT_DIR/node_modules/.bin/tsc" || ! -x "$CLIENT_DIR/node_modules/.bin/esbuild" ]]; then
        say "installing npm dev dependencies (typescript, binaryen, esbuild)"
        (cd "$CLIENT_DIR" && npm ci --no-audit --no-fund)
    fi
    # React's and Zustand's types, which client/ts/ compiles against (build-js.sh): in client/ts/,
    # off the path an app that links the package resolves the package's imports on (ts/package.json).
    if [[ ! -f "$CLIENT_DIR/ts/node_modules/@types/react/package.json" || ! -f "$CLIENT_DIR/ts/node_modules/zustand/package.json" ]]; then
        say "installing the types client/ts/ compiles against (@types/react, zustand)"
        (cd "$CLIENT_DIR/ts" && npm ci --no-audit --no-fund)
    fi
}

# wasm-opt from the npm package `binaryen` (pinned in package-lock.json):
# Debian 12's binaryen 108 cannot parse what wasm-bindgen emits for
# reference types (table.fill).
WASM_OPT=$CLIENT_DIR/node_modules/.bin/wasm-opt
WASM_DIS=$CLIENT_DIR/node_modules/.bin/wasm-dis
WASM_AS=$CLIENT_DIR/node_modules/.bin/wasm-as
# The features rustc enables by default for wasm32; stated, not detected,
# because wasm-bindgen drops the target_features section.
WASM_OPT_FEATURES=(
    --enable-bulk-memory
    --enable-nontrapping-float-to-int
    --enable-sign-ext
    --enable-mutable-globals
    --enable-reference-types
    --enable-multivalue
)
