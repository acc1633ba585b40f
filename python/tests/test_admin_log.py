"""What an admin reads in DIRAC's log: cloudce missing, not executable or of another version is one
ERROR line per queue; the proxy SiteDirector renews itself gets no expiry warning."""

import importlib
import itertools
import logging
import re
import sys
from pathlib import Path

import pytest

from conftest import DIRAC_MAJOR, SERVE_COMMAND, load_cs, local_ce_options
from dirac_harness import make_site_director, site_director_cs
from test_handles import _fresh_child

from DIRAC.Core.Utilities.ObjectLoader import ObjectLoader
from DIRAC.Resources.Computing.ComputingElementFactory import ComputingElementFactory

VO, GROUP = "startvo", "startvo_pilot"
# A site per agent: the CS only grows between tests (loadCFG merges), and an agent serving an earlier
# test's CE would start VMs in that test's folder, after its teardown stopped what ran there.
SITES = (f"CLOUD.Start{n}.org" for n in itertools.count(1))
OLD_SERVER = Path(__file__).parent / "fixtures" / "old-server.py"


def plugin_module(name):
    """A module of the plugin as DIRAC loads it (from sys.path or as the installed extension).

    Loaded here the way ComputingElementFactory loads the plugin, so that it does not matter whether an
    earlier test made a CE: run alone (pytest -k), a test finds the module all the same.
    """
    loaded = ObjectLoader().loadObject("Resources.Computing.CloudceComputingElement")
    assert loaded["OK"], loaded
    return importlib.import_module(loaded["Value"].__module__.rsplit(".", 1)[0] + "." + name)


@pytest.fixture
def version_module():
    """The plugin's cloudce_version, as DIRAC loads the plugin."""
    return plugin_module("cloudce_version")


def get_ce(name, state_dir):
    return ComputingElementFactory().getCE("Cloudce", name, {
        "CloudType": "LOCAL", "Instance_Image": "local-el9", "Instance_Flavor": "local.small",
        "CloudAuth": "/nonexistent", "Driver_state_dir": str(state_dir), "Queue": "q"})


class DiracLog(logging.Handler):
    """Lines as DIRAC's log shows them ("<LEVEL>: <message> <variable part>"), from its `dirac` logger."""

    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(f" {record.levelname}: {record.getMessage()}")


@pytest.fixture
def dirac_log():
    handler = DiracLog()
    logging.getLogger("dirac").addHandler(handler)
    yield handler.lines
    logging.getLogger("dirac").removeHandler(handler)


def cloudce_lines(lines, level):
    return [line for line in lines if f" {level}: " in line and "cloudce" in line]


@pytest.fixture
def no_child(monkeypatch):
    """No child running, and no $CLOUDCE_SERVE_COMMAND: the CE's Bridge_Command is what starts one."""
    _fresh_child()
    monkeypatch.delenv("CLOUDCE_SERVE_COMMAND", raising=False)
    yield
    monkeypatch.undo()
    _fresh_child()  # the next test starts the real child again


def two_queue_agent(monkeypatch, tmp_path, proxy_chain, state_dir, command, ce_name="start.cloud", query_flag=True):
    queue = {"CPUTime": 3600, "VO": VO, "MaxTotalJobs": 2, "MaxWaitingJobs": 2}
    flag = {"QueryCEFlag": "True"} if query_flag else {}
    options = local_ce_options(state_dir, Bridge_Command=command, **flag)
    # The CS only grows between tests (loadCFG merges): a CE without the flag needs a name of its own.
    site = next(SITES)
    load_cs(site_director_cs(VO, GROUP, site, {ce_name: (options, {"first": queue, "second": queue})}))
    work = tmp_path / "work"
    work.mkdir()
    sd, db = make_site_director(monkeypatch, vo=VO, site=site, proxy=proxy_chain, jobs=5, group=GROUP,
                                work_dir=work, options={"Site": [site]}, begin=False)
    cycles = iter(range(1, 1000))
    sd.am_getModuleParam = lambda name: next(cycles) if name == "cyclesDone" else None
    return sd, db


