"""The bridge under load and failure: threads, a killed child, a fork, a dead parent, a deadline."""

import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from conftest import PLUGIN_ROOT, serve_children
from gates import Gates, local_vms, stamps_on_cloud
from test_site_director import wait_for

from DIRAC.Resources.Computing.ComputingElementFactory import ComputingElementFactory

SLOW_DRIVER = Path(__file__).parent / "fixtures" / "slow-local.mjs"


def make_ce(name, state_dir, **options):
    params = {"CloudType": "LOCAL", "Instance_Image": "local-el9", "Instance_Flavor": "local.small",
              "CloudAuth": "/nonexistent", "Driver_state_dir": str(state_dir), "MaxTotalJobs": 50, "MaxWaitingJobs": 50}
    params.update(options)
    result = ComputingElementFactory().getCE("Cloudce", name, params)
    assert result["OK"], result
    return result["Value"]


@pytest.fixture
def pilot(tmp_path):
    script = tmp_path / "pilot.sh"
    script.write_text("echo pilot ran\n")
    return str(script)


def test_ce_objects_in_threads_share_one_child_and_get_their_own_answers(state_dir, pilot, proxy_chain):
    ces = [make_ce(f"thread-{i}.cloud", state_dir / str(i)) for i in range(6)]
    results = {}

    def one_queue(ce):
        ce.setProxy(proxy_chain, 3600)
        submitted = ce.submitJob(pilot, "", 2)
        status = ce.getJobStatus(submitted["Value"]) if submitted["OK"] else submitted
        counts = ce.getCEStatus()
        killed = ce.killJob(submitted["Value"]) if submitted["OK"] else submitted
        results[ce.ceName] = (submitted, status, counts, killed)

    threads = [threading.Thread(target=one_queue, args=(ce,)) for ce in ces]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(serve_children()) == 1
    for ce in ces:
        submitted, status, counts, killed = results[ce.ceName]
        assert submitted["OK"] and len(submitted["Value"]) == 2, submitted
        assert status["OK"] and set(status["Value"]) == set(submitted["Value"])
        assert counts["OK"] and counts["SubmittedJobs"] == 2  # this CE's own count, not another thread's
        assert killed["OK"], killed


def test_after_the_child_is_sigkilled_the_next_call_respawns_and_replays(state_dir, pilot, proxy_chain):
    ce = make_ce("respawn.cloud", state_dir, MaxTotalJobs=7, MaxWaitingJobs=3)
    ce.setProxy(proxy_chain, 3600)
    refs = ce.submitJob(pilot, "", 1)["Value"]
    (old,) = serve_children()
    os.kill(old, signal.SIGKILL)
    wait_for(lambda: old not in serve_children(), "the killed child to be gone")

    available = ce.available()  # the next call starts a new child, opens and replays
    assert available["OK"], available
    assert available["CEInfoDict"]["MaxWaitingJobs"] == 3  # parameters were replayed
    (new,) = serve_children()
    assert new != old
    # The proxy was replayed too: the new child has it without another setProxy.
    assert ce._request("isProxyValid", {"valid": 60})["OK"]  # pylint: disable=protected-access
    statuses = ce.getJobStatus(refs)
    assert statuses["OK"] and statuses["Value"][refs[0]] in ("Running", "Done")


def test_a_transport_failure_is_an_error_never_unknown_statuses(state_dir, pilot, monkeypatch):
    ce = make_ce("transport.cloud", state_dir)
    refs = ce.submitJob(pilot, "", 1)["Value"]
    for pid in serve_children():
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not serve_children(), "the child to be gone")
    monkeypatch.setenv("CLOUDCE_SERVE_COMMAND", "/bin/false")  # a child that dies at once

    status = ce.getJobStatus(refs)

    assert not status["OK"]
    assert "Value" not in status  # SiteDirector keeps the old statuses; nothing turns Unknown
    monkeypatch.undo()
    again = ce.getJobStatus(refs)
    assert again["OK"], again


def test_a_forked_process_gets_its_own_child_and_leaves_the_parents_alone(state_dir):
    ce = make_ce("fork.cloud", state_dir)
    assert ce.getCEStatus()["OK"]
    (parent_child,) = serve_children()
    pid = os.fork()
    if pid == 0:  # the forked process: its first call starts its own cloudce serve
        ok = ce.getCEStatus()["OK"]
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert serve_children() == [parent_child]
    assert ce.getCEStatus()["OK"]


def test_when_the_parent_exits_the_child_exits(tmp_path, state_dir):
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(PLUGIN_ROOT)!r})
        from DIRAC.Resources.Computing.ComputingElementFactory import ComputingElementFactory
        ce = ComputingElementFactory().getCE("Cloudce", "orphan.cloud", {{"CloudType": "LOCAL", "Instance_Image": "local-el9",
            "Instance_Flavor": "local.small", "CloudAuth": "/nonexistent", "Driver_state_dir": {str(state_dir)!r}}})["Value"]
        assert ce.getCEStatus()["OK"]
        from Resources.Computing import CloudceComputingElement as plugin
        print("CHILD", plugin._BRIDGE._proc.pid, flush=True)
        os.kill(os.getpid(), 9)  # no atexit, no cleanup: the harshest parent death
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    child = int(next(line.split()[1] for line in out.stdout.splitlines() if line.startswith("CHILD")))

    def gone():
        try:
            return Path(f"/proc/{child}/stat").read_text().split(") ")[1][0] == "Z"
        except OSError:
            return True

    wait_for(gone, "the orphaned cloudce serve to exit", timeout=15)


