#!/bin/bash
# Run the OCI runtime-tools validation programs (an already-built tree, see
# docs/conformance.md) against one or more runtimes and print TAP counts.
#
#   scripts/conformance.sh RUNTIME_TOOLS_DIR [RUNTIME ...]
#
# RUNTIME is a path or a name on PATH; default: this repository's bin/brig-runtime, then runc.
# Environment:
#   CONFORMANCE_OUT      where the TAP output goes, one directory per runtime (default /tmp/conformance)
#   CONFORMANCE_TIMEOUT  seconds each program may take before it is killed (default 300)
#   CONFORMANCE_ONLY     an extended regex; only programs whose name matches run
#   CONFORMANCE_KEEP=1   run the runtime through a wrapper that logs every invocation
#                        (argv, exit code, stderr) and keeps each container's config.json and
#                        stdout/stderr files, under <out>/<runtime>/<program>.keep/
# Needs jq. Must run as root. Programs run one at a time, from RUNTIME_TOOLS_DIR (they read
# rootfs-<arch>.tar.gz and runtimetest from their working directory).
set -u

tools=${1:?usage: conformance.sh RUNTIME_TOOLS_DIR [RUNTIME ...]}
tools=$(cd "$tools" && pwd) || exit 2
shift
repo=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- "$repo/bin/brig-runtime" runc
out=${CONFORMANCE_OUT:-/tmp/conformance}
limit=${CONFORMANCE_TIMEOUT:-300}