@pytest.mark.parametrize("kind", ["missing", "not-executable", "not-on-path", "no-node"])
def test_a_cloudce_that_cannot_start_is_one_error_per_queue_naming_the_path_and_option(
        kind, no_child, monkeypatch, tmp_path, proxy_chain, state_dir, dirac_log):
    if kind == "missing":
        command = tried = str(tmp_path / "bin" / "cloudce")
    elif kind == "not-executable":
        command = tried = str(tmp_path / "cloudce")
        Path(command).write_text("#!/bin/sh\n")
    elif kind == "no-node":  # the command is there, the interpreter its first line names is not
        command = str(tmp_path / "cloudce")
        tried = f"'{command}' exited with status 127 before its handshake"
        Path(command).write_text("#!/usr/bin/env cloudce-test-missing-node\n")
        Path(command).chmod(0o755)
    else:
        command, tried = "cloudce", f"PATH={tmp_path}"
        monkeypatch.setenv("PATH", str(tmp_path))
    sd, db = two_queue_agent(monkeypatch, tmp_path, proxy_chain, state_dir, command)
    # Neither queue is usable: v9 ends the cycle there, v8 runs it with no queue; the log says why.
    if sd.beginExecution()["OK"]:
        sd.execute()

    lines = dirac_log
    errors = cloudce_lines(lines, "ERROR")
    assert len(errors) == 2, "\n".join(lines)  # one per queue, each naming its queue
    assert {re.search(r"queue (\w+):", line).group(1) for line in errors} == {"first", "second"}
    for line in errors:
        assert tried in line and "Bridge_Command" in line
    # No warning of the plugin's own; only what the child itself wrote on stderr, if it ran at all.
    assert [line for line in cloudce_lines(lines, "WARN") if not line.startswith(" WARN: cloudce serve:")] == []
    assert db.rows == {}


def test_a_server_older_than_the_plugin_is_refused_by_the_plugin(
        no_child, monkeypatch, state_dir, dirac_log, version_module):
    command = f"{sys.executable} {OLD_SERVER} 0.0.9"
    monkeypatch.setenv("CLOUDCE_SERVE_COMMAND", command)
    version = version_module.__version__
    result = get_ce("old-server.cloud", state_dir)

    assert not result["OK"]
    errors = cloudce_lines(dirac_log, "ERROR")
    assert len(errors) == 1, errors
    assert f"cloudce_dirac is {version}" in errors[0] and "cloudce 0.0.9" in errors[0]
    assert f"upgrade cloudce to {version}" in errors[0]


@pytest.mark.parametrize("plugin, upgrade", [("0.0.5", "upgrade the DIRAC plugin to"), ("99.1.0", "upgrade cloudce to 99.1.0")])
def test_the_server_refuses_a_plugin_of_another_release_line(
        plugin, upgrade, no_child, monkeypatch, state_dir, dirac_log, version_module):
    monkeypatch.setenv("CLOUDCE_SERVE_COMMAND", SERVE_COMMAND)
    monkeypatch.setattr(version_module, "__version__", plugin)
    result = get_ce("mismatch.cloud", state_dir)

    assert not result["OK"]
    errors = cloudce_lines(dirac_log, "ERROR")
    assert len(errors) == 1, errors
    assert f"cloudce_dirac is {plugin}" in errors[0] and upgrade in errors[0]


def test_the_proxy_sitedirector_hands_over_gets_no_expiry_warning(monkeypatch, tmp_path, proxy_chain, state_dir, dirac_log):
    """The test proxy has 2 days left, under Credential_WarnDays (7): SiteDirector renews it, nobody else can."""
    _fresh_child()
    sd, db = two_queue_agent(monkeypatch, tmp_path, proxy_chain, state_dir, "cloudce")
    assert sd.beginExecution()["OK"]
    sd.execute()

    assert db.rows  # pilots were submitted: the proxy was set and used
    assert [line for line in dirac_log if "expires" in line or "renew" in line] == []


@pytest.mark.parametrize("query_flag", [True, False])
def test_v8_asks_the_ce_for_slots_only_with_queryceflag_and_v9_always(query_flag, monkeypatch, tmp_path, proxy_chain, state_dir):
    """Why docs/dirac.md asks for QueryCEFlag = True on v8: without it cloudce's available() never runs."""
    ce_name = f"flag-{str(query_flag).lower()}.cloud"
    sd, _ = two_queue_agent(monkeypatch, tmp_path, proxy_chain, state_dir, "cloudce", ce_name=ce_name, query_flag=query_flag)
    assert sd.beginExecution()["OK"]
    plugin = type(next(iter(sd.queueDict.values()))["CE"])
    calls = []
    real = plugin.available
    monkeypatch.setattr(plugin, "available", lambda self, *a, **k: calls.append(self.ceName) or real(self, *a, **k))
    sd.execute()

    asked = [name for name in calls if name == ce_name]  # the CS still holds earlier tests' CEs
    if DIRAC_MAJOR == 8 and not query_flag:
        assert asked == []
    else:
        assert len(asked) >= 2  # each queue asked cloudce
