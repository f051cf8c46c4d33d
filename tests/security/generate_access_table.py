"""(Re)write tests/security/access_table.json from the current application.

    .venv/bin/python -m tests.security.generate_access_table

It runs the table test with the same fixtures as the suite (fresh database, demo data) and
writes what every route answers to anonymous and to each role. Review the diff before you
commit it: every 200 for a role is a promise that the role may use that route.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def main() -> int:
    os.environ["REDRESS_WRITE_ACCESS_TABLE"] = "1"
    test = HERE / "test_access_table.py"
    code = pytest.main(
        [f"{test}::test_route_role_table_matches_the_checked_in_expectation", "-q", "-rs",
         "-p", "no:cacheprovider", f"--rootdir={HERE.parent.parent}"]
    )
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        return int(code)
    print(f"written: {HERE / 'access_table.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
