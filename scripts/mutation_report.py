"""Print the mutation score of the safety-critical modules after `mutmut run` (`make mutate`).

mutmut 3 names each mutant `<module>.x<function>__mutmut_<n>` (methods as `xǁClassǁmethod`) and
`mutmut results --all true` lists every mutant with its status. This script groups them by module,
prints killed / survived / other per module and overall, lists the survivors (a place to look: each
is a plausible bug that no test notices), and exits 1 when the overall score is below --min.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime


def _parse(lines: list[str]) -> dict[str, Counter[str]]:
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for line in lines:
        name, sep, status = line.strip().rpartition(": ")
        if not sep or "__mutmut_" not in name:
            continue
        module = name.split(".x", 1)[0]
        by_module[module][status] += 1
    return by_module


def _score(counts: Counter[str]) -> tuple[int, int]:
    # Only mutants that ran against tests count; "no tests" counts as survived: nothing checks it.
    killed = counts["killed"] + counts["timeout"]
    judged = killed + counts["survived"] + counts["no tests"] + counts["suspicious"]
    return killed, judged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=float, default=0.0, help="fail below this overall score (percent)")
    parser.add_argument("--mutmut", default="mutmut", help="the mutmut executable")
    args = parser.parse_args()
    out = subprocess.run([args.mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    by_module = _parse(lines)
    if not by_module:
        print("no mutants found: run `mutmut run` first", file=sys.stderr)
        return 1
    total: Counter[str] = Counter()
    print(f"mutation score, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC (mutmut; killed includes timeouts)")
    print(f"{'module':<36} {'killed':>7} {'judged':>7} {'score':>7}")
    for module in sorted(by_module):
        counts = by_module[module]
        total.update(counts)
        killed, judged = _score(counts)
        print(f"{module:<36} {killed:>7} {judged:>7} {100 * killed / max(judged, 1):>6.1f}%")
    killed, judged = _score(total)
    score = 100 * killed / max(judged, 1)
    print(f"{'total':<36} {killed:>7} {judged:>7} {score:>6.1f}%")
    survivors = [line.strip().rpartition(": ")[0] for line in lines if line.strip().endswith(": survived")]
    if survivors:
        print(f"\n{len(survivors)} survivors (`mutmut show NAME` prints the change):")
        for name in survivors:
            print(f"  {name}")
    if score < args.min:
        print(f"mutation score {score:.1f}% is below the floor of {args.min:.1f}%", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
