"""The test session's decision to install Debian's Prometheus: simulated with PATHs that lack
the tools (nothing is uninstalled)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.prometheus_tools import plan


def _bin(tmp_path: Path, *names: str) -> str:
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for name in names:
        tool = folder / name
        tool.write_text("#!/bin/sh\n", encoding="utf-8")
        tool.chmod(0o755)
    return str(folder)


def test_when_both_tools_are_on_path_then_nothing_is_installed(tmp_path):
    decided = plan(_bin(tmp_path, "promtool", "prometheus", "apt-get"), is_root=True)
    assert not decided.install


def test_when_promtool_is_missing_and_root_with_apt_then_it_is_installed(tmp_path):
    decided = plan(_bin(tmp_path, "prometheus", "apt-get"), is_root=True)
    assert decided.install and "promtool" in decided.reason


def test_when_not_root_then_the_reason_names_the_install_script(tmp_path):
    decided = plan(_bin(tmp_path, "apt-get"), is_root=False)
    assert not decided.install and ".ci/install-prometheus" in decided.reason
    assert "\n" not in decided.reason


def test_when_there_is_no_apt_get_then_nothing_is_installed_and_the_reason_says_so(tmp_path):
    decided = plan(_bin(tmp_path), is_root=True)
    assert not decided.install and "apt-get" in decided.reason


def test_the_install_script_is_executable():
    from tests.prometheus_tools import INSTALL_SCRIPT
    assert os.access(INSTALL_SCRIPT, os.X_OK)


def test_when_the_tools_are_missing_and_root_then_ensure_runs_the_install_script(tmp_path, monkeypatch):
    from tests import prometheus_tools
    monkeypatch.setenv("PATH", _bin(tmp_path, "apt-get"))
    monkeypatch.setattr(prometheus_tools.os, "geteuid", lambda: 0)
    ran, said = [], []

    class Done:
        returncode, stdout, stderr = 0, "installed", ""

    monkeypatch.setattr(prometheus_tools.subprocess, "run", lambda argv, **kw: ran.append(argv) or Done())
    assert prometheus_tools.ensure(said.append).install
    assert ran == [[str(prometheus_tools.INSTALL_SCRIPT)]] and len(said) == 1


def test_when_the_install_script_fails_then_ensure_says_so_in_one_line(tmp_path, monkeypatch):
    from tests import prometheus_tools
    monkeypatch.setenv("PATH", _bin(tmp_path, "apt-get"))
    monkeypatch.setattr(prometheus_tools.os, "geteuid", lambda: 0)

    class Failed:
        returncode, stdout, stderr = 100, "", "E: Unable to locate package prometheus\n"

    monkeypatch.setattr(prometheus_tools.subprocess, "run", lambda argv, **kw: Failed())
    said = []
    decided = prometheus_tools.ensure(said.append)
    assert not decided.install and "Unable to locate package" in decided.reason and "\n" not in decided.reason
    assert said[-1].endswith(decided.reason)
