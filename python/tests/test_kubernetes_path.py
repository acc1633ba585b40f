"""One SiteDirector path against the Kubernetes stand-in (pods, Secrets, label selectors over real HTTP)."""

import json
import os
import subprocess

import pytest

from conftest import load_cs
from dirac_harness import make_site_director, site_director_cs
from test_site_director import HANG_GUARD_S, run_cycle, wait_for

VO, SITE, GROUP, CE = "k8svo", "CLOUD.Kubernetes.org", "k8svo_pilot", "k8s-pilots.cloud"
BUNDLE = os.environ.get("CLOUDCE_TEST_KUBERNETES")


@pytest.fixture
def kubernetes():
    """The stand-in in its own node process on 127.0.0.1 (scripts/dirac-tests.sh bundles it)."""
    if not BUNDLE:
        pytest.skip("CLOUDCE_TEST_KUBERNETES is not set: run the suite through scripts/dirac-tests.sh")
    cloud = subprocess.Popen(["node", BUNDLE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        yield json.loads(cloud.stdout.readline())
    finally:
        cloud.stdin.close()
        cloud.wait(HANG_GUARD_S)


def test_site_director_submits_monitors_and_kills_kubernetes_pilots(monkeypatch, tmp_path, proxy_chain, kubernetes):
    options = "\n".join([
        "CEType = Cloudce", "CloudType = KUBERNETES", "QueryCEFlag = True",
        f"Driver_kubeconfig = {kubernetes['kubeconfig']}", f"Instance_Image = {kubernetes['image']}",
        f"Instance_Flavor = {kubernetes['flavor']}",
    ])
    load_cs(site_director_cs(VO, GROUP, SITE, {CE: (options, {"main": {"CPUTime": 3600, "VO": VO, "MaxTotalJobs": 3, "MaxWaitingJobs": 3}})}))
    work = tmp_path / "work"
    work.mkdir()
    sd, db = make_site_director(monkeypatch, vo=VO, site=SITE, proxy=proxy_chain, jobs=5, group=GROUP, work_dir=work,
                                options={"PilotStatusUpdateCycleFactor": 1, "Site": [SITE]})
    cycles = iter(range(1, 1000))
    sd.am_getModuleParam = lambda name: next(cycles) if name == "cyclesDone" else None
    ce = next(q["CE"] for q in sd.queueDict.values() if q["CEName"] == CE)

    run_cycle(sd)
    refs = sorted(db.rows)
    assert len(refs) == 3
    assert all(ref.startswith("cloud://dirac-pilot-") for ref in refs)
    assert all(len(db.rows[ref]["PilotStamp"]) == 32 for ref in refs)
    wait_for(lambda: set(ce.getJobStatus(refs)["Value"].values()) == {"Running"}, "the pods to run")
    run_cycle(sd)  # all three slots are taken: nothing new; monitoring sees them running
    assert sorted(db.rows) == refs
    assert {db.rows[ref]["Status"] for ref in refs} == {"Running"}

    assert ce.killJob(refs)["OK"]
    wait_for(lambda: set(ce.getJobStatus(refs)["Value"].values()) == {"Deleted"}, "the pods to be deleted")
    run_cycle(sd)
    assert {db.rows[ref]["Status"] for ref in refs} == {"Deleted"}
