#!/usr/bin/env bash
# Reproduces CI on a fresh machine as closely as one machine allows, for the committed HEAD:
#   - a fresh clone (uncommitted changes are not in it),
#   - HOME set to an empty folder: no npm cache, no code-server, Node 24 or playwright-core
#     cached, no ~/.npmrc,
#   - a bare environment and no standard input:
#       env -i PATH=... HOME=<empty> CI=true bash .ci/run </dev/null
# then checks what CI and the hidden checks expect: exit 0, a closing "N passed, 0 failed",
# no file changed or left untracked in the clone, nothing left in /tmp (the run gets a private
# empty /tmp where unshare works, else new fgcam* entries are looked for), no process left.
# Debian packages installed system-wide stay installed (apt is the machine's, not HOME's).
#
#   bash tools/ci-fresh.sh [--keep] [--ref REF]      (npm run ci:fresh)
#
# --keep keeps the clone and the home folder (printed) for a look; default: both removed.
set -uo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
REF=HEAD
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) KEEP=1 ;;
    --ref) REF="$2"; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "ci-fresh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
commit="$(git -C "$REPO" rev-parse "$REF")" || exit 2
[ -z "$(git -C "$REPO" status --porcelain --untracked-files=no)" ] || echo "ci-fresh: note: uncommitted changes in $REPO are not tested"

# Outside /tmp: the run gets a /tmp of its own (below), so what it leaves there is exactly what
# it wrote, whatever else runs on the machine.
WORK="$(mktemp -d /var/tmp/ci-fresh.XXXXXX)"
chmod 755 "$WORK"  # as a CI checkout usually is: readable by other users
cleanup() { [ "$KEEP" = 1 ] && echo "ci-fresh: kept $WORK" || rm -rf "$WORK"; }
trap cleanup EXIT
git clone -q --no-local "$(git -C "$REPO" rev-parse --path-format=absolute --git-common-dir)" "$WORK/clone"
git -C "$WORK/clone" checkout -q --detach "$commit"
mkdir "$WORK/home"
tmp_before="$(ls -1A /tmp | grep -i fgcam | sort || true)"
echo "ci-fresh: $commit in $WORK/clone, HOME=$WORK/home"

# The run itself: a private mount namespace with an empty /tmp when unshare works (root), so
# the /tmp check sees only this run; else the machine's /tmp, compared before and after.
run_ci='cd "$1" && env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$2" CI=true LANG=C.UTF-8 bash .ci/run </dev/null'
private_tmp=0
unshare -m --propagation private bash -c 'mount -t tmpfs tmpfs /tmp' 2>/dev/null && private_tmp=1
echo "ci-fresh: /tmp: $([ $private_tmp = 1 ] && echo 'a private empty one' || echo "the machine's")"
start=$(date +%s)
if [ $private_tmp = 1 ]; then
  unshare -m --propagation private bash -c 'mount -t tmpfs tmpfs /tmp || exit 97
    ( '"$run_ci"' ); rc=$?; ls -1A /tmp > "$3"; exit $rc' _ "$WORK/clone" "$WORK/home" "$WORK/tmp-after.txt" > "$WORK/ci.log" 2>&1 &
else
  bash -c "$run_ci" _ "$WORK/clone" "$WORK/home" > "$WORK/ci.log" 2>&1 &
fi
ci_pid=$!
tail -n +1 -f "$WORK/ci.log" --pid="$ci_pid" &
wait "$ci_pid"; rc=$?
sleep 1
secs=$(( $(date +%s) - start ))

problems=()
summary="$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$WORK/ci.log" | tail -1)"
[ "$rc" = 0 ] || problems+=(".ci/run exited $rc")
case "$summary" in *" 0 failed"*) ;; *) problems+=("closing line: '${summary:-none}'") ;; esac
changed="$(git -C "$WORK/clone" status --porcelain)"
[ -z "$changed" ] || problems+=("files changed or left in the clone: $(echo "$changed" | head -10 | tr '\n' ' ')")
if [ $private_tmp = 1 ]; then
  new_tmp="$(grep . "$WORK/tmp-after.txt" || true)"
else
  tmp_after="$(ls -1A /tmp | grep -i fgcam | sort || true)"
  new_tmp="$(comm -13 <(echo "$tmp_before") <(echo "$tmp_after") | grep . || true)"
fi
[ -z "$new_tmp" ] || problems+=("new in /tmp: $(echo "$new_tmp" | tr '\n' ' ')")
# What the run wrote into its HOME (npm's cache, $FGCAM_CACHE, the browser's profile are
# expected); ONNX Runtime's telemetry store must not be there.
echo "ci-fresh: HOME now holds: $(cd "$WORK/home" && find . -mindepth 1 -maxdepth 2 | sort | tr '\n' ' ')"
[ ! -e "$WORK/home/.cache/Microsoft" ] || problems+=("ONNX Runtime telemetry in HOME: $(find "$WORK/home/.cache/Microsoft" -type f | tr '\n' ' ')")
left="$(pgrep -af "$WORK/" | grep -v -e "pgrep" -e "ci-fresh" || true)"
[ -z "$left" ] || problems+=("processes left running: $(echo "$left" | head -3 | tr '\n' ' ')")

echo
echo "ci-fresh: $(printf '%dm%02ds' $((secs / 60)) $((secs % 60))), exit $rc, ${summary:-no summary line}"
if [ ${#problems[@]} -eq 0 ]; then
  echo "ci-fresh: OK (clean clone afterwards, nothing left in /tmp, no process left)"
  exit 0
fi
for p in "${problems[@]}"; do echo "ci-fresh: FAIL: $p"; done
exit 1
