# Create .venv and install the project into it with the extras a command needs.
# Sourced by the scripts, with the extras (setup.cfg's extras_require) as its
# argument:
#   source scripts/venv.sh             # what running the server needs (run-demo)
#   source scripts/venv.sh test        # and the test tools (scripts/test)
#   source scripts/venv.sh test,bench  # and the benchmark client (scripts/bench)
# It installs again only when setup.cfg or pyproject.toml changed or an extra
# is missing: the stamp holds the hash of both files and the extras installed
# for it. Needs only Python 3.11+.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "Weiguang needs Python 3.11 or newer (found $("$PYTHON" --version))." >&2; exit 1; }
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=.venv/.weiguang-installed
want_hash=$(cat setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1)
have_hash="" have_extras=""
[ -f "$stamp" ] && read -r have_hash have_extras <"$stamp"
# Extras installed for the current files stay; after a change only the asked ones are current.
[ "$have_hash" = "$want_hash" ] || have_extras=""
extras=$(echo "${1:-},$have_extras" | tr ',' '\n' | sed '/^$/d' | sort -u | paste -sd, -)
if [ "$have_hash" != "$want_hash" ] || [ "$extras" != "$have_extras" ]; then
  echo "Installing Weiguang${extras:+ with $extras} into .venv ..."
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
  echo "$want_hash $extras" >"$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
