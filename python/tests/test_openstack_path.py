"""One SiteDirector path against the OpenStack test cloud (real Keystone/Nova/Glance/Neutron HTTP APIs)."""

import json
import os
import subprocess

import pytest

from conftest import load_cs
from dirac_harness import make_site_director, site_director_cs
from test_site_director import HANG_GUARD_S, run_cycle, wait_for

VO, SITE, GROUP, CE = "osvo", "CLOUD.OpenStack.org", "osvo_pilot", "os-pilots.cloud"
BUNDLE = os.environ.get("CLOUDCE_TEST_OPENSTACK")


@pytest.fixture
def openstack(tmp_path):
    """The test cloud in its own node process on 127.0.0.1 (scripts/dirac-tests.sh bundles it)."""
    if not BUNDLE:
        pytest.skip("CLOUDCE_TEST_OPENSTACK is not set: run the suite through scripts/dirac-tests.sh")
    cloud = subprocess.Popen(["node", BUNDLE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        facts = json.loads(cloud.stdout.readline())
        auth = tmp_path / "cloud.auth"
        auth.write_text(f"[{CE}]\nkey = {facts['user']}\nsecret = {facts['password']}\n")
        auth.chmod(0o600)
        yield facts, auth
    finally:
        cloud.stdin.close()
        cloud.wait(HANG_GUARD_S)


def test_site_director_submits_monitors_and_cleans_up_openstack_pilots(monkeypatch, tmp_path, proxy_chain, openstack):
    facts, auth = openstack
    options = "\n".join([
        "CEType = Cloudce", "CloudType = OPENSTACK", f"CloudAuth = {auth}", "QueryCEFlag = True",
        f"Driver_ex_force_auth_url = {facts['authUrl']}", "Driver_ex_force_auth_version = 3.x_password",
        f"Driver_ex_tenant_name = {facts['project']}", f"Instance_Image = name:{facts['image']}",
        f"Instance_Flavor = name:{facts['flavor']}", f"Instance_Networks = name:{facts['network']}",
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
    assert all(len(db.rows[ref]["PilotStamp"]) == 32 for ref in refs)
    wait_for(lambda: set(ce.getJobStatus(refs)["Value"].values()) == {"Running"}, "Nova to boot the servers")
    run_cycle(sd)  # all three slots are taken: nothing new; monitoring sees them running
    assert sorted(db.rows) == refs
    assert {db.rows[ref]["Status"] for ref in refs} == {"Running"}

    assert ce.killJob(refs)["OK"]
    wait_for(lambda: set(ce.getJobStatus(refs)["Value"].values()) == {"Deleted"}, "Nova to delete the servers")
    run_cycle(sd)
    assert {db.rows[ref]["Status"] for ref in refs} == {"Deleted"}
