"""The bridge under load and failure: threads, a killed child, a fork, a dead parent, a deadline, a timeout."""

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
    # The proxy was replayed too: the new child has it without another setProxy, bounded by what is left of valid.
    left = ce._request("isProxyValid", {"valid": 60})  # pylint: disable=protected-access
    assert left["OK"] and 60 < left["Value"] <= 3600, left
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


def test_a_submit_past_its_deadline_returns_what_it_made_and_cleanup_finds_the_rest(state_dir, pilot, tmp_path):
    gates = Gates(tmp_path / "gates")
    ce = make_ce("deadline.cloud", state_dir, CloudType=f"{SLOW_DRIVER}#default", Driver_gate_dir=gates.dir,
                 Submit_Concurrency=1, Bridge_SubmitDeadline=1, Cloud_RequestTimeout=2, Driver_boot_seconds=3600)
    # The first create answers; the second, already on its way, holds at its gate, so the deadline
    # always falls while it is in flight, however slowly a busy machine makes the first.
    gates.let_through(1)
    gates.mark_sent(2)
    try:
        result = ce.submitJob(pilot, "", 8)
        assert result["OK"], result
        assert result.get("Interrupted"), "the deadline cut the submission short"
        # The cloud carries out the abandoned create after all: cleanup must find that VM too.
        gates.let_through(2)
        gates.wait_settled()
    finally:
        gates.close()
    returned = set(result["Value"])
    # The first VM, unless the deadline came before it was made; never the held one.
    assert len(returned) <= 1
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


def test_a_create_abandoned_at_the_deadline_is_found_by_the_next_cleanup(state_dir, pilot, tmp_path):
    gates = Gates(tmp_path / "gates")
    # The first create, already on its way, holds at its gate past the deadline and the grace after it;
    # the deadline leaves a busy machine ample time to start that create first.
    ce = make_ce("abandoned.cloud", state_dir, CloudType=f"{SLOW_DRIVER}#default", Driver_gate_dir=gates.dir,
                 Submit_Concurrency=1, Bridge_SubmitDeadline=3, Cloud_RequestTimeout=2, Driver_boot_seconds=3600)
    gates.mark_sent(1)
    try:
        result = ce.submitJob(pilot, "", 3)
        assert result["OK"] and result["Value"] == []
        assert "1 abandoned in flight" in result["Interrupted"]
        # The abandoned creation still lands on the cloud, with this CE's prefix and owner tag ...
        gates.let_through(1)
        wait_for(lambda: ce.getCEStatus()["WaitingJobs"] == 1, "the abandoned VM to appear")
    finally:
        gates.close()
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
