#!/usr/bin/env python
"""Sum the JUnit reports of every pytest tier into one closing line: 'total: N passed, N failed, N skipped'."""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

totals = {"passed": 0, "failed": 0, "skipped": 0}
for report in sorted(Path(sys.argv[1] if len(sys.argv) > 1 else ".cache/junit").glob("*.xml")):
    for suite in ET.parse(report).getroot().iter("testsuite"):
        tests, failures, errors, skipped = (int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
        print(f"{report.stem:12} {tests - failures - errors - skipped} passed, {failures + errors} failed, {skipped} skipped")
        totals["passed"] += tests - failures - errors - skipped
        totals["failed"] += failures + errors
        totals["skipped"] += skipped
print(f"total: {totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
sys.exit(1 if totals["failed"] or not totals["passed"] else 0)
