# Sourced: pick_python [VAR...] prints a Python >= 3.12 interpreter (LocalStack needs it, and in
# 3.11 ast.parse in two threads at once can fail, which breaks hypothesis under schemathesis).
# The variables named first (e.g. LOCALSTACK_PYTHON) are tried before the usual names and pyenv.

recent_enough() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; }

pick_python() {
  local candidate name
  local candidates=()
  for name in "$@"; do candidates+=("${!name:-}"); done
  candidates+=(python3.13 python3.12 python3
    "$HOME/.pyenv/versions/3.13.0/bin/python" "$HOME/.pyenv/versions/3.12.1/bin/python")
  for candidate in "${candidates[@]}"; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 && recent_enough "$candidate"; then
      command -v "$candidate"; return 0
    fi
  done
  # pyenv may know another 3.12+ under a different patch version.
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.1[2-9]' | sort -rV); do
      echo "$(pyenv root)/versions/$candidate/bin/python"; return 0
    done
  fi
  return 1
}
