"""The transport to cloudce: one ``cloudce serve --stdio`` child per Python process.

The child is started on first use and shared by every CE object of the process (SiteDirector has
one per queue, in threads); it is started again after a crash or in a forked process. Requests are
JSON-RPC 2.0, one JSON object per line (docs/serve-protocol.md in the cloudce repository); a reader
thread hands each answer to the thread waiting for its request id. What a CE call means to DIRAC
is CloudceComputingElement's business, not this module's.

Standard library plus DIRAC's logger only (Python 3.11).
"""

import collections
import itertools
import json
import os
import shlex
import subprocess
import threading

from DIRAC import gLogger

from . import cloudce_version
from .cloudce_start import early_exit, exit_status, protocol_refused, start_failure, version_problem

PROTOCOL_VERSION = 3  # 2: submission keys and recoverSubmission; 3: Retryable and Driver in failed results
OLDEST_PROTOCOL = 2  # the plugin needs submission keys; a server that refuses 3 is asked in this one
UNKNOWN_HANDLE = -32001  # docs/serve-protocol.md, Errors
UNSUPPORTED_PROTOCOL = -32003
VERSION_MISMATCH = -32004

# Options read by this plugin only (never sent to cloudce), with their defaults.
BRIDGE_DEFAULTS = {
    "Bridge_Command": "cloudce",  # the cloudce command; $CLOUDCE_SERVE_COMMAND wins when set
    "Bridge_CallTimeout": 120,  # seconds to wait for any answer but submitJob's
    "Bridge_SubmitDeadline": 240,  # seconds cloudce may spend starting VMs in one submitJob
}


def encode_line(message):
    """One protocol line: strict JSON (no Infinity or NaN, which JSON cannot carry)."""
    return (json.dumps(message, allow_nan=False) + "\n").encode()


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
        self.protocol = None  # the protocol agreed with the current child, once its handshake is done
        # (generation, handle) of CE objects that are gone. A finalizer only appends here: it may run
        # in any thread at any allocation, even one holding the lock, so the next call sends the closes.
        self._orphans = collections.deque()
        self._reset()

    def forget(self, generation, handle):
        """Called when a CE object is collected: its handle is closed with the next request."""
        self._orphans.append((generation, handle))

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
            status = None if isinstance(exc, BridgeTimeout) else exit_status(proc)
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
        """Protocol 3, or 2 with a server from before Retryable and Driver (it refuses 3): sets self.protocol."""
        for protocol in (PROTOCOL_VERSION, OLDEST_PROTOCOL):
            try:
                hello = self._hello(protocol, command, generation)
            except RpcError as exc:
                if exc.code == VERSION_MISMATCH:
                    raise BridgeStartError(str(exc)) from exc
                if exc.code != UNSUPPORTED_PROTOCOL:
                    raise BridgeError(f"cloudce serve refused the handshake: {exc}") from exc
                refusal = exc
                continue
            self.protocol = protocol
            return hello
        raise BridgeStartError(protocol_refused(refusal, OLDEST_PROTOCOL, PROTOCOL_VERSION)) from refusal

    def _hello(self, protocol, command, generation):
        level = "debug" if gLogger.shown("DEBUG") else "info"
        params = {"protocol": protocol, "client": "cloudce_dirac", "clientVersion": cloudce_version.__version__,
                  "logs": "notify", "logLevel": level}
        try:
            return self.call("handshake", params, BRIDGE_DEFAULTS["Bridge_CallTimeout"], command, generation)
        except StaleHandle as exc:  # the new child is already gone: starting another here would recurse
            raise BridgeError("cloudce serve exited before its handshake") from exc

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



BRIDGE = Bridge()
os.register_at_fork(after_in_child=BRIDGE.after_fork)


def _log():
    return gLogger.getSubLogger("cloudce")


def _forward_log(params):
    fields = params.get("fields") or {}
    ce = fields.pop("ce", None)
    logger = gLogger.getSubLogger(ce) if ce else _log()
    detail = " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
    getattr(logger, LOG_LEVELS.get(params.get("level"), "info"))(params.get("msg", ""), detail)

