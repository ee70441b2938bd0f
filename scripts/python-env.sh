# Sourced (not run) by scripts that need Python reference tools (PyTorch, transformers, TRL, gguf).
#
#   align_venv NAME   creates, once, a virtual environment from scripts/requirements/NAME.txt
#                     (pinned versions, the one place they are named) under
#                     ${ALIGN_CACHE:-~/.cache/align}/venv/NAME, and sets PY to its python.
#                     The environment is rebuilt when the requirements file, or one it includes
#                     with `-r FILE`, changes.
# Failures name the step and stop the calling script (exit 2).
# To run one Python script in an environment by hand: bash scripts/run-python.sh NAME SCRIPT [ARGS…]

# The requirements file and every file it includes (-r/--requirement/-c/--constraint), recursively.
_align_requirement_files() {
  local file=$1 dir line inc
  dir=$(dirname "$file")
  echo "$file"
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      -r\ *|--requirement\ *|--requirement=*|-c\ *|--constraint\ *|--constraint=*)
        inc=${line#*[ =]}; inc=${inc#"${inc%%[![:space:]]*}"}; inc=${inc%%[[:space:]]*}
        [ "${inc#/}" = "$inc" ] && inc="$dir/$inc"
        _align_requirement_files "$inc" ;;
    esac
  done < "$file"
}

align_venv() {
  local name=$1
  local root; root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  local req="$root/scripts/requirements/$name.txt"
  [ -f "$req" ] || { echo "error: align_venv: no requirements file $req" >&2; exit 2; }
  command -v python3 >/dev/null || { echo "error: align_venv $name: no python3 on PATH (on Debian: apt-get install python3 python3-venv)" >&2; exit 2; }
  local dir="${ALIGN_CACHE:-$HOME/.cache/align}/venv/$name"
  local -a files; mapfile -t files < <(_align_requirement_files "$req" 2>/dev/null)
  local f; for f in "${files[@]}"; do
    [ -f "$f" ] || { echo "error: align_venv $name: $req includes $f, which does not exist" >&2; exit 2; }
  done
  local want; want=$( (python3 -c 'import sys; print(sys.version)'; cat "${files[@]}") | sha256sum | cut -d' ' -f1)
  if [ ! -x "$dir/bin/python" ] || [ "$(cat "$dir/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
    echo "setting up the Python environment '$name' in $dir from $req (once; this can take minutes)" >&2
    rm -rf "$dir"
    mkdir -p "$(dirname "$dir")"
    python3 -m venv "$dir" >&2 || { echo "error: align_venv $name: 'python3 -m venv $dir' failed (on Debian: apt-get install python3-venv)" >&2; rm -rf "$dir"; exit 2; }
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" >&2 \
      || { echo "error: align_venv $name: 'pip install -r $req' failed (see above)" >&2; rm -rf "$dir"; exit 2; }
    echo "$want" > "$dir/.requirements.sha256"
  fi
  PY="$dir/bin/python"
}
