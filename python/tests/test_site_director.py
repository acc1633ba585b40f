"""DIRAC's own SiteDirector (v8 or v9) submitting, monitoring and cleaning up cloudce pilots."""

import time

import pytest

from conftest import DIRAC_MAJOR, load_cs, local_ce_options
from dirac_harness import make_site_director, site_director_cs

VO, SITE, GROUP = "sdvo", "CLOUD.SiteDirector.org", "sdvo_pilot"


def site_cs(slots_dir, life_dir):
    """Two cloudce CEs: one whose VMs stay booting (slot arithmetic), one whose pilots end at once."""
    queue = {"CPUTime": 3600, "VO": VO}
    return site_director_cs(VO, GROUP, SITE, {
        "sd-slots.cloud": (local_ce_options(slots_dir, Driver_boot_seconds=3600, QueryCEFlag="True"),
                           {"slots": {**queue, "MaxTotalJobs": 4, "MaxWaitingJobs": 2}}),
        "sd-life.cloud": (local_ce_options(life_dir, QueryCEFlag="True", Cleanup_MinLifetime=0),
                          {"life": {**queue, "MaxTotalJobs": 1, "MaxWaitingJobs": 1}}),
        # Stopped VMs kept for an hour: their console survives until someone asks for it.
        "sd-output.cloud": (local_ce_options(slots_dir.parent / "output", QueryCEFlag="True", Cleanup_MinLifetime=3600),
                            {"output": {**queue, "MaxTotalJobs": 1, "MaxWaitingJobs": 1}}),
    })


# Only a hang guard: the tests run on busy 2-core machines, where a shorter budget fails by timing.
HANG_GUARD_S = 90.0


def wait_for(predicate, what, timeout=HANG_GUARD_S):
    """Polls a condition of the real processes (a LOCAL VM finishing), never a fixed sleep.

    `timeout` is a hang guard and never shorter than HANG_GUARD_S."""
    limit = max(timeout, HANG_GUARD_S)
    end = time.monotonic() + limit
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"still waiting for {what} after {limit:.0f} s (hang guard)")


@pytest.fixture
def agent(monkeypatch, tmp_path, proxy_chain, state_dir):
    slots_dir, life_dir = state_dir / "slots", state_dir / "life"
    load_cs(site_cs(slots_dir, life_dir))
    work = tmp_path / "work"
    work.mkdir()
    # No CEs option: v9 passes it to _buildQueueDict as the CE types (argument order), v8 reads it right.
    options = {"PilotStatusUpdateCycleFactor": 1, "Site": [SITE]}
    sd, db = make_site_director(monkeypatch, vo=VO, site=SITE, proxy=proxy_chain, jobs=10, group=GROUP,
                                work_dir=work, options=options)
    cycles = iter(range(1, 1000))
    sd.am_getModuleParam = lambda name: next(cycles) if name == "cyclesDone" else None
    return sd, db, work


def run_cycle(sd):
    """One agent cycle as DIRAC's AgentModule runs it."""
    assert sd.beginExecution()["OK"]
    sd.execute()


def queue_of(sd, ce_name):
    return next(q for q in sd.queueDict.values() if q["CEName"] == ce_name)


def pilots_of(db, ce_name):
    return {ref: row for ref, row in db.rows.items() if row.get("DestinationSite") == ce_name}


def test_the_factory_gave_the_agent_cloudce_ces(agent):
    sd, _, _ = agent
    for ce_name in ("sd-slots.cloud", "sd-life.cloud"):
        ce = queue_of(sd, ce_name)["CE"]
        assert type(ce).__name__ == "CloudceComputingElement"
        assert ce.ceType == "Cloudce"


