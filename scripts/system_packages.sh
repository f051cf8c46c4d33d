#!/usr/bin/env bash
# Make sure the Debian packages Redress needs are installed.
#
#   scripts/system_packages.sh          what running needs (WeasyPrint's Pango, HarfBuzz's
#                                       subsetter, the CJK font, poppler-utils, python3-venv,
#                                       npm): `make setup`, `make serve`
#   scripts/system_packages.sh --run    the same plus the local IMAP server (Dovecot, openssl)
#                                       that `make run` starts for the email channel
#   scripts/system_packages.sh --test   the same as --run plus what testing needs (Chromium for
#                                       Playwright, Java for the Nu Html Checker, PostgreSQL 15)
#   scripts/system_packages.sh --bench  the same as the first plus the load generator (wrk)
#
# Installed packages are detected with dpkg-query. When something is missing and we run as
# root, `apt-get update` runs once and then `apt-get install`; otherwise the exact command is
# printed and the script fails, so that `make` stops before anything half-works.
set -euo pipefail

RUNTIME=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk poppler-utils)
# The local IMAP server that `make run` and the tests start (its certificate is made with
# openssl); never on a production server (`make serve`), which reads the firm's own mailbox.
LOCAL_MAIL=(dovecot-imapd openssl)
TEST=(chromium default-jre-headless postgresql-15)
BENCH=(wrk)

wanted=("${RUNTIME[@]}")
case "${1:-}" in
    --run) wanted+=("${LOCAL_MAIL[@]}") ;;
    --test) wanted+=("${LOCAL_MAIL[@]}" "${TEST[@]}") ;;
    --bench) wanted+=("${BENCH[@]}") ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "note: not a Debian-based system; make sure these (or their equivalents) are installed:" >&2
    echo "      ${wanted[*]} python3-venv npm" >&2
    exit 0
fi

installed() {
    [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" == ii* ]]
}

missing=()
for package in "${wanted[@]}"; do
    installed "$package" || missing+=("$package")
done
# Tools that may come from elsewhere (e.g. Node.js from another repository): check the command.
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them with:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi

echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q "${missing[@]}" </dev/null
