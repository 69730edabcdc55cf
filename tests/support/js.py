"""The site's script modules, called from the tests in Node.js (``tests/support/js_module.mjs``)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_js(module: str, op: str, *args):
    """One call of a function of the site's script ``module``, in Node.js: (its result, its
    arguments after the call), or ``RuntimeError`` with the script's message."""
    done = subprocess.run(["node", str(ROOT / "tests" / "support" / "js_module.mjs"), str(ROOT / module)],
                          input=json.dumps({"op": op, "args": list(args)}), capture_output=True, text=True,
                          timeout=60, check=True)
    out = json.loads(done.stdout)
    if "error" in out:
        raise RuntimeError(out["error"])
    return out["result"], out["args"]