def test_a_submit_that_made_fewer_pilots_says_how_many_and_why(state_dir, pilot):
    ce = make_ce("partial.cloud", state_dir, Driver_max_instances=2, Driver_boot_seconds=3600)

    result = ce.submitJob(pilot, "", 3)

    assert result["OK"], result
    assert len(result["Value"]) == 2
    assert result["Partial"] == "2 of 3 pilots created; 1 not: QuotaExceeded"
    assert ce.killJob(result["Value"])["OK"]


def test_a_submit_past_its_deadline_returns_what_it_made_and_cleanup_finds_the_rest(state_dir, pilot):
    ce = make_ce("deadline.cloud", state_dir, CloudType=f"{SLOW_DRIVER}#default", Driver_create_ms=400,
                 Submit_Concurrency=1, Bridge_SubmitDeadline=1, Cloud_RequestTimeout=2, Driver_boot_seconds=3600)

    result = ce.submitJob(pilot, "", 8)

    assert result["OK"], result
    assert result.get("Interrupted"), "the deadline cut the submission short"
    returned = set(result["Value"])
    assert 1 <= len(returned) < 8
    # Every VM of this CE is either returned or found by cleanup once it is over age.
    listed = set(ce._request("getJobStatus", {"refs": sorted(returned)})["Value"])  # pylint: disable=protected-access
    assert listed == returned
    counts = ce.getCEStatus()
    on_cloud = counts["RunningJobs"] + counts["WaitingJobs"]
    assert on_cloud >= len(returned)
    # A CE with a short lifetime: its cleanup removes every VM it owns, returned or not.
    expire = make_ce("deadline.cloud", state_dir, CloudType=f"{SLOW_DRIVER}#default", Context_MaxLifetime=1)

    def all_cleaned():
        assert expire.cleanupPilots()["OK"]
        left = expire.getCEStatus()
        return left["RunningJobs"] + left["WaitingJobs"] == 0

    wait_for(all_cleaned, "cleanup to remove every VM of the CE", timeout=20)


def test_submit_is_never_sent_twice_when_the_child_dies_under_it(state_dir, pilot, tmp_path):
    gates = Gates(tmp_path / "gates")
    ce = make_ce("once.cloud", state_dir, CloudType=f"{SLOW_DRIVER}#default", Driver_gate_dir=gates.dir,
                 Submit_Concurrency=1, Driver_boot_seconds=3600)
    assert ce.getCEStatus()["OK"]
    (child,) = serve_children()
    answer = {}
    gates.let_through(3)
    submit = threading.Thread(target=lambda: answer.update(ce.submitJob(pilot, "", 20)))
    submit.start()
    try:
        # Killed while the fourth create waits to start: three VMs are whole (booted, pid saved), no
        # fourth was begun, so the cloud's state does not depend on when the kill lands.
        gates.wait_waiting(4)
        os.kill(child, signal.SIGKILL)
        submit.join(120)
    finally:
        gates.close()
    assert not submit.is_alive()

    made = stamps_on_cloud(state_dir)
    assert len(made) == 3
    # The plugin recovered the submission by its key in a new child: the three VMs with their stamps.
    assert answer["OK"], answer
    assert answer["PilotStampDict"] == made
    assert sorted(answer["Value"]) == sorted(made)
    # The cloud holds only what the first (only) attempt made.
    counts = ce.getCEStatus()
    assert counts["OK"] and counts["WaitingJobs"] == 3
    assert len(local_vms(state_dir)) == 3


def test_a_create_abandoned_at_the_deadline_is_found_by_the_next_cleanup(state_dir, pilot):
    ce = make_ce("abandoned.cloud", state_dir, CloudType=f"{SLOW_DRIVER}#default", Driver_create_ms=2500,
                 Submit_Concurrency=1, Bridge_SubmitDeadline=1, Cloud_RequestTimeout=1, Driver_boot_seconds=3600)

    result = ce.submitJob(pilot, "", 3)

    assert result["OK"] and result["Value"] == []
    assert "1 abandoned in flight" in result["Interrupted"]
    # The abandoned creation still lands on the cloud, with this CE's prefix and owner tag ...
    wait_for(lambda: ce.getCEStatus()["WaitingJobs"] == 1, "the abandoned VM to appear")
    # ... so cleanup finds it although no reference was ever returned for it.
    expire = make_ce("abandoned.cloud", state_dir, CloudType=f"{SLOW_DRIVER}#default", Context_MaxLifetime=1)
    wait_for(lambda: len(expire.cleanupPilots()["Value"]["deleted"]) == 1, "cleanup to remove the VM", timeout=20)
    assert expire.getCEStatus()["WaitingJobs"] == 0


def test_a_call_past_its_timeout_is_an_error_and_the_ce_stays_usable(state_dir):
    ce = make_ce("timeout.cloud", state_dir, CloudType=f"{SLOW_DRIVER}#default", Driver_list_ms=3000, Bridge_CallTimeout=0.5)
    (child,) = serve_children()

    status = ce.getJobStatus(["cloud://nothing-here"])

    assert not status["OK"] and "did not answer getJobStatus within 0.5 s" in status["Message"]
    assert serve_children() == [child]  # the child is not restarted for a slow answer
    fast = make_ce("timeout-fast.cloud", state_dir)
    assert fast.getCEStatus()["OK"]


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
        os.kill(pid, signal.SIGKILL)
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
