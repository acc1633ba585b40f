"""Two queues on one cloudce CE under DIRAC's own SiteDirector (v8 or v9): each queue gets its own
slots, reads its own pilots Done, and cleans its own VMs; overlapping monitoring passes and a second
SiteDirector process never delete (or journal) one VM twice."""

import json
import multiprocessing
import threading
import traceback
from collections import Counter

import pytest

from conftest import load_cs, local_ce_options
from dirac_harness import make_site_director, site_director_cs
from test_site_director import run_cycle, wait_for

VO, SITE, GROUP = "qvo", "CLOUD.Queues.org", "qvo_pilot"
CE = "two-queues.cloud"
QUEUES = {"qa": 2, "qb": 3}  # MaxTotalJobs = MaxWaitingJobs per queue


def queues_cs(state_dir, journal):
    queue = {"CPUTime": 3600, "VO": VO}
    # Pilots boot for a second (so available() sees the other queue's booting VMs), then end at once.
    options = local_ce_options(state_dir, QueryCEFlag="True", Cleanup_MinLifetime=0, Driver_boot_seconds=1, Journal_File=journal)
    queues = {name: {**queue, "MaxTotalJobs": n, "MaxWaitingJobs": n} for name, n in QUEUES.items()}
    return site_director_cs(VO, GROUP, SITE, {CE: (options, queues)})


def new_agent(monkeypatch, work, proxy):
    work.mkdir(exist_ok=True)
    sd, db = make_site_director(monkeypatch, vo=VO, site=SITE, proxy=proxy, jobs=50, group=GROUP, work_dir=work,
                                options={"PilotStatusUpdateCycleFactor": 1, "Site": [SITE]})
    cycles = iter(range(1, 1000))
    sd.am_getModuleParam = lambda name: next(cycles) if name == "cyclesDone" else None
    return sd, db


@pytest.fixture
def setup(monkeypatch, tmp_path, proxy_chain, state_dir):
    journal = tmp_path / "journal.jsonl"
    load_cs(queues_cs(state_dir, journal))
    sd, db = new_agent(monkeypatch, tmp_path / "work", proxy_chain)
    return sd, db, journal


def monitor(sd):
    """The agent's monitoring pass (getJobStatus, then cleanupPilots, per queue), as its version has it."""
    return (getattr(sd, "monitorPilots", None) or sd.updatePilotStatus)()


def overlapping_monitors(sd, n=3):
    """``n`` monitoring passes at once, as when one pass outlasts the agent's cycle."""
    errors = []

    def one():
        try:
            monitor(sd)
        except Exception:  # pylint: disable=broad-except
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def by_queue(db):
    return Counter(row["Queue"] for row in db.rows.values())


def queue_ce(sd, name):
    return next(q["CE"] for q in sd.queueDict.values() if q["QueueName"] == name)


