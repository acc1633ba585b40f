"""CloudceComputingElement: DIRAC's computing element for cloudce (``CEType = Cloudce``).

This module maps DIRAC's CE calls onto cloudce's: the DIRAC result shapes, the proxy and token,
the submission key and pilot stamps. Every call goes through one ``cloudce serve --stdio`` child
per Python process, shared by every CE object (cloudce_bridge.py: the child, its reader thread,
request ids, respawn); cloudce_requests.py keeps each CE object's handle in that child.

The type is ``Cloudce`` and not ``Cloud``: DIRAC's factory looks for
``Resources.Computing.<Type>ComputingElement`` on sys.path before DIRAC itself, so a module named
``CloudComputingElement`` would replace DIRAC's own CloudCE for every site of the installation.

Standard library plus DIRAC only (Python 3.11).
"""

import datetime
import os
import uuid

from DIRAC import S_ERROR, S_OK
from DIRAC.Core.Security.X509Chain import X509Chain  # pylint: disable=import-error
from DIRAC.Resources.Computing.ComputingElement import ComputingElement

# BridgeError and RpcError are imported for the tests and tools that catch them from this module.
from .cloudce_bridge import BRIDGE as _BRIDGE
from .cloudce_bridge import BRIDGE_DEFAULTS, BridgeError, BridgeTimeout, RpcError  # noqa: F401  pylint: disable=unused-import
from .cloudce_requests import HandleRequests
from .cloudce_values import bounded_seconds, never_raises, pilot_refs, whole_number, wire_value

# How long past the deadline the plugin still waits for submitJob's answer. After the deadline the
# server bounds all remaining work (in-flight creations, then the listing that recovers lost answers)
# by one Cloud_RequestTimeout (RT); waiting 2*RT plus a margin covers that bound with room for the
# answer's own trip and a slow machine (docs/serve-protocol.md, "submitJob and its deadline").
SUBMIT_GRACE = 30
DEFAULT_REQUEST_TIMEOUT = 30
# The longest a bridge option may be (seconds): beyond that it is a typo, and threading's waits
# overflow on a value that is not finite.
BRIDGE_MAX_SECONDS = 3600
# cloudce's own range for Cloud_RequestTimeout (README, CE options).
MAX_REQUEST_TIMEOUT = 3600


def submit_wait(deadline, request_timeout):
    """Seconds to wait for submitJob's answer: the deadline, the server's bound after it, a margin."""
    return deadline + 2 * request_timeout + SUBMIT_GRACE