def test_slots_stamps_statuses_and_cleanup_over_several_cycles(agent):
    sd, db, work = agent
    slots_ce = queue_of(sd, "sd-slots.cloud")["CE"]

    # Cycle 1: MaxWaitingJobs = 2 slots on the booting CE, 1 on the other.
    run_cycle(sd)
    first = pilots_of(db, "sd-slots.cloud")
    assert len(first) == 2
    assert len(pilots_of(db, "sd-life.cloud")) == 1
    assert list(work.iterdir()) == []  # each executable was deleted right after submitJob

    # Every stamp from PilotStampDict reached addPilotReferences' SQL, keyed by its reference.
    inserts = [sql for sql in db.sql if sql.startswith("INSERT INTO PilotAgents")]
    assert len(inserts) == 4  # 2 + 1 + 1, one per pilot
    for ref, row in db.rows.items():
        assert ref.startswith("cloud://")
        assert len(row["PilotStamp"]) == 32
        assert any(ref in sql and f"'{row['PilotStamp']}'" in sql for sql in inserts)
    # Monitoring in the same cycle updated the booting pilots from Submitted to Waiting.
    assert {row["Status"] for row in first.values()} == {"Waiting"}

    # Cycle 2: both waiting slots are taken, so nothing is submitted there.
    run_cycle(sd)
    assert len(pilots_of(db, "sd-slots.cloud")) == 2

    # One pilot killed (as PilotManager does): one waiting slot frees, and cycle 3 fills exactly it.
    killed = sorted(first)[0]
    assert slots_ce.killJob([killed])["OK"]
    run_cycle(sd)
    after = pilots_of(db, "sd-slots.cloud")
    assert len(after) == 3
    assert after[killed]["Status"] == "Deleted"
    assert sum(1 for row in after.values() if row["Status"] == "Waiting") == 2
    assert slots_ce.available()["CEInfoDict"]["WaitingJobs"] == 2


def test_a_finished_pilot_ends_done_its_output_is_read_and_cleanup_removes_its_vm(agent, state_dir):
    sd, db, _ = agent
    life_ce = queue_of(sd, "sd-life.cloud")["CE"]
    run_cycle(sd)
    (ref,) = pilots_of(db, "sd-life.cloud")
    # The pilot wrapper ran inside the LOCAL VM and stopped (pilotFileServer is unreachable).
    wait_for(lambda: life_ce.getJobStatus([ref])["Value"][ref] in ("Done", "Deleted"), "the pilot VM to stop")
    run_cycle(sd)
    assert db.rows[ref]["Status"] in ("Done", "Deleted")
    # cleanupPilots ran in the monitoring pass: the stopped VM is gone from the (LOCAL) cloud, and the
    # pilot still reads Done, as it finished.
    assert not (state_dir / "life" / "vms" / ref[len("cloud://"):]).exists()
    assert life_ce.getJobStatus([ref])["Value"][ref] == "Done"
    # The finished pilot freed the CE's only slot, so cycle 2 started exactly one new pilot.
    assert len(pilots_of(db, "sd-life.cloud")) == 2


def test_a_done_pilot_keeps_its_console_while_cleanup_minlifetime_holds(agent):
    sd, db, _ = agent
    out_ce = queue_of(sd, "sd-output.cloud")["CE"]
    run_cycle(sd)
    (ref,) = pilots_of(db, "sd-output.cloud")
    wait_for(lambda: out_ce.getJobStatus([ref])["Value"][ref] == "Done", "the pilot VM to stop")
    run_cycle(sd)
    assert db.rows[ref]["Status"] == "Done"
    assert out_ce.getJobStatus([ref])["Value"][ref] == "Done"  # cleanup ran, and kept the stopped VM
    if DIRAC_MAJOR == 8:
        # v8's SiteDirector reads the output itself (GetPilotOutput), as <ref>:::<stamp>.
        stdout, _ = db.outputs[ref]
        assert stdout.strip()
    else:
        assert ref not in db.outputs  # v9 leaves it to PilotManager (test_pilot_manager.py)
    stamp = db.rows[ref]["PilotStamp"]
    assert out_ce.getJobOutput(f"{ref}:::{stamp}")["Value"][0].strip()
