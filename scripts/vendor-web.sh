#!/usr/bin/env bash
# Copy the pinned browser libraries into web/vendor/ so that the PWA runs with
# no build step.
#
# The versions come from package.json and are verified against
# package-lock.json: the install runs `npm ci` in a scratch folder, so the
# repository's own node_modules is neither needed nor touched. Running the
# script twice gives byte-identical files (VERSIONS carries no date).
#
# Usage: bash scripts/vendor-web.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vendor="$root/web/vendor"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

cp "$root/package.json" "$root/package-lock.json" "$scratch/"
(cd "$scratch" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
modules="$scratch/node_modules"

version_of() {
  node -e 'console.log(require(process.argv[1]).version)' "$modules/$1/package.json"
}

# copy_lib NAME DEST FILE... : copy FILEs (paths inside the package) and the
# package's licence (LICENSE, or LICENSE.md as uuid names it) into
# web/vendor/DEST/ as LICENSE.
copy_lib() {
  local name="$1" dest="$2"
  shift 2
  rm -rf "${vendor:?}/$dest"
  mkdir -p "$vendor/$dest"
  local file
  for file in "$@"; do
    cp "$modules/$name/$file" "$vendor/$dest/"
  done
  local licence="$modules/$name/LICENSE"
  [[ -f "$licence" ]] || licence="$modules/$name/LICENSE.md"
  cp "$licence" "$vendor/$dest/LICENSE"
}

# idb 8.0.x ships one self-contained ESM file (older releases split out
# wrap-idb-value.js; copy it too if a pinned version has it).
idb_files=(build/index.js)
if [[ -f "$modules/idb/build/wrap-idb-value.js" ]]; then
  idb_files+=(build/wrap-idb-value.js)
fi
copy_lib idb idb "${idb_files[@]}"
# The official client's browser ESM bundle; its source map keeps devtools
# from fetching a missing file.
copy_lib socket.io-client socket.io dist/socket.io.esm.min.js dist/socket.io.esm.min.js.map
# uPlot (the progress screen's chart over the day): small, dependency-free,
# canvas-drawn, MIT; its ESM build and its stylesheet.
copy_lib uplot uplot dist/uPlot.esm.js dist/uPlot.min.css
# The gate's QR decoder where the browser has no BarcodeDetector: one UMD
# file that, loaded as a module, defines self.jsQR (web/app/gate/camera.js).
copy_lib jsqr jsqr dist/jsQR.js
# Time-ordered record and changeset ids (UUID version 7, web/app/ids.js): the
# browser ESM build of v7 and the four modules it imports, no build step.
copy_lib uuid uuid dist/v7.js dist/rng.js dist/stringify.js dist/validate.js dist/regex.js

{
  echo "# Vendored browser libraries"
  echo
  echo "Written by scripts/vendor-web.sh from the versions pinned in package.json"
  echo "(verified by package-lock.json). Do not edit these files by hand: change"
  echo "the pin, run \`npm install\`, then run the script again."
  echo
  echo "| package | folder | files (sha256) |"
  echo "| --- | --- | --- |"
  for pair in "idb:idb" "socket.io-client:socket.io" "uplot:uplot" "jsqr:jsqr" "uuid:uuid"; do
    name="${pair%%:*}"
    dest="${pair##*:}"
    files=""
    for f in $(cd "$vendor/$dest" && ls | sort); do
      sum="$(sha256sum "$vendor/$dest/$f" | cut -c1-16)"
      files="$files\`$f\` ($sum…) "
    done
    echo "| $name@$(version_of "$name") | \`$dest/\` | $files|"
  done
} >"$vendor/README.md"

for pair in "idb" "socket.io-client" "uplot" "jsqr" "uuid"; do
  echo "$pair@$(version_of "$pair")"
done >"$vendor/VERSIONS"

echo "vendored into $vendor:"
cat "$vendor/VERSIONS"