class CloudceComputingElement(HandleRequests, ComputingElement):
    """A DIRAC CE whose pilots are cloud VMs started by cloudce."""

    def __init__(self, ceName):
        super().__init__(ceName)
        self._handle = None
        self._generation = None
        self._closer = None
        self._sent_parameters = None
        self._proxy_pem = None
        self._proxy_valid_given = False  # setProxy's valid > 0: a replay sends what is left of it
        self._token = None
        self.valid = None
        self._start_error = None  # the start failure already logged as ERROR by this CE object

    # Configuration -------------------------------------------------------------------------------

    def _reset(self):
        """After DIRAC merged the parameters: check the plugin's own, send the rest to cloudce."""
        for name in ("Bridge_CallTimeout", "Bridge_SubmitDeadline"):
            if bounded_seconds(self._option(name), BRIDGE_MAX_SECONDS) is None:
                return S_ERROR(f"{name}: '{self._option(name)}' is not a number of seconds above 0 and at most {BRIDGE_MAX_SECONDS}")
        self._sent_parameters = self._cloudce_parameters()
        return self._request("setParameters", {"options": self._sent_parameters})

    def _cloudce_parameters(self):
        options = {}
        for key, value in self.ceParameters.items():
            wired = wire_value(value)
            if wired is not None and key not in BRIDGE_DEFAULTS:
                options[key] = wired
        return options

    def _option(self, name):
        return self.ceParameters.get(name, BRIDGE_DEFAULTS[name])

    def _bridgebounded_seconds(self, name):
        """A bridge option as checked by _reset; its default if it changed to a bad value since."""
        return bounded_seconds(self._option(name), BRIDGE_MAX_SECONDS) or BRIDGE_DEFAULTS[name]

    @never_raises
    def setProxy(self, proxy, valid=0):  # pylint: disable=arguments-differ
        """Keeps ``proxy`` as an X509Chain (SiteDirector calls getRemainingSecs on it) and sends its PEM."""
        if isinstance(proxy, str):
            chain = X509Chain()
            loaded = chain.loadProxyFromString(proxy)
            if not loaded["OK"]:
                return loaded
            proxy = chain
        dumped = proxy.dumpAllToString()
        if not dumped["OK"]:
            return dumped
        pem = dumped["Value"].decode() if isinstance(dumped["Value"], bytes) else dumped["Value"]
        self.proxy = proxy
        self.valid = datetime.datetime.utcnow() + datetime.timedelta(seconds=valid)
        self._proxy_pem = pem
        self._proxy_valid_given = bool(valid) and valid > 0
        return self._request("setProxy", {"pem": pem, "valid": valid})

    @never_raises
    def isProxyValid(self, valid=1000):
        """OK with the seconds left beyond ``valid``; like DIRAC v8, an error carries them as Value."""
        if not self.proxy:
            result = S_ERROR("Proxy is not valid for the requested length")
            result["Value"] = 0
            return result
        left = self.proxy.getRemainingSecs()
        if not left["OK"]:
            return left
        if left["Value"] > valid:
            return S_OK(left["Value"] - valid)
        result = S_ERROR("Proxy is not valid for the requested length")
        result["Value"] = left["Value"] - valid
        return result

    @never_raises
    def setToken(self, token):
        """Keeps the token (DIRAC hands a token dict or a string) and sends the access token."""
        super().setToken(token)
        access = token.get("access_token") if isinstance(token, dict) else token
        if not access:
            return S_ERROR("setToken: the token has no access_token")
        self._token = str(access)
        return self._request("setToken", {"token": self._token})

    # CE methods -------------------------------------------------------------------------------------

    @never_raises
    def isValid(self):
        result = super().isValid()
        return self._request("isValid", {}) if result["OK"] else result

    @never_raises
    def available(self, jobIDList=None):  # pylint: disable=arguments-differ,unused-argument
        """Free slots from cloudce's own listing of this CE's VMs (``jobIDList`` is not needed)."""
        result = self._request("available", {})
        if result["OK"]:
            return result
        # DIRAC v9's SiteDirector falls back to its own counts when available() fails and would
        # submit anyway: a CE that cannot be asked offers no slot, and says why.
        self.log.warn("available: no slot while cloudce cannot answer", result["Message"])
        zeros = {"SubmittedJobs": 0, "RunningJobs": 0, "WaitingJobs": 0}
        info = {**zeros, "MaxTotalJobs": 0, "MaxWaitingJobs": 0, "Reason": result["Message"]}
        return {**S_OK(0), **zeros, "CEInfoDict": info}

    @never_raises
    def getCEStatus(self):
        return self._request("getCEStatus", {})

    @never_raises
    def submitJob(self, executableFile, proxy=None, numberOfJobs=1):  # pylint: disable=arguments-differ
        """Starts ``numberOfJobs`` pilot VMs; never resent, and answers before SiteDirector would give up."""
        if proxy:
            result = self.setProxy(proxy)
            if not result["OK"]:
                return result
        deadline = self._bridgebounded_seconds("Bridge_SubmitDeadline")
        # A bad value was already named by cloudce's setParameters: wait as for the default then.
        request_timeout = bounded_seconds(self.ceParameters.get("Cloud_RequestTimeout", DEFAULT_REQUEST_TIMEOUT), MAX_REQUEST_TIMEOUT)
        request_timeout = request_timeout or DEFAULT_REQUEST_TIMEOUT
        timeout = submit_wait(deadline, request_timeout)
        count = whole_number(numberOfJobs)
        if count is None:
            return S_ERROR(f"cloudce submitJob: numberOfJobs: '{numberOfJobs}' is not a whole number")
        key = uuid.uuid4().hex  # this submission's name: its VMs carry it, and a lost answer is found by it
        params = {"executableFile": os.path.abspath(executableFile), "numberOfJobs": count, "deadline": deadline,
                  "submission": key}
        result = self._request("submitJob", params, timeout=timeout,
                               on_lost=lambda exc, generation: self._recover(key, exc, generation, request_timeout))
        if result["OK"] and result.get("Interrupted"):
            self.log.warn("submitJob: Bridge_SubmitDeadline reached", result["Interrupted"])
        if result["OK"] and result.get("Partial"):
            self.log.warn("submitJob: fewer pilots than asked", result["Partial"])
        return result

    def _recover(self, key, lost, generation, request_timeout):
        """submitJob's answer from its key after the child died or timed out under it; never creates a VM.

        A child that timed out still runs the submission: it is asked first (it stops starting VMs and
        answers), and killed if it cannot answer that either, so no create of it races the recovery.
        """
        self.log.warn("cloudce submitJob: no answer; recovering the submission by its key", f"{key}: {lost}")
        params = {"submission": key}
        result = self._request("recoverSubmission", params, timeout=submit_wait(0, request_timeout))
        if not result["OK"] and isinstance(lost, BridgeTimeout):
            _BRIDGE.end(generation)
            self._generation = None
            result = self._request("recoverSubmission", params, timeout=submit_wait(0, request_timeout))
        if not result["OK"]:
            return S_ERROR(f"cloudce submitJob: {lost}; recovering submission {key} failed: {result['Message']}"
                           " (its VMs carry the key and this CE's tags: cleanupPilots finds them)")
        if not result["Value"]:
            return S_ERROR(f"cloudce submitJob: {lost}; no VM of submission {key} exists")
        self.log.warn("cloudce submitJob: recovered after the lost answer", result.get("Recovered") or result.get("Interrupted") or key)
        return result

    @never_raises
    def getJobStatus(self, jobIDList):
        return self._request("getJobStatus", {"refs": pilot_refs(jobIDList)})

    @never_raises
    def killJob(self, jobIDList):
        return self._request("killJob", {"refs": pilot_refs(jobIDList)})

    @never_raises
    def cleanupPilots(self):
        return self._request("cleanupPilots", {})

    @never_raises
    def getJobOutput(self, jobID, localDir=None):  # pylint: disable=unused-argument
        """``(stdout, stderr)`` of a pilot VM; ``jobID`` may be PilotManager's ``<ref>:::<stamp>``."""
        result = self._request("getJobOutput", {"ref": jobID})
        if result["OK"]:
            stdout, stderr = result["Value"]
            result["Value"] = (stdout, stderr)
        return result
