"""The plugin keeps DIRAC's CE signatures of both versions, and DIRAC's types."""

from test_robustness import make_ce

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