def journal_deletes(journal):
    entries = [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
    return [e for e in entries if e["action"] == "delete"]


def settle(sd, db):
    """Waits for every pilot VM to stop, then monitors until every pilot has a final status."""
    ces = {name: queue_ce(sd, name) for name in QUEUES}

    def stopped():
        for name, ce in ces.items():
            refs = [ref for ref, row in db.rows.items() if row["Queue"] == name]
            statuses = ce.getJobStatus(refs)["Value"] if refs else {}
            if any(s not in ("Done", "Deleted", "Aborted") for s in statuses.values()):
                return False
        return True

    wait_for(stopped, "every pilot VM to stop", timeout=60)
    monitor(sd)
    monitor(sd)


def test_each_queue_gets_its_own_slots_and_reads_its_own_pilots_done(setup):
    sd, db, journal = setup
    # Cycle 1: each queue fills its own MaxWaitingJobs, whatever the other queue has booting.
    run_cycle(sd)
    assert by_queue(db) == QUEUES
    # Every stamp from PilotStampDict reached PilotAgentsDB, keyed by its reference.
    inserts = [sql for sql in db.sql if sql.startswith("INSERT INTO PilotAgents")]
    for ref, row in db.rows.items():
        assert len(row["PilotStamp"]) == 32
        assert any(ref in sql and f"'{row['PilotStamp']}'" in sql for sql in inserts)
    # More cycles, each with monitoring passes that overlap.
    for _ in range(3):
        settle(sd, db)
        run_cycle(sd)
        overlapping_monitors(sd)
    settle(sd, db)

    assert sum(by_queue(db).values()) >= 4 * sum(QUEUES.values()) - sum(QUEUES.values())
    assert {row["Status"] for row in db.rows.values()} == {"Done"}, Counter(row["Status"] for row in db.rows.values())
    deletes = journal_deletes(journal)
    removed = Counter(e["ref"] for e in deletes if e["outcome"] == "ok")
    assert set(removed) == set(db.rows), "every VM was removed, and only those"
    assert max(removed.values()) == 1, [ref for ref, n in removed.items() if n > 1]
    # Each VM was removed by its own queue, as stopped.
    for e in deletes:
        if e["outcome"] == "ok":
            assert e["queue"] == db.rows[e["ref"]]["Queue"] and e["reason"] == "stopped", e


def wait_idle(sd, queues=tuple(QUEUES)):
    """Waits until no VM of the queues boots or runs (every pilot ended), so that slots free up."""
    def idle():
        for name in queues:
            status = queue_ce(sd, name).getCEStatus()
            if not status["OK"] or status["RunningJobs"] + status["WaitingJobs"] > 0:
                return False
        return True

    wait_for(idle, "every pilot VM to end", timeout=60)


def site_director_cycles(sd, cycles, started=None):
    """Cycles with overlapping monitoring passes; after each, the pilots end before the next."""
    for i in range(cycles):
        run_cycle(sd)
        if i == 0 and started is not None:
            started.set()
        overlapping_monitors(sd, 2)
        wait_idle(sd)


def _second_site_director(cs_text, work, proxy_pem, out_path, cycles, started):
    """A second SiteDirector process on the same CE (forked: DIRAC's modules as the tests loaded them)."""
    try:
        from DIRAC.Core.Security.X509Chain import X509Chain  # pylint: disable=import-outside-toplevel

        load_cs(cs_text)
        proxy = X509Chain()
        assert proxy.loadProxyFromString(proxy_pem)["OK"]
        with pytest.MonkeyPatch.context() as mp:
            sd, db = new_agent(mp, work, proxy)
            site_director_cycles(sd, cycles, started)
            settle(sd, db)
            out_path.write_text(json.dumps({ref: {"Queue": row["Queue"], "Status": row["Status"]} for ref, row in db.rows.items()}))
    except Exception:  # pylint: disable=broad-except
        out_path.write_text(json.dumps({"error": traceback.format_exc()}))


def test_two_site_director_processes_on_one_ce_never_remove_a_vm_twice(setup, tmp_path, state_dir, proxy_chain):
    sd, db, journal = setup
    pem = proxy_chain.dumpAllToString()["Value"]
    pem = pem.decode() if isinstance(pem, bytes) else pem
    out = tmp_path / "second.json"
    fork = multiprocessing.get_context("fork")
    started = fork.Event()
    other = fork.Process(target=_second_site_director, args=(queues_cs(state_dir, journal), tmp_path / "work2", pem, out, 3, started))
    other.start()
    try:
        # The second SiteDirector submits first; from then on both run their cycles at once.
        assert started.wait(timeout=120), "the second SiteDirector ran its first cycle"
        site_director_cycles(sd, 4)
        settle(sd, db)
    finally:
        other.join(timeout=180)
        if other.is_alive():
            other.kill()
    second = json.loads(out.read_text())
    assert "error" not in second, second.get("error")
    rows = {ref: {"Queue": row["Queue"], "Status": row["Status"]} for ref, row in db.rows.items()}
    assert rows and second, "both SiteDirectors submitted pilots"
    assert not set(rows) & set(second)
    both = {**rows, **second}
    # Each SiteDirector reads its own pilots Done, even those the other process's cleanup removed.
    assert {row["Status"] for row in both.values()} == {"Done"}, Counter(row["Status"] for row in both.values())
    deletes = journal_deletes(journal)
    removed = Counter(e["ref"] for e in deletes if e["outcome"] == "ok")
    assert set(removed) == set(both)
    assert max(removed.values()) == 1, [ref for ref, n in removed.items() if n > 1]


def _pilot_manager(cs_text, proxy_pem, inbox, out_path):
    """DIRAC's PilotManager service in its own process: kills every other pilot it is told of, and
    reads the output of the rest once they have ended, while SiteDirector keeps submitting."""
    try:
        # pylint: disable=import-outside-toplevel
        from DIRAC import S_OK, gLogger
        from DIRAC.Core.Security.X509Chain import X509Chain
        from DIRAC.FrameworkSystem.Client.ProxyManagerClient import gProxyManager
        from DIRAC.WorkloadManagementSystem.Service.PilotManagerHandler import PilotManagerHandler
        from dirac_harness import PilotDBRecorder

        load_cs(cs_text)
        proxy = X509Chain()
        assert proxy.loadProxyFromString(proxy_pem)["OK"]
        results = {"killed": {}, "output": {}}
        with pytest.MonkeyPatch.context() as mp:
            db = PilotDBRecorder()
            db.getPilotOutput = lambda ref: S_OK({"StdOut": "", "StdErr": ""})
            mp.setattr(PilotManagerHandler, "pilotAgentsDB", db, raising=False)
            mp.setattr(gProxyManager, "getPilotProxyFromVOMSGroup", lambda *a, **k: S_OK(proxy))
            handler = object.__new__(PilotManagerHandler)
            handler.log = gLogger.getSubLogger("PilotManager")
            to_read = []
            while (batch := inbox.get(timeout=120)) is not None:
                for i, (ref, row) in enumerate(sorted(batch.items())):
                    db.rows[ref] = {**row, "VO": VO, "OwnerDN": PILOT_DN, "OwnerGroup": GROUP}
                    if i % 2 == 0:
                        results["killed"][ref] = PilotManagerHandler.export_killPilot.__func__(PilotManagerHandler, [ref])["OK"]
                    else:
                        to_read.append(ref)
            for ref in to_read:
                result = {"OK": False}
                # The pilot ends on its own (pilotFileServer is unreachable); its VM and console are kept.
                # Read again until the pilot has written something (a VM still booting has an empty console).
                wait_for(lambda r=ref: (result.update(handler.export_getPilotOutput(r)) or (result["OK"] and result["Value"]["StdOut"].strip())),
                         f"the output of {ref}", timeout=60)
                results["output"][ref] = result["Value"]["StdOut"]
        out_path.write_text(json.dumps(results))
    except Exception:  # pylint: disable=broad-except
        out_path.write_text(json.dumps({"error": traceback.format_exc()}))


PILOT_DN = "/O=cloudce-test/CN=pilot"


def test_pilot_manager_kills_and_reads_output_while_site_director_submits(monkeypatch, tmp_path, proxy_chain, state_dir):
    journal = tmp_path / "journal.jsonl"
    # Stopped VMs are kept an hour: PilotManager reads their console.
    options = local_ce_options(state_dir, QueryCEFlag="True", Cleanup_MinLifetime=3600, Journal_File=journal)
    cs_text = site_director_cs(VO, GROUP, SITE, {CE: (options, {"main": {"CPUTime": 3600, "VO": VO, "MaxTotalJobs": 20, "MaxWaitingJobs": 3}})})
    pm_cs = f"Operations\n{{\nDefaults\n{{\nPilot\n{{\nGenericPilotDN = {PILOT_DN}\n}}\n}}\n}}\nRegistry\n{{\nGroups\n{{\n{GROUP}\n{{\nVOMSRole = /{VO}/Role=pilot\n}}\n}}\n}}\n"
    load_cs(cs_text)
    sd, db = new_agent(monkeypatch, tmp_path / "work", proxy_chain)
    pem = proxy_chain.dumpAllToString()["Value"]
    pem = pem.decode() if isinstance(pem, bytes) else pem
    fork = multiprocessing.get_context("fork")
    inbox, out = fork.Queue(), tmp_path / "pm.json"
    pm = fork.Process(target=_pilot_manager, args=(pm_cs, pem, inbox, out))
    pm.start()
    sent = set()
    try:
        for _ in range(4):
            run_cycle(sd)
            new = {ref: dict(row) for ref, row in db.rows.items() if ref not in sent}
            sent.update(new)
            inbox.put(new)  # PilotManager works on them while the next cycle submits
    finally:
        inbox.put(None)
        pm.join(timeout=240)
        if pm.is_alive():
            pm.kill()
    results = json.loads(out.read_text())
    assert "error" not in results, results.get("error")
    assert len(sent) >= 6 and set(results["killed"]) | set(results["output"]) == sent
    assert all(results["killed"].values()), results["killed"]
    assert all(text.strip() for text in results["output"].values())
    wait_idle(sd, ["main"])
    # Monitoring passes until the pilots whose output was read are Done (a pass may meet a pilot the
    # cloud still lists as stopping).
    wait_for(lambda: (monitor(sd), all(db.rows[r]["Status"] == "Done" for r in results["output"]))[1], "the read pilots Done", timeout=60)
    for ref in results["killed"]:
        assert db.rows[ref]["Status"] in ("Deleted", "Done"), (ref, db.rows[ref]["Status"])
    for ref in results["output"]:
        assert db.rows[ref]["Status"] == "Done", (ref, db.rows[ref]["Status"])
    deletes = Counter(e["ref"] for e in journal_deletes(journal) if e["outcome"] == "ok")
    assert set(deletes) == set(results["killed"]) and max(deletes.values()) == 1
