"""A CE object's requests through the shared child: its handle there, reopened and replayed when lost.

Each CE object holds one handle in the child (its options, proxy, token, cloud login). When the
child was replaced or forgot the handle, the CE opens it again and replays what it had sent; a call
the child died under is sent once more only when that is safe, and submitJob never is.
"""

import datetime
import weakref

from DIRAC import S_ERROR

from .cloudce_bridge import BRIDGE as _BRIDGE
from .cloudce_bridge import UNKNOWN_HANDLE, BridgeError, BridgeStartError, BridgeTimeout, RpcError, StaleHandle
from .cloudce_values import to_dirac

# Calls that may be sent again after the child died under them: they change nothing, or are
# idempotent (a pilot killed twice is killed). submitJob is never resent: a lost one is recovered
# by its submission key (docs/serve-protocol.md, "Submission keys"), which creates nothing.
RESENDABLE = {"isValid", "available", "getCEStatus", "getJobStatus", "killJob", "cleanupPilots", "getJobOutput",
              "recoverSubmission"}


class HandleRequests:
    """Mixed into CloudceComputingElement: needs its ``ceName``, ``ceParameters``, ``log``, ``_option``
    and ``_bridge_seconds``, and the attributes it sets in ``__init__``."""

    def _request(self, method, params, timeout=None, on_lost=None):
        """One CE call through the child, as a DIRAC result; a transport failure is an error, never a status.

        ``on_lost(exc, generation)`` answers instead when ``method`` was sent and no answer came (the
        child died, or timed out while alive).
        """
        timeout = timeout or self._bridgebounded_seconds("Bridge_CallTimeout")
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
                return to_dirac(_BRIDGE.call(method, {"handle": handle, **params}, timeout, command, generation))
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
        timeout = self._bridgebounded_seconds("Bridge_CallTimeout")
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
                replay.append(("setProxy", {"pem": self._proxy_pem, **self._proxy_validity_left()}))
            if self._token is not None and method != "setToken":
                replay.append(("setToken", {"token": self._token}))
            for name, params in replay:
                answer = to_dirac(_BRIDGE.call(name, {"handle": handle, **params}, timeout, command, generation))
                if not answer["OK"]:
                    self.log.warn(f"cloudce: replaying {name} after a restart failed", answer["Message"])
            self._handle, self._generation = handle, generation
            return handle, generation

    def _proxy_validity_left(self):
        """What is left of the validity setProxy was given, so a restarted child bounds the proxy as the old one did."""
        if not getattr(self, "_proxy_valid_given", False) or self.valid is None:
            return {}
        left = (self.valid - datetime.datetime.utcnow()).total_seconds()
        return {"valid": max(1, int(left))}

    def _close_with_this_object(self, generation, handle):
        """Closes the handle when Python collects this object; a handle it held before is closed now."""
        if self._closer is not None:
            self._closer()  # queued for closing (dropped if its child is gone); a no-op once run
        # PilotManager makes a CE object per request: without this, the long-lived child would keep
        # one CE (HTTP pool, cloud login, proxy file) per request ever served.
        self._closer = weakref.finalize(self, _BRIDGE.forget, generation, handle)
