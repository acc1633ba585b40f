"""DIRAC's PilotManager service path (WMSUtilities + PilotManagerHandler): output and kill."""

import pytest

from conftest import DIRAC_MAJOR, load_cs, local_ce_options
from dirac_harness import PilotDBRecorder
from test_site_director import wait_for

from DIRAC import S_OK, gLogger
from DIRAC.ConfigurationSystem.Client.Helpers.Resources import getQueue
from DIRAC.FrameworkSystem.Client.ProxyManagerClient import gProxyManager
from DIRAC.Resources.Computing.ComputingElementFactory import ComputingElementFactory
from DIRAC.WorkloadManagementSystem.Service.PilotManagerHandler import PilotManagerHandler

VO, SITE, GROUP, DN = "pmvo", "CLOUD.PilotManager.org", "pmvo_pilot", "/O=cloudce-test/CN=pilot"


def pm_cs(out_dir, kill_dir):
    queue = f"""
            Queues
            {{
              main
              {{
                CPUTime = 3600
                MaxTotalJobs = 5
                MaxWaitingJobs = 5
                VO = {VO}
              }}
            }}"""
    return f"""
Operations
{{
  Defaults
  {{
    Pilot
    {{
      GenericPilotGroup = {GROUP}
      GenericPilotDN = {DN}
    }}
  }}
}}
Registry
{{
  Groups
  {{
    {GROUP}
    {{
      VO = {VO}
      VOMSRole = /{VO}/Role=pilot
    }}
  }}
}}
Resources
{{
  Sites
  {{
    CLOUD
    {{
      {SITE}
      {{
        CEs
        {{
          pm-out.cloud
          {{
            {local_ce_options(out_dir, Cleanup_MinLifetime=3600)}
            {queue}
          }}
          pm-kill.cloud
          {{
            {local_ce_options(kill_dir)}
            {queue}
          }}
        }}
      }}
    }}
  }}
}}
"""


@pytest.fixture
def service(monkeypatch, tmp_path, state_dir, proxy_chain):
    load_cs(pm_cs(state_dir / "out", state_dir / "kill"))
    db = PilotDBRecorder()
    db.getPilotOutput = lambda ref: S_OK({"StdOut": "", "StdErr": ""})  # nothing stored yet
    monkeypatch.setattr(PilotManagerHandler, "pilotAgentsDB", db, raising=False)
    proxies = []
    monkeypatch.setattr(gProxyManager, "getPilotProxyFromVOMSGroup", lambda *a, **k: proxies.append(a) or S_OK(proxy_chain))
    handler = object.__new__(PilotManagerHandler)
    handler.log = gLogger.getSubLogger("PilotManager")
    return handler, db, proxies, tmp_path


def submit_and_register(db, ce_name, script, tmp_path):
    """Pilots submitted the way SiteDirector does it, and registered with the real PilotAgentsDB code."""
    ce = ComputingElementFactory().getCE("Cloudce", ce_name, getQueue(SITE, ce_name, "main")["Value"])["Value"]
    executable = tmp_path / f"{ce_name}.sh"
    executable.write_text(script)
    submitted = ce.submitJob(str(executable), "", 1)
    assert submitted["OK"], submitted
    refs, stamps = submitted["Value"], submitted["PilotStampDict"]
    if DIRAC_MAJOR == 8:
        assert db.addPilotTQReference(refs, 1, DN, GROUP, "sd.host", "Cloudce", stamps)["OK"]
    else:
        assert db.addPilotReferences(refs, VO, "Cloudce", stamps)["OK"]
    for ref in refs:
        db.setPilotStatus(ref, "Submitted", ce_name, "submitted", SITE, "main")
        db.rows[ref].update(VO=VO, OwnerDN=DN, OwnerGroup=GROUP)
    return ce, refs[0], stamps[refs[0]]


def test_get_pilot_output_sends_ref_with_stamp_and_gets_stdout_stderr(service, monkeypatch):
    handler, db, proxies, tmp_path = service
    ce, ref, stamp = submit_and_register(db, "pm-out.cloud", "echo pilot-says-hello\necho pilot-complains >&2\n", tmp_path)
    wait_for(lambda: ce.getJobStatus([ref])["Value"][ref] == "Done", "the pilot VM to stop")
    asked = []
    plugin = type(ce)
    real = plugin.getJobOutput
    monkeypatch.setattr(plugin, "getJobOutput", lambda self, job, *a: asked.append(job) or real(self, job, *a))

    result = handler.export_getPilotOutput(ref)

    assert result["OK"], result
    assert asked == [f"{ref}:::{stamp}"]
    assert "pilot-says-hello" in result["Value"]["StdOut"]
    assert "pilot-complains" in result["Value"]["StdOut"]  # a VM has one console: stderr is in it
    assert result["Value"]["StdErr"] == ""
    assert db.outputs[ref][0] == result["Value"]["StdOut"]
    assert proxies, "setPilotCredentials gave the CE a proxy first"


def test_kill_pilot_after_set_proxy_destroys_the_vm(service):
    handler, db, proxies, tmp_path = service
    ce, ref, _ = submit_and_register(db, "pm-kill.cloud", "echo started\nexec sleep 600\n", tmp_path)
    wait_for(lambda: ce.getJobStatus([ref])["Value"][ref] == "Running", "the pilot to run")

    result = PilotManagerHandler.export_killPilot.__func__(PilotManagerHandler, [ref])

    assert result["OK"], result
    assert proxies, "killPilotsInQueues called setProxy before killJob"
    assert ce.getJobStatus([ref])["Value"][ref] == "Deleted"
