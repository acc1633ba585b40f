"""CloudceComputingElement: DIRAC's computing element for cloudce (``CEType = Cloudce``).

Each CE object talks to one ``cloudce serve --stdio`` child per Python process, started on first
use and shared by every CE object (SiteDirector has one per queue, in threads). The protocol is
docs/serve-protocol.md in the cloudce repository: JSON-RPC 2.0, one JSON object per line.

The type is ``Cloudce`` and not ``Cloud``: DIRAC's factory looks for
``Resources.Computing.<Type>ComputingElement`` on sys.path before DIRAC itself, so a module named
``CloudComputingElement`` would replace DIRAC's own CloudCE for every site of the installation.

Standard library plus DIRAC only (Python 3.11).
"""

import collections
import datetime
import functools
import itertools
import json
import math
import os
import shlex
import subprocess
import threading
import uuid
import weakref

from DIRAC import S_ERROR, S_OK, gLogger
from DIRAC.Core.Security.X509Chain import X509Chain  # pylint: disable=import-error
from DIRAC.Resources.Computing.ComputingElement import ComputingElement

from . import cloudce_version
from .cloudce_start import early_exit, start_failure, version_problem

PROTOCOL_VERSION = 2  # submission keys and recoverSubmission
UNKNOWN_HANDLE = -32001  # docs/serve-protocol.md, Errors
UNSUPPORTED_PROTOCOL = -32003
VERSION_MISMATCH = -32004

# Options read by this plugin only (never sent to cloudce), with their defaults.
BRIDGE_DEFAULTS = {
    "Bridge_Command": "cloudce",  # the cloudce command; $CLOUDCE_SERVE_COMMAND wins when set
    "Bridge_CallTimeout": 120,  # seconds to wait for any answer but submitJob's
    "Bridge_SubmitDeadline": 240,  # seconds cloudce may spend starting VMs in one submitJob
}
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


def encode_line(message):
    """One protocol line: strict JSON (no Infinity or NaN, which JSON cannot carry)."""
    return (json.dumps(message, allow_nan=False) + "\n").encode()


def _seconds(value, maximum):
    """A finite number of seconds above 0 and at most ``maximum``, or None."""
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return seconds if math.isfinite(seconds) and 0 < seconds <= maximum else None


def _never_raises(method):
    """A CE method as DIRAC calls it: whatever goes wrong inside the plugin is an S_ERROR, never an exception."""

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # pylint: disable=broad-except
            return S_ERROR(f"cloudce {method.__name__}: {type(exc).__name__}: {exc}")

    return guarded


def submit_wait(deadline, request_timeout):
    """Seconds to wait for submitJob's answer: the deadline, the server's bound after it, a margin."""
    return deadline + 2 * request_timeout + SUBMIT_GRACE

# Calls that may be sent again after the child died under them: they change nothing, or are
# idempotent (a pilot killed twice is killed). submitJob is never resent: a lost one is recovered
# by its submission key (docs/serve-protocol.md, "Submission keys"), which creates nothing.
RESENDABLE = {"isValid", "available", "getCEStatus", "getJobStatus", "killJob", "cleanupPilots", "getJobOutput",
              "recoverSubmission"}

LOG_LEVELS = {"debug": "debug", "info": "info", "warn": "warn", "error": "error"}


class BridgeError(Exception):
    """The child could not be reached, died, or did not answer in time: no answer from cloudce."""


class BridgeStartError(BridgeError):
    """cloudce cannot serve this plugin at all (not found, not executable, another version): an admin must act."""


class BridgeTimeout(BridgeError):
    """The child is alive but did not answer in time (it keeps working on the request)."""


class StaleHandle(Exception):
    """The request was pinned to a child that has since been replaced: it was not sent."""


