# Sourced (not run) by the check and benchmark scripts, from the repository root.
#
#   align_step WHAT CMD [ARGS…]   runs CMD with its stderr kept aside (stdout passes through); when
#                                 it fails, prints the last 40 lines of that stderr and
#                                 "error: step 'WHAT' failed (exit N)", and exits 2.
#   align_build_release           builds align in release mode (its output shown only when it
#                                 fails) and sets ALIGN to the binary's path.
align_step() {
  local what=$1; shift
  local log; log=$(mktemp)
  local rc=0
  "$@" 2>"$log" || rc=$?
  if [ "$rc" != 0 ]; then
    tail -n 40 "$log" >&2
    rm -f "$log"
    echo "error: step '$what' failed (exit $rc)" >&2
    exit 2
  fi
  rm -f "$log"
}

align_build_release() {
  echo "building align (release; the first build takes minutes)" >&2
  local log; log=$(mktemp)
  if ! swift build -c release --product align >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    rm -f "$log"
    echo "error: step 'swift build -c release --product align' failed (output above)" >&2
    exit 2
  fi
  rm -f "$log"
  ALIGN=$PWD/.build/release/align
}
