"""Every value the plugin sends is valid JSON, and nothing it does raises into DIRAC: an S_ERROR instead."""

import math
import sys

import pytest
from test_robustness import make_ce, pilot  # noqa: F401 (a fixture)

from DIRAC.Resources.Computing.ComputingElementFactory import ComputingElementFactory

BASE = {"CloudType": "LOCAL", "Instance_Image": "local-el9", "Instance_Flavor": "local.small", "CloudAuth": "/nonexistent"}


@pytest.mark.parametrize("name", ["Bridge_SubmitDeadline", "Bridge_CallTimeout"])
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e400", "99999999", "0", "soon"])
def test_a_bridge_option_out_of_range_is_one_clear_line(state_dir, name, value):
    result = ComputingElementFactory().getCE("Cloudce", f"values-{name.lower()}.cloud", {**BASE, "Driver_state_dir": str(state_dir), name: value})
    assert not result["OK"]
    assert result["Message"] == f"{name}: '{value}' is not a number of seconds above 0 and at most 3600"


@pytest.mark.parametrize("count", [float("nan"), float("inf"), "many", None, 2.5, -1])
def test_submit_with_a_count_json_cannot_carry_or_cloudce_refuses_is_an_error(state_dir, pilot, count):
    ce = make_ce("values-count.cloud", state_dir)
    result = ce.submitJob(pilot, "", count)
    assert not result["OK"]
    assert "numberOfJobs" in result["Message"]


@pytest.mark.parametrize("value", [float("inf"), float("nan"), "inf", "1e400"])
def test_a_request_timeout_json_cannot_carry_never_raises_from_submit(state_dir, pilot, value):
    ce = make_ce("values-timeout.cloud", state_dir)
    # As DIRAC merges a queue's options into a CE it already has.
    ce.ceParameters["Cloud_RequestTimeout"] = value
    result = ce.submitJob(pilot, "", 1)
    assert isinstance(result, dict) and "OK" in result
    if result["OK"]:
        ce.killJob(result["Value"])


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_a_non_finite_parameter_reaches_cloudce_as_text_and_is_named(state_dir, value):
    ce = make_ce("values-params.cloud", state_dir)
    ce.ceParameters["Cloud_RateLimit"] = value
    result = ce._reset()  # what DIRAC's setParameters runs after merging  # pylint: disable=protected-access
    assert not result["OK"]
    assert result["Message"].startswith(f"cloudce setParameters: Cloud_RateLimit: '{value}'") or "Cloud_RateLimit" in result["Message"]
    assert "Infinity" not in result["Message"] and "NaN" not in result["Message"]


def test_the_wire_encoding_refuses_what_is_not_json():
    from cloudce_dirac.Resources.Computing.cloudce_bridge import encode_line

    with pytest.raises(ValueError):
        encode_line({"x": math.inf})
    assert encode_line({"x": 1.5}) == b'{"x": 1.5}\n'


def test_an_unexpected_failure_inside_the_plugin_is_an_s_error(state_dir, pilot, monkeypatch):
    ce = make_ce("values-raise.cloud", state_dir)
    plugin = sys.modules[type(ce).__module__]  # the module as DIRAC's factory loaded it

    def broken(*_args, **_kwargs):
        raise OverflowError("timeout value is too large")

    monkeypatch.setattr(plugin._BRIDGE, "call", broken)  # pylint: disable=protected-access
    for call in (lambda: ce.submitJob(pilot, "", 1), lambda: ce.getJobStatus(["cloud://x"]), ce.getCEStatus, ce.cleanupPilots,
                 lambda: ce.killJob(["cloud://x"]), lambda: ce.getJobOutput("cloud://x"), ce.isValid):
        result = call()
        assert not result["OK"], result
        assert "timeout value is too large" in result["Message"]
    # available() offers no slot, and says why, whenever cloudce cannot answer.
    offered = ce.available()
    assert offered["OK"] and offered["Value"] == 0
    assert "timeout value is too large" in offered["CEInfoDict"]["Reason"]
