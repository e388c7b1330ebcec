"""The Makefile: plain `make` lists every documented target, and .PHONY names only real ones."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAKEFILE = (ROOT / "Makefile").read_text()
TARGETS = set(re.findall(r"^([A-Za-z0-9_.-]+):(?!=)", MAKEFILE, re.MULTILINE))
DOCUMENTED = set(re.findall(r"^([A-Za-z0-9_-]+):.*## ", MAKEFILE, re.MULTILINE))

pytestmark = pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")


def test_plain_make_lists_every_documented_target():
    result = subprocess.run(  # noqa: S603 - make, from PATH, on the project's own Makefile
        ["make", "--no-print-directory"],  # noqa: S607
        cwd=ROOT, capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    listed = set(re.findall(r"^  make (\S+)", result.stdout, re.MULTILINE))
    assert "e2e" in DOCUMENTED
    assert listed == DOCUMENTED


def test_phony_names_only_targets_that_exist():
    [phony] = re.findall(r"^\.PHONY:(.*)$", MAKEFILE, re.MULTILINE)
    assert set(phony.split()) - TARGETS == set()
