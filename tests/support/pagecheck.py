"""Checking pages as a person and a validator would: axe-core (serious and critical
violations), the Nu HTML Checker (errors), no sideways scrolling on a phone, and a
screenshot of each page kept under tests/artifacts/screenshots/ (named in the README).

axe-core and vnu-jar come from the npm registry (installed by .ci/run into
CONSULT_NODE_MODULES, default ~/.cache/consult-node/node_modules); vnu runs on Debian's Java.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

NODE_MODULES = Path(os.environ.get("CONSULT_NODE_MODULES", Path.home() / ".cache/consult-node/node_modules"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "tests" / "artifacts" / "screenshots"


def tools() -> tuple[Path, Path]:
    axe = NODE_MODULES / "axe-core" / "axe.min.js"
    vnu = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
    if not axe.exists() or not vnu.exists() or shutil.which("java") is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"axe-core and vnu-jar (npm) and Java are needed in {NODE_MODULES}")
        pytest.skip("axe-core / vnu-jar not installed")
    return axe, vnu


def axe_violations(page, axe_path: Path) -> list[dict]:
    """Serious and critical violations found by axe-core in the page as it is now."""
    page.add_script_tag(content=axe_path.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def vnu_errors(html_files: list[Path], vnu: Path) -> list[dict]:
    if not html_files:
        return []
    out = subprocess.run(["java", "-jar", str(vnu), "--errors-only", "--format", "json", *map(str, html_files)],
                         capture_output=True, text=True, timeout=300)
    return json.loads(out.stderr or out.stdout or '{"messages": []}')["messages"]


class Journey:
    """A user's way through the site: ``check(label)`` on each page reached keeps a
    screenshot, runs axe-core and saves the HTML; ``finish()`` runs the Nu HTML Checker
    over them all and fails with every problem found, naming the pages."""

    def __init__(self, name: str, page, tmp_path: Path, *, phone: bool = False):
        self.name, self.page, self.phone = name, page, phone
        self.axe, self.vnu = tools()
        self.folder = SCREENSHOTS / name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.html_dir = tmp_path / f"html-{name}"
        self.html_dir.mkdir(exist_ok=True)
        self.pages: list[tuple[str, str, Path]] = []
        self.problems: list[str] = []

    def check(self, label: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        number = len(self.pages) + 1
        slug = re.sub(r"[^\w-]+", "-", label.lower()).strip("-")
        page.screenshot(path=str(self.folder / f"{number:02d}-{slug}.png"), full_page=True)
        html = self.html_dir / f"{number:02d}-{slug}.html"
        html.write_text(page.content(), encoding="utf-8")
        self.pages.append((label, page.url, html))
        if self.phone and page.evaluate("document.documentElement.scrollWidth") > 360:
            self.problems.append(f"{label} ({page.url}): sideways scrolling at 360 px")
        for v in axe_violations(page, self.axe):
            targets = [n["target"] for n in v["nodes"][:3]]
            self.problems.append(f"{label} ({page.url}): axe {v['id']} ({v['impact']}) {v['help']} {targets}")

    def finish(self) -> None:
        by_file = {str(html): label for label, _, html in self.pages}
        for message in vnu_errors([html for _, _, html in self.pages], self.vnu):
            url = message.get("url", "")
            label = next((lbl for path, lbl in by_file.items() if url.endswith(Path(path).name)), url)
            self.problems.append(f"{label}: vnu {message.get('message')} "
                                 f"(line {message.get('lastLine')}: {message.get('extract', '')[:80]!r})")
        print(f"\n{self.name}: pages checked: " + "; ".join(f"{label} {url}" for label, url, _ in self.pages))
        assert not self.problems, "\n".join(self.problems)
