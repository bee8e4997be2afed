#!/usr/bin/env bash
# Builds the Python 2.7 virtualenv that Autobahn|Testsuite (wstest) needs, in .build-autobahn/venv.
# The suite runs only under Python 2.7; its dependencies are pinned to the last releases that
# still support 2.7 (autobahntestsuite 0.8.2's setup.py asks for autobahn==0.10.9, txaio<=2.1.0).
# wsaccel is autobahn's C masking and UTF-8 check (its "accelerate" extra): without it the
# suite's large cases (9.*, 12.*, 13.*) take many minutes in pure Python.
# Safe to run again: a venv whose wstest already runs is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build-autobahn/venv
if [ -x "$venv/bin/wstest" ] && "$venv/bin/python" -c "import autobahntestsuite, wsaccel" 2>/dev/null; then
    exit 0
fi
py27=""
for candidate in "${PY27:-}" "$HOME/.pyenv/versions/2.7.18/bin/python" "$(command -v python2.7 || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then py27=$candidate; break; fi
done
if [ -z "$py27" ]; then
    echo "autobahn: no Python 2.7 (set PY27=/path/to/python2.7)" >&2
    exit 3
fi
mkdir -p .build-autobahn
"$py27" -m pip install -q "virtualenv<20.22" >&2
"$py27" -m virtualenv -q "$venv" >&2
"$venv/bin/pip" install -q \
    "setuptools<45" "six==1.16.0" "txaio==2.1.0" "autobahn==0.10.9" "twisted==20.3.0" \
    "zope.interface==5.5.2" "attrs==21.4.0" "constantly==15.1.0" "incremental==21.3.0" \
    "Automat==20.2.0" "hyperlink==21.0.0" "PyHamcrest==1.10.1" "idna==2.10" \
    "jinja2==2.11.3" "markupsafe==1.1.1" "Werkzeug==1.0.1" "klein==20.6.0" "typing==3.10.0.0" \
    "pyopenssl==19.1.0" "cryptography==3.3.2" "cffi==1.15.1" "pycparser==2.21" "enum34==1.1.10" \
    "ipaddress==1.0.23" "service_identity==18.1.0" "pyasn1==0.4.8" "pyasn1-modules==0.2.8" \
    "unittest2==1.1.0" "linecache2==1.0.0" "traceback2==1.4.0" "argparse==1.4.0" "wsaccel==0.6.2" >&2
"$venv/bin/pip" install -q --no-deps "autobahntestsuite==0.8.2" >&2
"$venv/bin/wstest" --help >/dev/null
