"""Stand-ins for what SiteDirector talks to besides its CE: only databases and remote clients.

The agent itself, the CE factory, getQueues/getQueuesResolved, the pilot wrapper and the real
PilotAgentsDB methods that write pilots (addPilotReferences, addPilotTQReference) all run as DIRAC
ships them. PilotAgentsDB's SQL goes to a recorder that keeps the rows in memory.
"""

import csv
import datetime
import re
import threading

from DIRAC import S_OK, gLogger
from DIRAC.Core.Base.AgentModule import AgentModule
from DIRAC.FrameworkSystem.Client.ProxyManagerClient import gProxyManager
from DIRAC.WorkloadManagementSystem.Agent import SiteDirector as site_director_module
from DIRAC.WorkloadManagementSystem.DB.PilotAgentsDB import PilotAgentsDB

INSERT = re.compile(r"INSERT INTO PilotAgents\s*\(([^)]*)\)\s*VALUES\s*\((.*)\)\s*$", re.S)


class PilotDBRecorder(PilotAgentsDB):
    """The real PilotAgentsDB class, its SQL recorded instead of sent to MySQL."""

    def __init__(self):  # pylint: disable=super-init-not-called
        self.sql = []
        self.rows = {}
        self.outputs = {}
        self.lock = threading.Lock()
        self.log = gLogger.getSubLogger("PilotDBRecorder")

    def _escapeString(self, myString):
        return S_OK("'" + str(myString).replace("\\", "\\\\").replace("'", "\\'") + "'")

    def _update(self, cmd, *args, **kwargs):  # pylint: disable=unused-argument
        with self.lock:
            self.sql.append(cmd)
            match = INSERT.match(cmd)
            if match:
                columns = [c.strip() for c in match.group(1).split(",")]
                values = next(csv.reader([match.group(2)], quotechar="'", escapechar="\\", skipinitialspace=True))
                row = dict(zip(columns, values))
                now = datetime.datetime.utcnow()
                row.update(SubmissionTime=now, LastUpdateTime=now, OutputReady="False", AccountingSent="False")
                self.rows[row["PilotJobReference"]] = row
            result = S_OK(1)
            result["lastRowId"] = len(self.sql)
            return result

    def setPilotStatus(self, pilotRef, status, destination=None, statusReason=None, gridSite=None, queue=None, *args, **kwargs):  # pylint: disable=arguments-differ,keyword-arg-before-vararg,unused-argument
        with self.lock:
            row = self.rows[pilotRef]
            row["Status"] = status
            row["LastUpdateTime"] = datetime.datetime.utcnow()
            for key, value in (("DestinationSite", destination), ("GridSite", gridSite), ("Queue", queue), ("StatusReason", statusReason)):
                if value:
                    row[key] = value
        return S_OK()

    def selectPilots(self, condDict, *args, **kwargs):  # pylint: disable=arguments-differ,unused-argument
        return S_OK([ref for ref, row in self._matching(condDict)])

    def countPilots(self, condDict, *args, **kwargs):  # pylint: disable=arguments-differ,unused-argument
        return S_OK(len(self._matching(condDict)))

    def getPilotInfo(self, pilotRef=None, *args, **kwargs):  # pylint: disable=arguments-differ,keyword-arg-before-vararg,unused-argument
        refs = [pilotRef] if isinstance(pilotRef, str) else list(pilotRef or self.rows)
        with self.lock:
            return S_OK({ref: dict(self.rows[ref]) for ref in refs if ref in self.rows})

    def storePilotOutput(self, pilotRef, output, error):  # pylint: disable=arguments-differ
        with self.lock:
            self.outputs[pilotRef] = (output, error)
            self.rows[pilotRef]["OutputReady"] = "True"
        return S_OK()

    def _matching(self, condDict):
        def fits(row, key, wanted):
            if key in ("OwnerDN", "OwnerGroup", "VO", "TaskQueueID") and key not in row:
                return True
            value = row.get(key)
            return value in wanted if isinstance(wanted, (list, tuple, set)) else str(value) == str(wanted)

        with self.lock:
            return [(ref, row) for ref, row in self.rows.items() if all(fits(row, k, v) for k, v in condDict.items())]


