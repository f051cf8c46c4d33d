#!/usr/bin/env bash
# `make test`'s test part (after `make test-setup`): ruff, the whole suite on SQLite with the
# browser tests, then the suite again on a throwaway PostgreSQL 15 cluster (browser tests left
# out there: they exercise the same server code and take the longest). The cluster is stopped
# even when something fails. Every step runs; the exit status is non-zero when any failed.
# pytest's exit status 5 ("no tests collected") is a failure like any other non-zero status.
#
# Extra arguments go to both pytest runs, e.g. scripts/run_tests.sh -x -k login
set -uo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
failed=()

step() { printf '\n==== %s\n' "$*"; }

step "ruff check"
"$BIN/ruff" check . || failed+=("ruff")

step "pytest on SQLite (browser tests included)"
"$BIN/pytest" "$@"
code=$?
[[ $code -eq 0 ]] || failed+=("pytest/SQLite (exit $code)")

step "pytest on PostgreSQL 15"
trap 'bash scripts/pg_test.sh stop' EXIT
if url="$(bash scripts/pg_test.sh start | tail -n 1)" && [[ -n "$url" ]]; then
    TEST_DATABASE_URL="$url" "$BIN/pytest" -m "not browser" -p no:cacheprovider "$@"
    code=$?
    [[ $code -eq 0 ]] || failed+=("pytest/PostgreSQL (exit $code)")
else
    failed+=("PostgreSQL start")
fi

echo
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "make test: FAILED: ${failed[*]}"
    exit 1
fi
echo "make test: all checks passed (ruff, pytest on SQLite, pytest on PostgreSQL 15)"
