#!/usr/bin/env bash
# Installs what the test suite needs: a virtual environment in .venv with reloadmw
# (editable) and its test, docs and benchmark requirements, and the system tools that
# the tests use. Works with Debian's own python3 (PEP 668: nothing is installed into
# it) as with any other. Safe to run again. Then: .venv/bin/python -m pytest
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
    if [ "$(id -u)" != 0 ]; then
        echo "tests/install.sh: need root to install $*; install it and run again" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# gcc: the tests build a stand-in for Apache's libhttpd and a C extension module.
# Apache with Debian's mod_wsgi: the end-to-end tests of daemon and embedded mode.
# graphviz: the docs build renders a diagram with it.
missing=()
command -v gcc >/dev/null || missing+=(gcc)
command -v apache2 >/dev/null || missing+=(apache2-bin)
[ -e /usr/lib/apache2/modules/mod_wsgi.so ] || missing+=(libapache2-mod-wsgi-py3)
command -v dot >/dev/null || missing+=(graphviz)  # the docs' diagram
# chromium: the live-reload tests drive Debian's headless browser (through playwright).
command -v chromium >/dev/null || missing+=(chromium)
# mod_wsgi-express is built by the tests with Debian's own python3: apxs and the headers.
command -v apxs >/dev/null || missing+=(apache2-dev)
[ -x /usr/bin/python3 ] && dpkg -s python3-dev >/dev/null 2>&1 || missing+=(python3-dev)
# bindfs: a FUSE mount edited from underneath, as Docker Desktop's sharing or a network
# share looks from inside (the tests that mount skip where /dev/fuse is missing).
command -v bindfs >/dev/null || missing+=(bindfs)
# venv: Debian splits it out of python3.
python3 -c "import ensurepip, venv" 2>/dev/null || missing+=(python3-venv)
/usr/bin/python3 -c "import ensurepip, venv" 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
    apt_install "${missing[@]}"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test,docs,bench]'
