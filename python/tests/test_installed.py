"""Run by scripts/dirac-tests.sh against the installed release: the copies under test are the installed ones."""

import json
import subprocess
from pathlib import Path

import pytest

from conftest import INSTALLED_PLUGIN, SERVE_COMMAND

from DIRAC.Resources.Computing.ComputingElementFactory import ComputingElementFactory

pytestmark = pytest.mark.skipif(not INSTALLED_PLUGIN, reason="only against the installed release (scripts/dirac-tests.sh)")
REPO = Path(__file__).resolve().parents[2]


def test_dirac_loads_the_installed_wheel_as_an_extension(state_dir):
    result = ComputingElementFactory().getCE("Cloudce", "installed.cloud", {
        "CloudType": "LOCAL", "Instance_Image": "local-el9", "Instance_Flavor": "local.small",
        "CloudAuth": "/nonexistent", "Driver_state_dir": str(state_dir)})
    assert result["OK"], result
    module = type(result["Value"]).__module__
    assert module == "cloudce_dirac.Resources.Computing.CloudceComputingElement"
    import sys  # pylint: disable=import-outside-toplevel
    assert Path(sys.modules[module].__file__).is_relative_to(INSTALLED_PLUGIN)


def test_the_installed_command_is_the_release_and_brings_its_examples(tmp_path):
    version = json.loads((REPO / "package.json").read_text())["version"]
    command = Path(SERVE_COMMAND)
    assert not command.is_relative_to(REPO)
    assert subprocess.run([str(command), "--version"], capture_output=True, text=True, check=True).stdout.strip() == version
    package = command.resolve().parents[2]  # <prefix>/lib/node_modules/cloudce
    for shipped in ("templates/default.yaml.hbs", "etc/dirac.cfg.example", "etc/local.conf", "docs/dirac.md"):
        assert (package / shipped).is_file(), shipped
    checked = subprocess.run([str(command), "--config", str(package / "etc" / "local.conf"), "validate"],
                             capture_output=True, text=True, cwd=tmp_path, check=False)
    assert checked.returncode == 0, checked.stderr
