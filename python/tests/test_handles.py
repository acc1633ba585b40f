"""A CE object's handle in the shared child: closed when the object is gone, never used in another child."""

import gc
import os
import signal
import sys

from conftest import serve_children
from test_robustness import make_ce, pilot  # noqa: F401 (a fixture)
from test_site_director import wait_for


def test_a_ce_object_that_is_gone_closes_its_handle_in_the_child(state_dir):
    # PilotManager builds a CE object per request; the long-lived child must not keep them all.
    plugin = None
    handles = []
    for i in range(5):
        ce = make_ce(f"per-request-{i}.cloud", state_dir / str(i))
        assert ce.getCEStatus()["OK"]
        handles.append(ce._handle)  # pylint: disable=protected-access
        plugin = sys.modules[type(ce).__module__]
        del ce
    gc.collect()
    keeper = make_ce("keeper.cloud", state_dir / "keeper")
    assert keeper.getCEStatus()["OK"]  # the next request carries the closes

    def closed(handle):
        try:
            plugin._BRIDGE.call("getCEStatus", {"handle": handle}, 30, "cloudce")  # pylint: disable=protected-access
        except plugin.RpcError as exc:
            return exc.code == -32001
        return False

    assert wait_for(lambda: all(closed(h) for h in handles), "the gone CEs' handles to close")
    assert keeper.getCEStatus()["OK"]  # a live CE keeps its handle


def _fresh_child():
    """Kills the child and waits until the plugin, too, sees it gone (ps can miss an exiting process)."""
    for pid in serve_children():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it exited between the listing and the kill: gone is what we want
    wait_for(lambda: not serve_children(), "the child to be gone")
    bridges = [m._BRIDGE for m in list(sys.modules.values()) if hasattr(m, "_BRIDGE")]  # pylint: disable=protected-access
    wait_for(lambda: not any(b.alive() for b in bridges), "the plugin to see the child gone")


def _ce_name_behind(plugin, handle):
    """The CE name a handle stands for in the current child, asked without the plugin's retries."""
    described = plugin._BRIDGE.call("getDescription", {"handle": handle}, 30, "cloudce")  # pylint: disable=protected-access
    return described["Value"]["CEName"]


def test_a_handle_of_a_child_that_died_is_never_closed_in_its_successor(state_dir):
    _fresh_child()
    gone = make_ce("successor-gone.cloud", state_dir / "gone")  # the first handle of a new child
    plugin = sys.modules[type(gone).__module__]
    keeper = make_ce("successor-keeper.cloud", state_dir / "keeper")
    gone_handle = gone._handle  # pylint: disable=protected-access
    _fresh_child()
    assert keeper.getCEStatus()["OK"]  # a new child, where handle names start over
    assert keeper._handle == gone_handle  # pylint: disable=protected-access
    del gone
    gc.collect()
    # The old child's handle of that name must not be closed here. Asked without the plugin's
    # reopen-and-retry (the request that would carry such a close), the keeper's handle is open.
    assert plugin._BRIDGE.call("getCEStatus", {"handle": keeper._handle}, 30, "cloudce")["OK"]  # pylint: disable=protected-access


def test_a_handle_opened_just_before_its_child_was_replaced_is_never_used_in_the_next(state_dir, monkeypatch):
    _fresh_child()
    probe = make_ce("race-probe.cloud", state_dir / "probe")  # ce-1 in this child
    plugin = sys.modules[type(probe).__module__]
    bridge = plugin._BRIDGE  # pylint: disable=protected-access
    real_exchange = bridge.exchange
    fillers = []

    def exchange_then_replace_child(method, params, *args):
        answer = real_exchange(method, params, *args)
        if method == "open" and params["ceName"] == "race-victim.cloud" and not fillers:
            _fresh_child()  # the child dies right after it gave the victim ce-2...
            for name in ("race-filler-1.cloud", "race-filler-2.cloud"):  # ...and ce-2 in the next is another's
                fillers.append(real_exchange("open", {"ceName": name}, 30, "cloudce")[0]["handle"])
        return answer

    monkeypatch.setattr(bridge, "exchange", exchange_then_replace_child)
    victim = make_ce("race-victim.cloud", state_dir / "victim", MaxWaitingJobs=7)
    monkeypatch.undo()
    assert fillers == ["ce-1", "ce-2"], "the race was not staged"
    assert victim.getCEStatus()["OK"]
    assert _ce_name_behind(plugin, victim._handle) == "race-victim.cloud"  # pylint: disable=protected-access
    filler = bridge.call("getDescription", {"handle": "ce-2"}, 30, "cloudce")["Value"]
    assert filler["CEName"] == "race-filler-2.cloud"
    assert "MaxWaitingJobs" not in filler  # the victim's options never reached another CE


def test_submit_after_its_handle_was_closed_opens_again_and_submits_once(state_dir, pilot):
    ce = make_ce("reopen-submit.cloud", state_dir)
    plugin = sys.modules[type(ce).__module__]
    plugin._BRIDGE.call("close", {"handle": ce._handle}, 30, "cloudce")  # pylint: disable=protected-access
    submitted = ce.submitJob(pilot, "", 1)
    assert submitted["OK"], submitted
    assert len(submitted["Value"]) == 1
    listed = ce.getCEStatus()
    assert listed["OK"] and listed["SubmittedJobs"] + listed["RunningJobs"] + listed["WaitingJobs"] >= 1


def test_a_child_lost_while_the_ce_is_opened_is_tried_once_more_even_for_setparameters(state_dir, monkeypatch):
    probe = make_ce("open-lost-probe.cloud", state_dir / "probe")
    plugin = sys.modules[type(probe).__module__]
    bridge = plugin._BRIDGE  # pylint: disable=protected-access
    real_exchange = bridge.exchange
    lost = []

    def first_open_lost(method, params, *args):
        if method == "open" and not lost:
            lost.append(method)
            raise plugin.BridgeError("cloudce serve exited during open")
        return real_exchange(method, params, *args)

    monkeypatch.setattr(bridge, "exchange", first_open_lost)
    ce = make_ce("open-lost.cloud", state_dir / "ce", MaxWaitingJobs=4)  # setParameters is never resent...
    assert lost == ["open"]
    assert ce.available()["CEInfoDict"]["MaxWaitingJobs"] == 4  # ...but its open was, and it took effect
