"""Values between DIRAC and cloudce: CE parameters as JSON, cloudce's answers as DIRAC results."""

import functools
import math

from DIRAC import S_ERROR


def bounded_seconds(value, maximum):
    """A finite number of seconds above 0 and at most ``maximum``, or None."""
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return seconds if math.isfinite(seconds) and 0 < seconds <= maximum else None


def never_raises(method):
    """A CE method as DIRAC calls it: whatever goes wrong inside the plugin is an S_ERROR, never an exception."""

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # pylint: disable=broad-except
            return S_ERROR(f"cloudce {method.__name__}: {type(exc).__name__}: {exc}")

    return guarded


def wire_value(value):
    """A CE parameter as JSON: sets and tuples become lists; anything else unknown is dropped."""
    if isinstance(value, (set, frozenset, tuple, list)):
        return sorted(str(v) for v in value) if isinstance(value, (set, frozenset)) else [str(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON cannot carry it; as text, cloudce names the option and its range
    if isinstance(value, (str, int, float, bool)):
        return value
    return None


def whole_number(value):
    """``value`` as a whole number (an int, an integral float, or such a string), else None; cloudce checks the range."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return int(number) if math.isfinite(number) and number == int(number) else None


def to_dirac(result):
    """A DIRAC result from cloudce's: the error code travels as CloudceCode (Errno stays DIRAC's int), and
    since protocol 3 whether a retry may cure it as CloudceRetryable and the driver that raised it as
    CloudceDriver, each only when cloudce said it."""
    if not isinstance(result, dict) or "OK" not in result:
        return S_ERROR(f"cloudce returned no DIRAC result: {str(result)[:80]}")
    if result["OK"]:
        return result
    error = S_ERROR(result.get("Message", "cloudce: unknown error"))
    if result.get("Code"):
        error["CloudceCode"] = result["Code"]
    if isinstance(result.get("Retryable"), bool):
        error["CloudceRetryable"] = result["Retryable"]
    if result.get("Driver"):
        error["CloudceDriver"] = result["Driver"]
    return error


def pilot_refs(jobIDList):
    return [jobIDList] if isinstance(jobIDList, str) else [str(ref) for ref in jobIDList]
