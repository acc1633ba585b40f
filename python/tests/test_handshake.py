"""The handshake with a server older than the plugin's protocol, and what a failed result carries into DIRAC."""

import sys
from pathlib import Path

import pytest
from test_admin_log import plugin_module

from DIRAC.Resources.Computing.ComputingElementFactory import ComputingElementFactory

OLD_SERVER = Path(__file__).parent / "fixtures" / "old-server.py"


@pytest.fixture
def computing(state_dir):
    """The plugin's modules, as DIRAC loaded them (a CE refused for a bad option loads them and starts nothing)."""
    options = {"Bridge_CallTimeout": "soon", "Driver_state_dir": str(state_dir)}
    ComputingElementFactory().getCE("Cloudce", "handshake.cloud", options)
    return plugin_module


def old_server(monkeypatch, newest_protocol, version):
    """The command of a server of `version` that speaks protocols up to `newest_protocol`."""
    monkeypatch.setenv("CLOUDCE_SERVE_COMMAND", f"{sys.executable} {OLD_SERVER} {version} {newest_protocol}")
    return "cloudce"


def test_a_server_that_refuses_protocol_3_is_spoken_to_in_protocol_2(computing, monkeypatch):
    bridge_module, version = computing("cloudce_bridge"), computing("cloudce_version").__version__
    bridge = bridge_module.Bridge()
    command = old_server(monkeypatch, 2, version)
    try:
        with pytest.raises(bridge_module.RpcError):  # the stand-in knows no other method; the handshake went through
            bridge.call("getDescription", {"handle": "h"}, 10, command)
        assert bridge.protocol == 2
    finally:
        bridge.end(bridge.generation)


def test_a_server_that_refuses_protocol_2_too_names_what_helps(computing, monkeypatch):
    bridge_module, version = computing("cloudce_bridge"), computing("cloudce_version").__version__
    bridge = bridge_module.Bridge()
    with pytest.raises(bridge_module.BridgeStartError) as raised:
        bridge.call("getDescription", {"handle": "h"}, 10, old_server(monkeypatch, 1, version))
    message = str(raised.value)
    assert "protocol 2" in message and "refused the handshake" in message
    assert f"upgrade cloudce to {version}" not in message


def test_a_failed_result_carries_code_retryable_and_driver_into_dirac(computing):
    to_dirac = computing("cloudce_values").to_dirac
    failed = to_dirac({"OK": False, "Message": "slow", "Code": "Timeout", "Retryable": True, "Driver": "EC2"})
    assert not failed["OK"] and failed["Message"] == "slow"
    assert (failed["CloudceCode"], failed["CloudceRetryable"], failed["CloudceDriver"]) == ("Timeout", True, "EC2")
    plain = to_dirac({"OK": False, "Message": "bad", "Code": "OptionInvalid"})
    assert plain["CloudceCode"] == "OptionInvalid" and "CloudceRetryable" not in plain and "CloudceDriver" not in plain
