"""The installers workflow runs only on GitHub's runners, so these check it here, where a
mistake would otherwise show only on the day of a release: GitHub's own schema for workflow
files, a security audit of it (zizmor, offline), the pinning the installers promise, and
shellcheck over the build scripts (the macOS one among them cannot run here)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "installers" / "github-workflow.yml"
TOOLS = Path(sys.executable).parent


def workflow() -> dict[str, Any]:
    loaded = yaml.safe_load(WORKFLOW.read_text("utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def steps() -> list[tuple[str, dict[str, Any]]]:
    return [(name, step) for name, job in workflow()["jobs"].items() for step in job["steps"]]


def test_workflow_follows_githubs_schema() -> None:
    checked = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
         str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_workflow_passes_a_security_audit() -> None:
    # Unpinned actions, credentials left in the checkout, template injection, excessive
    # permissions and the like; --offline: nothing is looked up on GitHub.
    audit = subprocess.run([str(TOOLS / "zizmor"), "--offline", "--no-progress", str(WORKFLOW)],
                           capture_output=True, text=True, timeout=120)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "No findings" in audit.stdout, audit.stdout


def test_workflow_pins_every_tool_it_fetches() -> None:
    for job, step in steps():
        if "uses" in step:  # an action: by commit, never a movable tag
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), (job, step["uses"])
        script = step.get("run", "")
        for line in script.splitlines():
            if "choco install" in line:
                assert "--version" in line, (job, line)
            if "git clone" in line:
                assert "--branch v" in line, (job, line)
            if re.search(r"(curl|wget|Invoke-WebRequest)\b", line):
                raise AssertionError(f"{job} downloads outside the package registries: {line}")
    env = workflow()["env"]
    assert "==" in env["PYINSTALLER"] and "==" in env["TEST_MODEL"]
    for name, job in workflow()["jobs"].items():
        runners = [job["runs-on"]] + [
            entry["runner"] for entry in job.get("strategy", {}).get("matrix", {}).get("include", [])]
        for runner in runners:
            assert not runner.endswith("-latest"), (name, runner)


def test_only_the_release_job_may_write() -> None:
    flow = workflow()
    assert flow["permissions"] == {"contents": "read"}
    writers = [name for name, job in flow["jobs"].items()
               if "write" in (job.get("permissions") or {}).values()]
    assert writers == ["release"]
    release = flow["jobs"]["release"]
    assert release["if"].startswith("startsWith(github.ref, 'refs/tags/v')")
    assert any("--draft" in step.get("run", "") for step in release["steps"])


def test_every_installer_is_tested_with_skips_as_failures() -> None:
    flow = workflow()
    assert flow["env"]["OPENWEIGHT_REQUIRE_BUNDLE"] == "1"
    assert flow["env"]["OPENWEIGHT_REQUIRE_TOOLS"] == "1"
    for name in ("linux", "macos", "windows"):
        scripts = "\n".join(step.get("run", "") for step in flow["jobs"][name]["steps"])
        # The build folder, then each installed artifact, through the same bundle tests.
        assert scripts.count("tests/e2e/test_frozen_bundle.py") >= 2, name
        assert "OPENWEIGHT_BUNDLE" in scripts, name
    linux = "\n".join(step.get("run", "") for step in flow["jobs"]["linux"]["steps"])
    assert "OPENWEIGHT_GPU_TEST=1" in linux and "build.sh --vulkan" in linux  # lavapipe


def test_build_scripts_pass_shellcheck() -> None:
    scripts = sorted((ROOT / "installers").glob("*/*.sh")) + [ROOT / ".ci" / "run"]
    assert len(scripts) >= 8
    checked = subprocess.run([str(TOOLS / "shellcheck"), "--severity=warning", *map(str, scripts)],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