class MatcherStandIn:
    """Waiting jobs in one task queue owned by ``group``."""

    def __init__(self, jobs, group):
        self.jobs, self.group = jobs, group

    def getMatchingTaskQueues(self, _ceDict):
        return S_OK({1: {"Jobs": self.jobs, "OwnerGroup": self.group, "Priority": 1.0}})


class SiteStatusStandIn:
    def __init__(self, sites):
        self.sites = sites

    def getUsableSites(self, *args, **kwargs):  # pylint: disable=unused-argument
        return S_OK(list(self.sites))


class ResourceStatusStandIn:
    rssFlag = False

    def getElementStatus(self, names, *args, **kwargs):  # pylint: disable=unused-argument
        return S_OK({name: {"all": "Active"} for name in names})


def make_site_director(monkeypatch, *, vo, site, proxy, jobs, group, work_dir, options=None, begin=True):
    """DIRAC's own SiteDirector with stand-ins for its clients; initialize() and beginExecution() done."""
    monkeypatch.setattr(AgentModule, "__init__", lambda self, *a, **k: None)
    db = PilotDBRecorder()
    monkeypatch.setattr(site_director_module, "getPilotAgentsDB", lambda: db)
    monkeypatch.setattr(site_director_module, "SiteStatus", lambda: SiteStatusStandIn([site]))
    monkeypatch.setattr(site_director_module, "ResourceStatus", ResourceStatusStandIn)
    monkeypatch.setattr(site_director_module, "MatcherClient", lambda: MatcherStandIn(jobs, group))
    dn = "/O=cloudce-test/CN=pilot"
    monkeypatch.setattr(site_director_module, "findGenericPilotCredentials", lambda **kw: S_OK((dn, group)))
    monkeypatch.setattr(gProxyManager, "getPilotProxyFromDIRACGroup", lambda *a, **k: S_OK(proxy))
    agent = site_director_module.SiteDirector()
    agent.log = gLogger.getSubLogger("SiteDirector")
    settings = {"VO": vo, "WorkDirectory": str(work_dir), "SendPilotAccounting": False, "MaxPilotsToSubmit": 100,
                "GetPilotOutput": True, "UpdatePilotStatus": True, "PilotWaitingFlag": False, "AvailableSlotsUpdateCycleFactor": 1}
    settings.update(options or {})
    agent.am_getOption = lambda name, default=None: settings.get(name, default)
    for name in ("_sendPilotSubmissionAccounting", "sendPilotSubmissionAccounting"):
        if hasattr(agent, name):
            monkeypatch.setattr(agent, name, lambda *a, **k: S_OK())
    assert agent.initialize()["OK"]
    if begin:
        result = agent.beginExecution()
        assert result["OK"], result
    agent.sendSubmissionMonitoring = False
    return agent, db


def site_director_cs(vo, group, site, ces):
    """The CS a SiteDirector needs: Setup, the pilot group and user, and ``ces``.

    ``ces`` maps a CE name to (its option lines, {queue name: {option: value}}).
    """
    def section(name, body):
        return f"{name}\n{{\n{body}\n}}"

    ce_sections = []
    for ce_name, (options, queues) in ces.items():
        queue_sections = [section(q, "\n".join(f"{k} = {v}" for k, v in opts.items())) for q, opts in queues.items()]
        ce_sections.append(section(ce_name, options + "\n" + section("Queues", "\n".join(queue_sections))))
    resources = section("Resources", section("Sites", section("CLOUD", section(site, f"CE = {', '.join(ces)}\n" + section("CEs", "\n".join(ce_sections))))))
    pilot = f"pilotFileServer = file:/nonexistent\nGenericPilotGroup = {group}\nGenericPilotUser = {vo}pilot"
    registry = section("Registry", "\n".join([
        section("VO", section(vo, f"VOMSName = {vo}")),
        section("Groups", section(group, f"Users = {vo}pilot\nProperties = GenericPilot, NormalUser\nVO = {vo}")),
        section("Users", section(f"{vo}pilot", "DN = /O=cloudce-test/CN=pilot")),
    ]))
    return "\n".join([
        section("DIRAC", f"Setup = CloudceTest\nVirtualOrganization = {vo}"),
        section("Operations", section("Defaults", section("Pilot", pilot))),
        registry,
        resources,
    ])
