# Copyright: layer2.linux contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make demo`: each story builds its namespace lab, runs the collection against it, says what happened, tears down.

A story is a module of this package with TITLE and run(say) -> bool; add it to STORIES.
"""

from __future__ import annotations

import importlib
import os
import sys
import textwrap

from tests.lab import lab_namespaces

STORIES = ["hello", "migrate", "discover", "forwarding", "router"]


def say(text: str) -> None:
    print(textwrap.indent(textwrap.fill(text, 110), "  "), flush=True)


def main() -> int:
    results = {}
    for name in STORIES:
        story = importlib.import_module(f"demo.{name}")
        print(f"\n== {story.TITLE}", flush=True)
        results[name] = story.run(say)
        print(f"   -> {'worked' if results[name] else 'FAILED'}", flush=True)
    leftovers = lab_namespaces(os.getpid())
    print(f"\n== Clean-up: {'no lab namespace is left' if not leftovers else 'LEFT BEHIND: ' + ', '.join(leftovers)}")
    ok = all(results.values()) and not leftovers
    print("Demo " + ("finished: every story worked." if ok else "FAILED: see above."))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
