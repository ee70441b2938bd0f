# Sourced (not run) by scripts that need Python reference tools (PyTorch, transformers, TRL, gguf).
#
#   align_venv NAME   creates, once, a virtual environment from scripts/requirements/NAME.txt
#                     (pinned versions, the one place they are named) under
#                     ${ALIGN_CACHE:-~/.cache/align}/venv/NAME, and sets PY to its python.
#                     The environment is rebuilt when the requirements file changes.
# Failures name the step and stop the calling script (exit 2).
align_venv() {
  local name=$1
  local root; root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  local req="$root/scripts/requirements/$name.txt"
  [ -f "$req" ] || { echo "error: align_venv: no requirements file $req" >&2; exit 2; }
  local dir="${ALIGN_CACHE:-$HOME/.cache/align}/venv/$name"
  local want; want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ ! -x "$dir/bin/python" ] || [ "$(cat "$dir/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
    echo "setting up the Python environment '$name' in $dir from $req (once; this can take minutes)" >&2
    rm -rf "$dir"
    mkdir -p "$(dirname "$dir")"
    python3 -m venv "$dir" >&2 || { echo "error: align_venv $name: 'python3 -m venv $dir' failed (on Debian: apt-get install python3-venv)" >&2; exit 2; }
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2 \
      || { echo "error: align_venv $name: 'pip install -r $req' failed (see above)" >&2; rm -rf "$dir"; exit 2; }
    echo "$want" > "$dir/.requirements.sha256"
  fi
  PY="$dir/bin/python"
}
