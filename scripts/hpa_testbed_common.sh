# Sourced (not run) by the scripts that work on a finished HPA testbed (hpa_overoptimization.sh,
# hpa_testbed_clean.sh), after they read their arguments: a failure names the stage; checks the
# testbed's SFT model and proxy reward model (TESTBED, default runs/hpa-testbed); builds align
# in release mode. Sets SFT, RM, ALIGN and D (the testbed's data) and defines stage.
SCRIPT=$(basename "$0")
STAGE="setup"
trap 'echo "$SCRIPT: FAILED at stage: $STAGE" >&2' ERR
stage() { STAGE="$*"; echo "== $* ($(date -u +%H:%M:%S))"; }
TESTBED=${TESTBED:-runs/hpa-testbed}
SFT="$PWD/$TESTBED/sft/final"; RM="$PWD/$TESTBED/rm/final"
for d in "$SFT" "$RM"; do
  [ -d "$d" ] || { echo "$SCRIPT: $d is missing: run bash scripts/hpa_testbed.sh first" >&2; exit 2; }
done
stage "build"
bash scripts/install-deps.sh
swift build -c release --product align 2>&1 | tail -n 1
ALIGN=.build/release/align
D=configs/hpa-testbed/data
