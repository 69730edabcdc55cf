"""The README's test command and the script it starts with (issue: it failed on a machine whose
Node.js came from NodeSource, started with a sudo that root lacks, and updated no package list).

The script runs here with a PATH of stand-ins that record what it asks for: apt-get, sudo,
npm and the tools it looks for, so each kind of machine is played without installing anything."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "install-test-deps"


def readme_test_command() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Test it"):]
    return re.search(r"```sh\n(.+?)\n```", section, re.S).group(1).strip()


def test_ci_runs_the_readme_s_test_command_as_written():
    command = readme_test_command()
    assert "\n" not in command and not command.startswith("sudo")
    assert command.startswith("sh .ci/install-test-deps && ")
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _stub(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def _machine(tmp_path: Path, *, uid: int, tools: set[str], sudo: bool = True) -> tuple[dict, Path]:
    """A PATH holding only stand-ins (each logging its call) and the few real tools the script uses."""
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    for real in ("ls", "mkdir", "dirname", "env", "cat", "chmod"):
        os.symlink(subprocess.check_output(["sh", "-c", f"command -v {real}"], text=True).strip(), bin_dir / real)
    _stub(bin_dir, "id", f'echo {uid}')
    # Installing npm (or nodejs) puts the command there, as Debian's packages would.
    _stub(bin_dir, "apt-get", f'echo "apt-get $*" >> {log}\n'
          f'for p in "$@"; do case "$p" in npm|nodejs) n=$p; [ "$p" = nodejs ] && n=node; '
          f'printf \'#!/bin/sh\\necho "%s $*" >> {log}\\n\' "$n" > {bin_dir}/$n; chmod +x {bin_dir}/$n;; esac; done')
    if sudo:
        _stub(bin_dir, "sudo", f'echo "sudo" >> {log}; exec "$@"')
    _stub(bin_dir, "python3", 'exit 0')  # ensurepip present
    for tool in tools:
        _stub(bin_dir, tool, f'echo "{tool} $*" >> {log}')
    modules = tmp_path / "node" / "node_modules"
    environment = {"PATH": str(bin_dir), "HOME": str(tmp_path), "CONSULT_NODE_MODULES": str(modules)}
    return environment, log


ALL_TOOLS = {"chromium", "redis-server", "zbarimg", "pdftoppm", "faketime", "soffice", "java"}


def _run(environment: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["/bin/sh", str(SCRIPT)], env=environment, capture_output=True, text=True, timeout=30)


def _installed(log: Path) -> list[str]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [word for line in lines if line.startswith("apt-get") and " install " in line
            for word in line.split() if not word.startswith("-") and word not in ("apt-get", "install")]


@pytest.mark.parametrize("node_tools, wanted, unwanted", [
    ({"node", "npm"}, set(), {"npm", "nodejs"}),          # NodeSource: nodejs ships its own npm
    ({"node"}, {"npm"}, {"nodejs"}),                      # Debian's nodejs, without npm
    (set(), {"nodejs", "npm"}, set()),                    # no Node.js at all
])
def test_the_script_installs_npm_only_where_node_lacks_it(tmp_path, node_tools, wanted, unwanted):
    environment, log = _machine(tmp_path, uid=0, tools=ALL_TOOLS | node_tools)
    result = _run(environment)
    assert result.returncode == 0, result.stderr
    installed = set(_installed(log))
    assert wanted <= installed and not (unwanted & installed), installed
    calls = log.read_text().splitlines()
    assert "sudo" not in calls  # root needs no sudo
    assert any(line.startswith("npm install") and "axe-core@4" in line and "vnu-jar" in line for line in calls)
    if installed:  # the package lists are read before anything is installed
        first_install = next(i for i, line in enumerate(calls) if line.startswith("apt-get") and " install " in line)
        assert any(line.startswith("apt-get update") for line in calls[:first_install])


def test_the_script_goes_through_sudo_for_a_user_and_installs_only_what_is_missing(tmp_path):
    environment, log = _machine(tmp_path, uid=1000, tools=(ALL_TOOLS - {"chromium", "faketime"}) | {"node", "npm"})
    result = _run(environment)
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert calls.count("sudo") >= 2  # the update and the install
    installed = set(_installed(log))
    assert {"chromium", "faketime"} <= installed and not installed & {"redis-server", "zbar-tools", "npm"}


def test_the_script_says_why_when_a_user_has_no_sudo(tmp_path):
    environment, _ = _machine(tmp_path, uid=1000, tools=ALL_TOOLS | {"node", "npm"}, sudo=False)
    result = _run(environment)
    assert result.returncode == 1 and "run as root, or install sudo" in result.stderr
