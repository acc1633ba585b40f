"""A submission survives the loss of its `cloudce serve` child (docs/serve-protocol.md, "Submission keys").

The child is SIGKILLed (or stopped) at exact points of a 10-pilot submit, found with the create
gates of fixtures/slow-local.mjs; afterwards every VM on the cloud is in PilotAgentsDB with its
stamp, and none was created twice.
"""

import os
import signal
import sys
import threading

import pytest

from conftest import load_cs, local_ce_options, serve_children
from dirac_harness import make_site_director, site_director_cs
from gates import Gates, local_vms, stamps_on_cloud
from test_robustness import SLOW_DRIVER, make_ce
from test_site_director import run_cycle

VO, SITE, GROUP = "rcvo", "CLOUD.Recover.org", "rcvo_pilot"
CE_NAME = "recover.cloud"


@pytest.fixture
def gates(tmp_path):
    gated = Gates(tmp_path / "gates")
    yield gated
    gated.close()


@pytest.fixture
def pilot(tmp_path):
    script = tmp_path / "pilot.sh"
    script.write_text("echo pilot ran\n")
    return str(script)


def gated_options(gates, **extra):
    return {"CloudType": f"{SLOW_DRIVER}#default", "Driver_gate_dir": gates.dir, "Submit_Concurrency": 1,
            "Driver_boot_seconds": 3600, **extra}


def in_thread(work):
    """Runs ``work`` in a thread; returns (thread, answer dict)."""
    answer = {}
    thread = threading.Thread(target=lambda: answer.update(work() or {}))
    thread.start()
    return thread, answer


def the_child():
    (child,) = serve_children()
    return child


# Through DIRAC's SiteDirector -----------------------------------------------------------------------

@pytest.fixture
def director(monkeypatch, tmp_path, proxy_chain, state_dir, gates):
    options = local_ce_options(state_dir, QueryCEFlag="True", **gated_options(gates))
    queue = {"CPUTime": 3600, "VO": VO, "MaxTotalJobs": 10, "MaxWaitingJobs": 10}
    load_cs(site_director_cs(VO, GROUP, SITE, {CE_NAME: (options, {"recover": queue})}))
    work = tmp_path / "work"
    work.mkdir()
    sd, db = make_site_director(monkeypatch, vo=VO, site=SITE, proxy=proxy_chain, jobs=10, group=GROUP, work_dir=work,
                                options={"PilotStatusUpdateCycleFactor": 1, "Site": [SITE]})
    cycles = iter(range(1, 1000))
    sd.am_getModuleParam = lambda name: next(cycles) if name == "cyclesDone" else None
    return sd, db


def stop_at(gates, point):
    """Opens the gates for ``point`` and waits until the submission stands there.

    Returns the number of VMs made, and the reference and stamp of a VM whose boot the kill interrupts.
    """
    if point == "before any create":
        gates.wait_waiting(1)
        return 0, None
    if point == "mid-batch":
        gates.let_through(4)
        gates.wait_waiting(5)
        return 4, None
    if point == "in the middle of a VM's boot":
        gates.let_through(4)
        gates.let_reserve(5)
        return 5, gates.wait_reserved(5)
    gates.let_through(9)  # "after the creates, before the answer": the tenth is made, its answer held
    gates.let_create(10)
    gates.wait_made(10)
    return 10, None


@pytest.mark.parametrize("point", ["before any create", "mid-batch", "in the middle of a VM's boot",
                                   "after the creates, before the answer"])
def test_a_child_killed_during_a_10_pilot_submit_leaves_every_vm_in_pilotagentsdb(director, gates, state_dir, point):
    sd, db = director
    cycle, _ = in_thread(lambda: run_cycle(sd))
    try:
        made, interrupted = stop_at(gates, point)
        os.kill(the_child(), signal.SIGKILL)
        cycle.join(300)
    finally:
        gates.close()
    assert not cycle.is_alive(), "the SiteDirector cycle did not end"

    rows = {ref: row for ref, row in db.rows.items() if row.get("DestinationSite") == CE_NAME}
    stamps = {ref: row["PilotStamp"] for ref, row in rows.items()}
    on_cloud = stamps_on_cloud(state_dir)
    # Every VM the lost submission made is a PilotAgentsDB row with the stamp its VM carries ...
    assert len(rows) == made
    assert {ref: stamps.get(ref) for ref in on_cloud} == on_cloud
    # ... and the only VM that may be gone since is the one whose boot the kill interrupted: it
    # reads as failed, so the same cycle's cleanup may already have removed it.
    gone = set(rows) - set(on_cloud)
    if interrupted is None:
        assert not gone
    else:
        ref, stamp = interrupted
        assert stamps[ref] == stamp
        assert gone <= {ref}
        if gone:
            assert rows[ref]["Status"] in ("Aborted", "Failed", "Deleted")
    assert not (gates.path / "waiting-11").exists()  # the submission asked for 10, once


