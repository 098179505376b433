#!/usr/bin/env bash
# Creates the Python environment of tests/python/run.sh: a venv at target/pyenv (inside the
# repository, so nothing global is touched) with the exact pins of tests/python/requirements.txt
# (OpenTelemetry SDK + OTLP/gRPC exporter, the OpenAI instrumentations, the openai client and
# Arize Phoenix). Skips the install when the venv already holds this requirements file.
#
#   bash tests/python/ci-setup.sh          # PYTHON=/path/to/python3.11 to choose the interpreter
set -euo pipefail
cd "$(dirname "$0")/../.."
req=tests/python/requirements.txt
venv=${PEEKR_PYENV:-target/pyenv}
start=$(date +%s)

# arize-phoenix 20.26.1 supports CPython 3.11 to 3.14.
supported() { "$1" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 15) else 1)' 2>/dev/null; }
python=""
for candidate in ${PYTHON:-} python3 python3.11 python3.12 python3.13 python3.14; do
  if command -v "$candidate" >/dev/null 2>&1 && supported "$candidate"; then
    python=$candidate
    break
  fi
done
if [ -z "$python" ]; then
  echo "error: no Python 3.11-3.14 found (set PYTHON=...)" >&2
  exit 1
fi

stamp="$venv/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "python env: $venv is up to date ($($venv/bin/python --version))"
  exit 0
fi

echo "python env: creating $venv with $python ($("$python" --version))"
rm -rf "$venv"
"$python" -m venv "$venv"
# Bounded: a stuck index must fail the step, not eat CI's 90 minutes.
timeout 600 "$venv/bin/pip" install --disable-pip-version-check --no-input --quiet --timeout 60 -r "$req"
"$venv/bin/pip" check
echo "$want" > "$stamp"
echo "python env: installed in $(( $(date +%s) - start )) s, $(du -sh "$venv" | cut -f1) on disk"
