"""The plugin keeps DIRAC's CE signatures of both versions, and DIRAC's types."""

from test_robustness import make_ce

from DIRAC import gLogger
from DIRAC.Core.Security.X509Chain import X509Chain


def test_proxy_stays_an_x509_chain_and_is_checked_like_dirac_v8(state_dir, proxy_chain):
    ce = make_ce("api-proxy.cloud", state_dir)
    assert not ce.isProxyValid(10)["OK"]  # no proxy yet: an error with Value 0, as v8's base class
    pem = proxy_chain.dumpAllToString()["Value"]
    assert ce.setProxy(pem if isinstance(pem, str) else pem.decode(), 3600)["OK"]  # a PEM string is accepted too
    assert isinstance(ce.proxy, X509Chain)
    left = proxy_chain.getRemainingSecs()["Value"]
    valid = ce.isProxyValid(1000)
    assert valid["OK"] and left - 1000 - 5 <= valid["Value"] <= left - 1000
    too_long = ce.isProxyValid(left + 3600)
    assert not too_long["OK"] and too_long["Value"] < 0
    assert ce.setProxy(proxy_chain, 60)["OK"]  # v8's signature, with the lifetime
    assert ce.setProxy(proxy_chain)["OK"]  # v9's


def test_token_dict_or_string_and_v8_available_signature(state_dir):
    ce = make_ce("api-token.cloud", state_dir, MaxTotalJobs=3, MaxWaitingJobs=2)
    assert ce.setToken({"access_token": "eyJhbGciOi.test-token", "expires_in": 600})["OK"]
    assert ce.setToken("eyJhbGciOi.plain-token")["OK"]
    assert not ce.setToken({"refresh_token": "x"})["OK"]
    assert ce.available([])["Value"] == 2  # v8 passes the pilots it knows; cloudce lists the cloud itself
    assert ce.available()["CEInfoDict"]["MaxTotalJobs"] == 3


def test_cloudce_log_lines_reach_diracs_logger_under_the_ce_name(state_dir, tmp_path, monkeypatch):
    heard = []

    class Recorder:
        def __getattr__(self, level):
            return lambda msg, detail="": heard.append((level, msg, detail))

    real = gLogger.getSubLogger
    monkeypatch.setattr(gLogger, "getSubLogger", lambda name, *a: Recorder() if name == "api-logs.cloud" else real(name, *a))
    ce = make_ce("api-logs.cloud", state_dir)
    pilot = tmp_path / "pilot.sh"
    pilot.write_text("echo hi\n")
    refs = ce.submitJob(str(pilot), "", 1)["Value"]
    ce.killJob(refs)
    assert ("info", "pilot VM created") in [(level, msg) for level, msg, _ in heard]
    assert any(refs[0] in detail for _, msg, detail in heard if msg == "pilot VM created")


def test_a_malformed_bridge_option_is_one_clear_line(state_dir):
    from DIRAC.Resources.Computing.ComputingElementFactory import ComputingElementFactory

    result = ComputingElementFactory().getCE("Cloudce", "api-bad-bridge.cloud", {
        "CloudType": "LOCAL", "Instance_Image": "local-el9", "Instance_Flavor": "local.small",
        "Driver_state_dir": str(state_dir), "Bridge_SubmitDeadline": "soon"})
    assert not result["OK"]
    assert result["Message"] == "Bridge_SubmitDeadline: 'soon' is not a number of seconds above 0 and at most 3600"


def test_submit_wait_covers_the_servers_two_request_timeouts_past_the_deadline():
    from cloudce_dirac.Resources.Computing.CloudceComputingElement import submit_wait

    # after the deadline the server answers within one shared Cloud_RequestTimeout (in-flight
    # creations, then the recovery listing): the plugin must wait at least deadline + 2*RT
    assert submit_wait(240, 30) > 240 + 2 * 30
    assert submit_wait(10, 100) > 10 + 2 * 100


def test_available_when_cloudce_cannot_answer_is_zero_slots_not_an_error(state_dir, monkeypatch):
    # DIRAC v9's SiteDirector falls back to its own pilot counts when available() is not OK,
    # and would then submit to a CE it cannot see: a bridge that does not answer must offer no slot.
    import sys

    ce = make_ce("api-nobridge.cloud", state_dir)
    plugin = sys.modules[type(ce).__module__]

    def no_answer(method, *args):
        raise plugin.BridgeTimeout(f"cloudce serve did not answer {method} within 1 s")

    monkeypatch.setattr(plugin._BRIDGE, "call", no_answer)
    result = ce.available()
    assert result["OK"] and result["Value"] == 0, result
    info = result["CEInfoDict"]
    assert info["SubmittedJobs"] == info["RunningJobs"] == info["WaitingJobs"] == 0
    assert "cloudce" in info["Reason"]
