# What `make run` and `make test` need from the machine, installed when it can be. Sourced, not
# run. `ensure_packages COMMAND:PACKAGE...` checks each command and collects the Debian packages
# of the missing ones; as root with apt-get it installs them, otherwise it stops naming the exact
# command to run. `ensure_geckodriver` installs geckodriver from crates.io when it is missing.

# The commands each entry point needs, with the Debian package that provides each.
# shellcheck disable=SC2034 # used by the scripts that source this file
RUN_PACKAGES=(java:openjdk-17-jre-headless curl:curl npm:npm python3:python3)
# What `make run` does better with but can do without: socat, nsenter and unshare keep DynamoDB
# Local on loopback (localstack/emulators.sh); espeak-ng speaks for the dev speech endpoint.
# shellcheck disable=SC2034
RUN_OPTIONAL_PACKAGES=(socat:socat nsenter:util-linux unshare:util-linux ip:iproute2
  espeak-ng:espeak-ng)
# `make test` needs all of them (it checks real speech, runs in a network namespace) and the
# browsers the client and the demo are tested in.
# shellcheck disable=SC2034
TEST_PACKAGES=("${RUN_PACKAGES[@]}" "${RUN_OPTIONAL_PACKAGES[@]}" chromium:chromium
  chromedriver:chromium-driver firefox-esr:firefox-esr)

ensure_packages() { # COMMAND:PACKAGE...
  local entry missing=() packages=()
  for entry in "$@"; do
    command -v "${entry%%:*}" >/dev/null 2>&1 && continue
    missing+=("${entry%%:*}")
    # One package may provide several commands (util-linux).
    [[ " ${packages[*]} " == *" ${entry#*:} "* ]] || packages+=("${entry#*:}")
  done
  [ ${#packages[@]} -gt 0 ] || return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing ${packages[*]} (for ${missing[*]})"
    apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null ||
      { echo "error: apt-get could not install ${packages[*]}" >&2; return 1; }
    return 0
  fi
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo "
  echo "error: missing ${missing[*]}. Install them, then run this again:" >&2
  echo "  ${sudo}apt-get install -y ${packages[*]}" >&2
  command -v apt-get >/dev/null 2>&1 ||
    echo "  (not a Debian system: install the equivalents of these Debian packages)" >&2
  return 1
}

# Like ensure_packages, but only a note when they cannot be installed.
want_packages() { # COMMAND:PACKAGE...
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    ensure_packages "$@" || echo "note: going on without them" >&2
  else
    ensure_packages "$@" 2>&1 | sed 's/^error: /note: /' >&2 || true
  fi
}

# WebDriver for Firefox, which the browser client's wasm tests use to drive firefox-esr.
ensure_geckodriver() {
  command -v geckodriver >/dev/null 2>&1 && return 0
  echo "==> installing geckodriver (cargo install geckodriver --locked)"
  cargo install geckodriver --locked
}
