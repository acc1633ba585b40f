"""DIRAC's real ComputingElementFactory finds the plugin by CEType: on sys.path, and as an extension."""

import os
import shutil
import subprocess
import sys
import textwrap

from conftest import PLUGIN_ROOT, REPO

from DIRAC.Resources.Computing.ComputingElementFactory import ComputingElementFactory

LOCAL = {"CloudType": "LOCAL", "Instance_Image": "local-el9", "Instance_Flavor": "local.small", "CloudAuth": "/nonexistent"}


def test_factory_loads_the_module_from_sys_path(state_dir):
    result = ComputingElementFactory().getCE("Cloudce", "factory-path.cloud", {**LOCAL, "Driver_state_dir": str(state_dir)})
    assert result["OK"], result
    ce = result["Value"]
    assert type(ce).__module__ == "Resources.Computing.CloudceComputingElement"
    assert ce.ceType == "Cloudce"
    assert ce.isValid()["OK"]


def test_a_malformed_option_is_one_clear_line_from_the_factory(state_dir):
    result = ComputingElementFactory().getCE("Cloudce", "factory-bad.cloud", {**LOCAL, "Driver_state_dir": str(state_dir), "MaxTotalJobs": "many"})
    assert not result["OK"]
    assert "MaxTotalJobs" in result["Message"] and "\n" not in result["Message"]
    assert result["CloudceCode"] == "OptionInvalid"
    assert isinstance(result["Errno"], int)


def test_factory_loads_the_installed_extension(tmp_path, state_dir):
    """pip-installed (entry point group `dirac`), with the plain module no longer on sys.path."""
    source = tmp_path / "src"
    shutil.copytree(REPO / "python", source, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__"))
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
                    "--target", str(target), str(source)], check=True, capture_output=True)
    script = textwrap.dedent(f"""
        import sys
        assert not any(p.rstrip("/").endswith("cloudce_dirac") for p in sys.path)
        from DIRAC.Resources.Computing.ComputingElementFactory import ComputingElementFactory
        from DIRAC.ConfigurationSystem.Client.Helpers.CSGlobals import getCSExtensions
        result = ComputingElementFactory().getCE("Cloudce", "factory-ext.cloud", {dict(LOCAL, Driver_state_dir=str(state_dir))!r})
        assert result["OK"], result
        ce = result["Value"]
        print(type(ce).__module__)
        print(ce.isValid()["OK"])
        print(",".join(getCSExtensions()))
    """)
    paths = [str(target)] + [p for p in os.environ["PYTHONPATH"].split(":") if p and p != str(PLUGIN_ROOT)]
    env = {**os.environ, "PYTHONPATH": ":".join(paths)}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    module, valid, extensions = out.stdout.strip().splitlines()[-3:]
    assert module == "cloudce_dirac.Resources.Computing.CloudceComputingElement"
    assert valid == "True"
    # The side effect docs/dirac.md warns of: SiteDirector passes CS extensions to pilots (-e).
    assert "cloudce_dirac" in extensions.split(",")
