#!/usr/bin/env bash
# Installs what the test suite needs: reloadmw itself (editable) with its test
# requirements, and the system tools that the tests use. Safe to run again.
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

command -v gcc >/dev/null || apt_install gcc

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'