[ -x "$tools/runtimetest" ] || { echo "conformance: no $tools/runtimetest; build the suite first" >&2; exit 2; }
mapfile -t programs < <(cd "$tools" && find validation -name '*.t' -type f | sort | grep -E "${CONFORMANCE_ONLY:-.}")
[ ${#programs[@]} -gt 0 ] || { echo "conformance: no validation/*/*.t programs in $tools" >&2; exit 2; }

# The wrapper for CONFORMANCE_KEEP: the suite removes its bundles, this keeps what they held.
write_wrapper() { # real-runtime wrapper-path
  cat > "$2" <<EOF
#!/bin/bash
real='$1'
EOF
  cat >> "$2" <<'EOF'
keep=${CONFORMANCE_KEEP_DIR:?}
verb=$1 id=${!#} bundle=. prev=
for a; do [ "$prev" = --bundle ] || [ "$prev" = -b ] && bundle=$a; prev=$a; done
if [ "$verb" = create ]; then
  # The container inherits this process's stdio (the suite's files in the bundle): leave it alone.
  mkdir -p "$keep/$id" && cp "$bundle/config.json" "$keep/$id/" && (cd "$bundle" && pwd) > "$keep/$id/bundle"
  "$real" "$@"; rc=$?
  printf '%s rc=%s\n' "$*" "$rc" >> "$keep/invocations.log"
  exit $rc
fi
if [ "$verb" = delete ] && [ -f "$keep/$id/bundle" ]; then
  cp "$(cat "$keep/$id/bundle")"/std* "$keep/$id/" 2>/dev/null
fi
err=$(mktemp)
"$real" "$@" 2> "$err"; rc=$?
printf '%s rc=%s\n' "$*" "$rc" >> "$keep/invocations.log"
sed 's/^/    stderr: /' "$err" >> "$keep/invocations.log"
cat "$err" >&2; rm -f "$err"
exit $rc
EOF
  chmod +x "$2"
}

# Containers whose bundle is one of the suite's temporary ones; a program that exits early
# (util.Fatal) leaves its container, and its cgroups would then meet the next program.
suite_containers() { "$1" list --format json 2>/dev/null | jq -r '.[]? | select(.bundle | test("/ocitest[0-9]+$")) | .id'; }
suite_mounts() { awk '$5 ~ /\/ocitest/ { print $5 }' /proc/self/mountinfo; }

for rt in "$@"; do
  real=$(command -v "$rt") || { echo "conformance: runtime $rt not found" >&2; exit 2; }
  real="$(cd "$(dirname "$real")" && pwd)/$(basename "$real")"  # the programs run elsewhere
  name=$(basename "$rt")
  dir="$out/$name"
  rm -rf "$dir" && mkdir -p "$dir"
  runtime=$real
  if [ "${CONFORMANCE_KEEP:-}" = 1 ]; then runtime="$dir/runtime-wrapper"; write_wrapper "$real" "$runtime"; fi
  echo "== $name ($real), output in $dir"
  before=$(suite_mounts)
  total_pass=0 total_fail=0 total_skip=0 total_todo=0 crashed=0
  for prog in "${programs[@]}"; do
    p=$(basename "$prog" .t)
    tap="$dir/$p.tap"
    mkdir -p "$dir/$p.keep"
    (cd "$tools" && RUNTIME=$runtime CONFORMANCE_KEEP_DIR="$dir/$p.keep" PATH="$tools:$PATH" \
      timeout -k 10 "$limit" "./$prog") > "$tap" 2> "$dir/$p.stderr" < /dev/null
    rc=$?
    [ "${CONFORMANCE_KEEP:-}" = 1 ] || rmdir "$dir/$p.keep"
    left=$(suite_containers "$real")
    for id in $left; do "$real" delete --force "$id" >/dev/null 2>&1; done
    # Only unindented result lines count: nested runtimetest output sits in indented YAML.
    pass=$(grep -Ec '^ok [0-9]+( -|$)' "$tap")
    skip=$(grep -Ec '^ok [0-9]+ # SKIP' "$tap")
    todo=$(grep -Ec '^(not )?ok [0-9]+ # TODO' "$tap")
    fail=$(grep -Ec '^not ok [0-9]+( -|$)' "$tap")
    # Some programs print several TAP documents (a header and plan each): their plans add up.
    plan=$(awk '/^1\.\.[0-9]+/ { n += substr($1, 4); p = 1 } END { if (p) print n }' "$tap")
    ran=$(grep -Ec '^(not )?ok [0-9]+' "$tap")
    why= note=
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then why="timed out after ${limit}s"
    elif [ $rc -ne 0 ]; then why="exit $rc"
    # The *_fail programs expect create to fail: they print nothing then, and exit 1 if it did not.
    elif [ ! -s "$tap" ]; then pass=1 note="  (no output, exit 0: passed)"
    elif [ -z "$plan" ]; then why="no TAP plan"
    elif [ "$plan" -ne "$ran" ]; then why="planned $plan, ran $ran"
    elif [ "$ran" -eq 0 ] && grep -q '^    "error": ' "$tap"; then why="no test ran, error reported"
    fi
    line=$(printf '%-40s %4d passed %4d failed %3d skipped %3d todo%s' "$p" "$pass" "$fail" "$skip" "$todo" "$note")
    if [ -n "$why" ]; then
      crashed=$((crashed + 1))
      last=$(grep -v '^$' "$dir/$p.stderr" | tail -1)
      [ -n "$last" ] || last=$(grep -m1 '^    "error": ' "$tap" | sed 's/^ *"error": //')
      line="$line  CRASHED ($why): $(printf '%s' "$last" | cut -c1-160)"
    fi
    [ -z "$left" ] || line="$line  (left container(s) $(echo $left), deleted)"
    echo "$line" | tee -a "$dir/summary.txt"
    total_pass=$((total_pass + pass)) total_fail=$((total_fail + fail))
    total_skip=$((total_skip + skip)) total_todo=$((total_todo + todo))
  done
  left=$(suite_mounts | grep -vxFf <(printf '%s\n' "$before"))
  [ -z "$left" ] || echo "$name: warning: mounts left on the host under the suite's bundles: $(echo $left)" | tee -a "$dir/summary.txt"
  echo "$name: $total_pass passed, $total_fail failed, $crashed programs crashed (of ${#programs[@]}); $total_skip skipped, $total_todo todo" | tee -a "$dir/summary.txt"
done