# The plugin alone: a call that times out while the child lives ---------------------------------------

def plugin_of(ce):
    return sys.modules[type(ce).__module__]


def test_a_submit_that_times_out_while_its_child_lives_is_recovered_from_that_child(state_dir, pilot, gates, monkeypatch):
    ce = make_ce("timeout-live.cloud", state_dir, **gated_options(gates, Cloud_RequestTimeout=1))
    assert ce.getCEStatus()["OK"]
    child = the_child()
    plugin = plugin_of(ce)
    real_wait = plugin.submit_wait
    # submitJob gives up at once; the recovery gets the usual wait.
    monkeypatch.setattr(plugin, "submit_wait", lambda deadline, rt: 0.2 if deadline > 0 else real_wait(deadline, rt))
    gates.let_through(2)
    submit, answer = in_thread(lambda: ce.submitJob(pilot, "", 10))
    submit.join(300)
    assert not submit.is_alive()

    # The child was asked, not killed: it stopped the submission (the third create never went
    # through its gate) and answered with what it had made.
    assert serve_children() == [child]
    on_cloud = stamps_on_cloud(state_dir)
    assert len(on_cloud) <= 2
    if on_cloud:
        assert answer["OK"], answer
        assert answer["PilotStampDict"] == on_cloud
    else:  # the recovery came before the first create: nothing exists, and the answer says so
        assert not answer["OK"] and "no VM of submission" in answer["Message"]
    # A create that was waiting at its gate when the submission stopped was abandoned in flight:
    # released now, it ends (with a VM carrying this CE's tags for cleanup to find, or none if the
    # driver saw the stop first), and nothing else begins. Were the submission still running, it
    # would go on creating.
    started = gates.started()
    gates.let_through(10)
    gates.wait_settled()
    assert ce.getCEStatus()["OK"]
    assert gates.started() == started
    late = stamps_on_cloud(state_dir)
    assert late.items() >= on_cloud.items()
    assert len(late) <= started


def test_a_submit_whose_child_is_wedged_is_recovered_by_a_new_child_after_killing_it(state_dir, pilot, gates, monkeypatch):
    ce = make_ce("wedged.cloud", state_dir, **gated_options(gates))
    assert ce.getCEStatus()["OK"]
    wedged = the_child()
    plugin = plugin_of(ce)
    real_wait = plugin.submit_wait
    short = iter([0.5, 0.5])  # the submit, then its recovery from the same child; the new child gets the usual wait
    monkeypatch.setattr(plugin, "submit_wait", lambda deadline, rt: next(short, None) or real_wait(deadline, rt))
    os.kill(wedged, signal.SIGSTOP)  # alive, but answers nothing: neither the submit nor its recovery
    try:
        answer = ce.submitJob(pilot, "", 10)
    finally:
        try:
            os.kill(wedged, signal.SIGCONT)
        except ProcessLookupError:
            pass
    # The plugin killed the wedged child before a new one recovered, so it can never create later.
    assert wedged not in serve_children()
    assert not answer["OK"] and "no VM of submission" in answer["Message"]
    gates.let_through(10)
    assert ce.getCEStatus()["OK"]
    assert local_vms(state_dir) == {}


def test_two_queues_lose_their_submits_to_one_kill_and_each_recovers_its_own(state_dir, pilot, tmp_path):
    first, second = Gates(tmp_path / "gates-a"), Gates(tmp_path / "gates-b")
    ces = {name: make_ce(f"{name}.cloud", state_dir / name, **gated_options(g)) for name, g in (("queue-a", first), ("queue-b", second))}
    for ce in ces.values():
        assert ce.getCEStatus()["OK"]
    child = the_child()  # one child serves both CE objects, as in SiteDirector's queue threads
    first.let_through(2)
    second.let_through(3)
    runs = {name: in_thread(lambda ce=ce: ce.submitJob(pilot, "", 10)) for name, ce in ces.items()}
    try:
        first.wait_waiting(3)
        second.wait_waiting(4)
        os.kill(child, signal.SIGKILL)
        for thread, _ in runs.values():
            thread.join(300)
    finally:
        first.close()
        second.close()
    for name, made in (("queue-a", 2), ("queue-b", 3)):
        thread, answer = runs[name]
        assert not thread.is_alive()
        on_cloud = stamps_on_cloud(state_dir / name)
        assert len(on_cloud) == made
        assert answer["OK"], answer
        assert answer["PilotStampDict"] == on_cloud  # its own VMs, none of the other queue's
