"""No function, method or class in `layersmith/` is graded C or worse by radon (complexity >= 11).

A function that needs more branches than that is split into named steps: each helper's name says
what the step does, which is what a reader of the caller needs. radon's `cc_visit` reads the source;
nothing is imported.
"""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_rank, cc_visit

PACKAGE = Path(__file__).resolve().parents[2] / "layersmith"
# radon's grade B ends here. ruff's mccabe check (C90) has the same bound but does not count boolean
# operators, so a function can pass ruff and still be graded C here.
LIMIT = 10


def too_complex(source: str, name: str) -> list[str]:
    """`name:line kind qualified-name grade (complexity)` of every block over the limit."""
    return [f"{name}:{block.lineno} {block.letter} {block.fullname} {cc_rank(block.complexity)} ({block.complexity})"
            for block in cc_visit(source) if block.complexity > LIMIT]


def test_no_function_is_graded_c_or_worse() -> None:
    paths = sorted(PACKAGE.rglob("*.py"))
    assert len(paths) > 50, "too few modules found: the test would pass vacuously"
    found = [line for p in paths
             for line in too_complex(p.read_text(encoding="utf-8"), p.relative_to(PACKAGE).as_posix())]
    assert found == [], "split these into named steps of complexity <= 10:\n" + "\n".join(found)


def test_the_checker_sees_a_complex_function_and_method() -> None:
    branches = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(10))
    source = (f"def simple(x):\n    return x\n\n\ndef branchy(x):\n{branches}    return -1\n\n\n"
              f"class Holder:\n    def method(self, x):\n{branches.replace('    ', '        ')}        return -1\n")
    assert too_complex(source, "probe.py") == ["probe.py:5 F branchy C (11)", "probe.py:29 C Holder C (12)",
                                               "probe.py:30 M Holder.method C (11)"]
