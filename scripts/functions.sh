#!/usr/bin/env bash
# Prints the crate (and binary) of every function of template.yaml, one a line: the
# `Binary:` of each function's `Metadata.BuildProperties`. The builds (`make deploy-check`,
# `make measure`) take their `-p` lists from here, so template.yaml is the one list of the
# functions; infra/src/template/ reads the same entries, and its tests check that they name
# exactly the crates of functions/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
awk '
  /^[^ #]/ { in_resources = ($0 ~ /^Resources:/) }
  in_resources && /^      BuildProperties:/ { build = 1; next }
  build && /^        Binary:/ { print $2; build = 0; next }
  /^      [^ ]/ { build = 0 }
' "$root/template.yaml"