class RpcError(Exception):
    """cloudce refused the request (docs/serve-protocol.md, Errors)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class _Pending:
    __slots__ = ("event", "reply", "generation")

    def __init__(self, generation):
        self.event = threading.Event()
        self.reply = None
        self.generation = generation


class Bridge:
    """One ``cloudce serve`` child for this process: started lazily, restarted after a crash or a fork."""

    def __init__(self):
        self._lock = threading.Lock()
        # Serialises opening handles (taken before _lock, never after): two threads reopening one CE
        # object must not both open, and a handle must be bound to the child that gave it.
        self.open_lock = threading.Lock()
        self._ids = itertools.count(1)
        # (generation, handle) of CE objects that are gone. A finalizer only appends here: it may run
        # in any thread at any allocation, even one holding the lock, so the next call sends the closes.
        self._orphans = collections.deque()
        self._reset()

    def forget(self, generation, handle):
        """Called when a CE object is collected: its handle is closed with the next request."""
        self._orphans.append((generation, handle))

    @_never_raises
    def _reset(self):
        self._proc = None
        self._owner = None  # the pid that started the child: a forked process must start its own
        self.generation = 0
        self._pending = {}

    def after_fork(self):
        """In a forked child: forget the parent's process (never signal it) and locks it may hold."""
        self._lock = threading.Lock()
        self.open_lock = threading.Lock()
        generation = self.generation
        self._reset()
        self.generation = generation

    def alive(self):
        return self._proc is not None and self._owner == os.getpid() and self._proc.poll() is None

    def end(self, generation):
        """Kills the child of ``generation`` if it is still the current one: a child that does not answer
        must not go on starting VMs while another recovers its submission."""
        with self._lock:
            if self.generation == generation and self.alive():
                self._abandon(self._proc)

    def call(self, method, params, timeout, command, generation=None):
        """Sends one request and waits for its answer; returns the result or raises BridgeError/RpcError.

        With ``generation``, the request goes only to that child: if it has been replaced, StaleHandle
        is raised and nothing is sent (a handle names a CE in one child only).
        """
        return self.exchange(method, params, timeout, command, generation)[0]

    def exchange(self, method, params, timeout, command, generation=None):
        """``call``, also returning the generation of the child that answered."""
        request_id = next(self._ids)
        line = encode_line({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        with self._lock:
            if generation is None:
                current = self._ensure(command)
            elif self.alive() and self.generation == generation:
                current = generation
            else:  # never start a child for a request meant for another one
                raise StaleHandle(f"{method}: the handle belongs to an earlier cloudce serve child")
            pending = _Pending(current)
            self._pending[request_id] = pending
            try:
                self._proc.stdin.write(self._close_orphans(current) + line)
                self._proc.stdin.flush()
            except OSError as exc:
                del self._pending[request_id]
                self._abandon(self._proc)
                raise BridgeError(f"cloudce serve is gone ({exc})") from exc
        if not pending.event.wait(timeout):
            with self._lock:
                self._pending.pop(request_id, None)
            raise BridgeTimeout(f"cloudce serve did not answer {method} within {timeout:g} s")
        reply = pending.reply
        if reply is None:
            raise BridgeError(f"cloudce serve exited during {method}")
        if "error" in reply:
            error = reply["error"]
            raise RpcError(error.get("code"), error.get("message", "unknown error"))
        return reply.get("result"), pending.generation

    def _close_orphans(self, generation):
        """``close`` notifications (no answer is awaited) for the orphaned handles of this child (lock held)."""
        lines = []
        while self._orphans:
            born, handle = self._orphans.popleft()
            if born == generation:  # an earlier child's handle died with it; its name may be reused now
                notice = {"jsonrpc": "2.0", "method": "close", "params": {"handle": handle}}
                lines.append(encode_line(notice))
        return b"".join(lines)

    def _ensure(self, command):
        """The current generation, starting a child first when there is none alive (lock held)."""
        if self.alive():
            return self.generation
        argv = shlex.split(os.environ.get("CLOUDCE_SERVE_COMMAND") or command) + ["serve", "--stdio"]
        try:
            proc = subprocess.Popen(  # pylint: disable=consider-using-with
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True
            )
        except OSError as exc:
            raise BridgeStartError(start_failure(argv, command, exc)) from exc
        self.generation += 1
        self._proc, self._owner = proc, os.getpid()
        generation = self.generation
        threading.Thread(target=self._read, args=(proc, generation), daemon=True, name="cloudce-serve-out").start()
        proc.cloudce_stderr = collections.deque(maxlen=3)  # the last lines, for the error of a child that ends at once
        stderr_reader = threading.Thread(target=self._read_stderr, args=(proc,), daemon=True, name="cloudce-serve-err")
        stderr_reader.start()
        # The handshake is a request like any other: its answer arrives through the reader thread.
        self._lock.release()
        try:
            hello = self._handshake(command, generation)
            mismatch = version_problem(hello, argv)
            if mismatch:
                raise BridgeStartError(mismatch)
        except BridgeStartError:
            self._lock.acquire()
            self._abandon(proc)
            raise
        except BridgeError as exc:
            status = None if isinstance(exc, BridgeTimeout) else _exit_status(proc)
            self._lock.acquire()
            self._abandon(proc)
            if status is None:
                raise
            # It ended by itself before it could answer: the command is broken, not the moment.
            stderr_reader.join(2)
            raise BridgeStartError(early_exit(argv, command, status, list(proc.cloudce_stderr))) from exc
        except BaseException:
            self._lock.acquire()
            raise
        self._lock.acquire()
        _log().verbose("cloudce serve started", f"pid {hello.get('pid')}, {hello.get('server')}")
        return generation

    def _abandon(self, proc):
        """Kills a child we cannot talk to and forgets it at once (lock held): a killed process still
        looks alive until the kernel has reaped it, and the next call must start a new one."""
        proc.kill()
        if self._proc is proc:
            self._proc = None

    def _handshake(self, command, generation):
        level = "debug" if gLogger.shown("DEBUG") else "info"
        params = {"protocol": PROTOCOL_VERSION, "client": "cloudce_dirac", "clientVersion": cloudce_version.__version__,
                  "logs": "notify", "logLevel": level}
        try:
            return self.call("handshake", params, BRIDGE_DEFAULTS["Bridge_CallTimeout"], command, generation)
        except StaleHandle as exc:  # the new child is already gone: starting another here would recurse
            raise BridgeError("cloudce serve exited before its handshake") from exc
        except RpcError as exc:
            if exc.code == VERSION_MISMATCH:
                raise BridgeStartError(str(exc)) from exc
            if exc.code == UNSUPPORTED_PROTOCOL:  # a server from before the version check, older than this plugin
                raise BridgeStartError(f"cloudce version mismatch: cloudce serve refused the handshake ({exc}); "
                                       f"upgrade cloudce to {cloudce_version.__version__}, the DIRAC plugin's version") from exc
            raise BridgeError(f"cloudce serve refused the handshake: {exc}") from exc

    def _read(self, proc, generation):
        for raw in proc.stdout:
            try:
                message = json.loads(raw)
            except ValueError:
                _log().error("cloudce serve wrote a line that is not protocol", raw[:120])
                continue
            if "id" not in message:
                if message.get("method") == "log":
                    _forward_log(message.get("params") or {})
                continue
            with self._lock:
                pending = self._pending.pop(message["id"], None)
            if pending is not None:
                pending.reply = message
                pending.event.set()
        proc.wait()
        with self._lock:
            lost = [rid for rid, p in self._pending.items() if p.generation == generation]
            for rid in lost:
                self._pending.pop(rid).event.set()  # reply None: the child died under it

    @staticmethod
    def _read_stderr(proc):
        for raw in proc.stderr:
            text = raw.decode(errors="replace").rstrip()
            if text:
                proc.cloudce_stderr.append(text)
                _log().warn("cloudce serve:", text)


def _exit_status(proc):
    """The exit status of a child that ended (it may still be on its way out), or None while it runs."""
    try:
        return proc.wait(2)
    except subprocess.TimeoutExpired:
        return None


_BRIDGE = Bridge()
os.register_at_fork(after_in_child=_BRIDGE.after_fork)


def _log():
    return gLogger.getSubLogger("cloudce")


def _forward_log(params):
    fields = params.get("fields") or {}
    ce = fields.pop("ce", None)
    logger = gLogger.getSubLogger(ce) if ce else _log()
    detail = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
    getattr(logger, LOG_LEVELS.get(params.get("level"), "info"))(params.get("msg", ""), detail)


def _wire_value(value):
    """A CE parameter as JSON: sets and tuples become lists; anything else unknown is dropped."""
    if isinstance(value, (set, frozenset, tuple, list)):
        return sorted(str(v) for v in value) if isinstance(value, (set, frozenset)) else [str(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON cannot carry it; as text, cloudce names the option and its range
    if isinstance(value, (str, int, float, bool)):
        return value
    return None


def _whole(value):
    """``value`` as a whole number (an int, an integral float, or such a string), else None; cloudce checks the range."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return int(number) if math.isfinite(number) and number == int(number) else None


def _to_dirac(result):
    """A DIRAC result from cloudce's: the error code travels as CloudceCode, Errno stays DIRAC's int."""
    if not isinstance(result, dict) or "OK" not in result:
        return S_ERROR(f"cloudce returned no DIRAC result: {str(result)[:80]}")
    if result["OK"]:
        return result
    error = S_ERROR(result.get("Message", "cloudce: unknown error"))
    if result.get("Code"):
        error["CloudceCode"] = result["Code"]
    return error


class CloudceComputingElement(ComputingElement):
    """A DIRAC CE whose pilots are cloud VMs started by cloudce."""

    def __init__(self, ceName):
        super().__init__(ceName)
        self._handle = None
        self._generation = None
        self._closer = None
        self._sent_parameters = None
        self._proxy_pem = None
        self._token = None
        self.valid = None
        self._start_error = None  # the start failure already logged as ERROR by this CE object

    # Configuration -------------------------------------------------------------------------------

    def _reset(self):
        """After DIRAC merged the parameters: check the plugin's own, send the rest to cloudce."""
        for name in ("Bridge_CallTimeout", "Bridge_SubmitDeadline"):
            if _seconds(self._option(name), BRIDGE_MAX_SECONDS) is None:
                return S_ERROR(f"{name}: '{self._option(name)}' is not a number of seconds above 0 and at most {BRIDGE_MAX_SECONDS}")
        self._sent_parameters = self._cloudce_parameters()
        return self._request("setParameters", {"options": self._sent_parameters})

    def _cloudce_parameters(self):
        options = {}
        for key, value in self.ceParameters.items():
            wired = _wire_value(value)
            if wired is not None and key not in BRIDGE_DEFAULTS:
                options[key] = wired
        return options

    def _option(self, name):
        return self.ceParameters.get(name, BRIDGE_DEFAULTS[name])

    def _bridge_seconds(self, name):
        """A bridge option as checked by _reset; its default if it changed to a bad value since."""
        return _seconds(self._option(name), BRIDGE_MAX_SECONDS) or BRIDGE_DEFAULTS[name]

    @_never_raises
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
        return self._request("setProxy", {"pem": pem, "valid": valid})

    @_never_raises
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

    @_never_raises
    def setToken(self, token):
        """Keeps the token (DIRAC hands a token dict or a string) and sends the access token."""
        super().setToken(token)
        access = token.get("access_token") if isinstance(token, dict) else token
        if not access:
            return S_ERROR("setToken: the token has no access_token")
        self._token = str(access)
        return self._request("setToken", {"token": self._token})

    # CE methods -------------------------------------------------------------------------------------

    @_never_raises
    def isValid(self):
        result = super().isValid()
        return self._request("isValid", {}) if result["OK"] else result

    @_never_raises
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

    @_never_raises
    def getCEStatus(self):
        return self._request("getCEStatus", {})

    @_never_raises
    def submitJob(self, executableFile, proxy=None, numberOfJobs=1):  # pylint: disable=arguments-differ
        """Starts ``numberOfJobs`` pilot VMs; never resent, and answers before SiteDirector would give up."""
        if proxy:
            result = self.setProxy(proxy)
            if not result["OK"]:
                return result
        deadline = self._bridge_seconds("Bridge_SubmitDeadline")
        # A bad value was already named by cloudce's setParameters: wait as for the default then.
        request_timeout = _seconds(self.ceParameters.get("Cloud_RequestTimeout", DEFAULT_REQUEST_TIMEOUT), MAX_REQUEST_TIMEOUT)
        request_timeout = request_timeout or DEFAULT_REQUEST_TIMEOUT
        timeout = submit_wait(deadline, request_timeout)
        count = _whole(numberOfJobs)
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

    @_never_raises
    def getJobStatus(self, jobIDList):
        return self._request("getJobStatus", {"refs": _refs(jobIDList)})

    @_never_raises
    def killJob(self, jobIDList):
        return self._request("killJob", {"refs": _refs(jobIDList)})

    @_never_raises
    def cleanupPilots(self):
        return self._request("cleanupPilots", {})

    @_never_raises
    def getJobOutput(self, jobID, localDir=None):  # pylint: disable=unused-argument
        """``(stdout, stderr)`` of a pilot VM; ``jobID`` may be PilotManager's ``<ref>:::<stamp>``."""
        result = self._request("getJobOutput", {"ref": jobID})
        if result["OK"]:
            stdout, stderr = result["Value"]
            result["Value"] = (stdout, stderr)
        return result

    # The bridge -------------------------------------------------------------------------------------

    def _request(self, method, params, timeout=None, on_lost=None):
        """One CE call through the child, as a DIRAC result; a transport failure is an error, never a status.

        ``on_lost(exc, generation)`` answers instead when ``method`` was sent and no answer came (the
        child died, or timed out while alive).
        """
        timeout = timeout or self._bridge_seconds("Bridge_CallTimeout")
        command = self._option("Bridge_Command")
        resends = 1 if method in RESENDABLE else 0
        reopened = False
        while True:
            try:
                handle, generation = self._ensure_handle(method)
                self._start_error = None
            except BridgeStartError as exc:  # trying again cannot help: say it once, as an error, per queue
                return self._start_failed(method, exc)
            except (BridgeError, StaleHandle) as exc:
                # Only the open and the replays were sent, never `method`: trying again is safe.
                if isinstance(exc, BridgeTimeout) or reopened:
                    return S_ERROR(f"cloudce {method}: {exc}")
                reopened = True
                self._generation = None
                self.log.warn(f"cloudce serve failed while opening the CE for {method}, trying once more", str(exc))
                continue
            except (RpcError, TypeError, ValueError) as exc:
                return S_ERROR(f"cloudce {method}: {exc}")
            try:
                return _to_dirac(_BRIDGE.call(method, {"handle": handle, **params}, timeout, command, generation))
            except (StaleHandle, RpcError) as exc:
                # Neither ran the request (an unknown handle is refused before anything is done), so
                # opening again and sending once more is safe for every method, submitJob included.
                unknown = isinstance(exc, StaleHandle) or exc.code == UNKNOWN_HANDLE
                if unknown and not reopened:
                    reopened = True
                    self._generation = None
                    continue
                return S_ERROR(f"cloudce {method}: {exc}")
            except (TypeError, ValueError) as exc:  # a parameter that JSON cannot carry: never raise into DIRAC
                return S_ERROR(f"cloudce {method}: {exc}")
            except BridgeTimeout as exc:
                if on_lost is not None:
                    return on_lost(exc, generation)
                return S_ERROR(f"cloudce {method}: {exc}")  # waiting once more would double the wait
            except (OverflowError, OSError, RuntimeError) as exc:  # never raise into DIRAC
                return S_ERROR(f"cloudce {method}: {type(exc).__name__}: {exc}")
            except BridgeError as exc:
                self._generation = None
                if on_lost is not None:
                    return on_lost(exc, generation)
                if resends > 0:
                    resends -= 1
                    self.log.warn(f"cloudce serve failed during {method}, trying once more", str(exc))
                    continue
                return S_ERROR(f"cloudce {method}: {exc}")

    def _start_failed(self, method, exc):
        """One ERROR line per CE object (one per queue in SiteDirector) while cloudce cannot be started."""
        message = str(exc)
        if message != self._start_error:
            self._start_error = message
            queue = self.ceParameters.get("Queue")
            self.log.error(f"{self.ceName}{f' queue {queue}' if queue else ''}: {message}")
        return S_ERROR(f"cloudce {method}: {message}")

    def _ensure_handle(self, method):
        """This CE's handle and its child, opening it (and replaying parameters, proxy, token) when needed."""
        command = self._option("Bridge_Command")
        timeout = self._bridge_seconds("Bridge_CallTimeout")
        with _BRIDGE.open_lock:
            if self._generation is not None and self._generation == _BRIDGE.generation and _BRIDGE.alive():
                return self._handle, self._generation
            opened, generation = _BRIDGE.exchange("open", {"ceName": self.ceName}, timeout, command)
            handle = opened["handle"]
            self._close_with_this_object(generation, handle)
            replay = []
            if self._sent_parameters is not None and method != "setParameters":
                replay.append(("setParameters", {"options": self._sent_parameters}))
            if self._proxy_pem is not None and method != "setProxy":
                replay.append(("setProxy", {"pem": self._proxy_pem}))
            if self._token is not None and method != "setToken":
                replay.append(("setToken", {"token": self._token}))
            for name, params in replay:
                answer = _to_dirac(_BRIDGE.call(name, {"handle": handle, **params}, timeout, command, generation))
                if not answer["OK"]:
                    self.log.warn(f"cloudce: replaying {name} after a restart failed", answer["Message"])
            self._handle, self._generation = handle, generation
            return handle, generation

    def _close_with_this_object(self, generation, handle):
        """Closes the handle when Python collects this object; a handle it held before is closed now."""
        if self._closer is not None:
            self._closer()  # queued for closing (dropped if its child is gone); a no-op once run
        # PilotManager makes a CE object per request: without this, the long-lived child would keep
        # one CE (HTTP pool, cloud login, proxy file) per request ever served.
        self._closer = weakref.finalize(self, _BRIDGE.forget, generation, handle)


def _refs(jobIDList):
    return [jobIDList] if isinstance(jobIDList, str) else [str(ref) for ref in jobIDList]
