"""`bash .ci/run` on a clean machine installs every program a test needs (issue 11: the PDF
test's pdftotext was missing, so a fresh clone failed). A test that looks a program up with
`shutil.which("…")` names it; each such program must come from a package that .ci/run installs
with apt-get, and .ci/run must check for it before deciding there is nothing to install."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# program -> the Debian package that provides it
PROVIDED_BY = {"pdftotext": "poppler-utils", "chromium": "chromium", "psql": "postgresql-client",
               "pg_ctl": "postgresql", "initdb": "postgresql", "fc-list": "fontconfig"}


def programs_tests_need() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "tests").rglob("*.py"):
        found.update(re.findall(r"""shutil\.which\(\s*["']([\w.+-]+)["']""", path.read_text(encoding="utf-8")))
    return found


def apt_packages(script: str) -> set[str]:
    packages: set[str] = set()
    for line in script.splitlines():
        if "apt-get install" in line:
            words = line.split("apt-get install", 1)[1].replace(">/dev/null", " ").split()
            packages.update(w for w in words if not w.startswith("-"))
    return packages


def test_ci_installs_every_program_a_test_needs() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    installed = apt_packages(script)
    needed = programs_tests_need()
    assert "pdftotext" in needed  # the PDF export test reads the PDF back with it
    unknown = sorted(p for p in needed if p not in PROVIDED_BY)
    assert unknown == [], f"add the Debian package of {unknown} to PROVIDED_BY and to .ci/run"
    missing = sorted(PROVIDED_BY[p] for p in needed if PROVIDED_BY[p] not in installed)
    assert missing == [], f".ci/run does not apt-get install {missing}"
    for program in needed:
        assert program in script, f".ci/run never checks for {program}, so it may skip installing it"


def test_apt_packages_reads_the_install_lines() -> None:
    script = "apt-get update -qq\nDEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null\n"
    assert apt_packages(script) == {"chromium", "fonts-noto-cjk"}
