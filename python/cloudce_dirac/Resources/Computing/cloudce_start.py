"""Why a ``cloudce serve`` child could not be started, told as one line an admin can act on.

The plugin runs ``$CLOUDCE_SERVE_COMMAND`` when set, else the CE option ``Bridge_Command``
(default ``cloudce``), looked up on the PATH of the DIRAC process.
"""

import os
import shutil
import subprocess

from . import cloudce_version


def command_source(command):
    """Where the command came from, for the error line."""
    override = os.environ.get("CLOUDCE_SERVE_COMMAND")
    if override:
        return f"$CLOUDCE_SERVE_COMMAND = '{override}' (it overrides Bridge_Command = '{command}')"
    return f"Bridge_Command = '{command}'"


def start_failure(argv, command, error):
    """The line for an OSError from starting ``argv``: the path tried, and the option to fix."""
    program = argv[0] if argv else command
    if os.sep in program:
        if isinstance(error, FileNotFoundError):
            tried = f"{program}: no such file"
        elif isinstance(error, PermissionError):
            tried = f"{program}: not executable by this user"
        else:
            tried = f"{program}: {error}"
    else:
        found = shutil.which(program)
        where = f"on PATH={os.environ.get('PATH', '')}"
        tried = f"'{program}' found as {found} but it cannot run ({error})" if found else f"'{program}' not found {where}"
    return (f"cannot start cloudce: {tried} (from {command_source(command)}); set Bridge_Command in the CE's "
            "CS section to the full path of cloudce (npm install -g puts it in $(npm prefix -g)/bin)")


def early_exit(argv, command, status, stderr_tail):
    """The line for a child that ended before its handshake: the command, its status and last words."""
    program = " ".join(argv[:-2]) or command
    said = f" ({stderr_tail[-1][:200]})" if stderr_tail else ""
    hint = ""
    if status in (126, 127):
        hint = "; a program it needs (node?) is not on the PATH of the DIRAC service, or not executable"
    return (f"cannot start cloudce: '{program}' exited with status {status} before its handshake{said}"
            f" (from {command_source(command)}){hint}; run '{program} --version' as the DIRAC user to see why")


def server_version(hello):
    """The server's version from its handshake answer (older servers only say 'cloudce <version>')."""
    version = hello.get("version")
    if isinstance(version, str):
        return version
    server = str(hello.get("server") or "")
    return server.split(" ", 1)[1] if server.startswith("cloudce ") else "unknown"


def version_problem(hello, argv):
    """The mismatch line when this server does not work with this plugin, else None."""
    plugin, server = cloudce_version.__version__, server_version(hello)
    if cloudce_version.versions_match(plugin, server):
        return None
    return cloudce_version.mismatch_message(plugin, server, " ".join(argv[:-2]) or "cloudce")


def protocol_refused(refusal, oldest, newest):
    """One line for a server that refused every protocol the plugin speaks: too old, name what helps."""
    return (f"cloudce version mismatch: cloudce serve refused the handshake in protocol {oldest} too ({refusal}); "
            f"upgrade cloudce to a release that speaks protocol {oldest} or {newest}, "
            f"{cloudce_version.__version__} (the DIRAC plugin's) or later")


def exit_status(proc):
    """The exit status of a child that ended (it may still be on its way out), or None while it runs."""
    try:
        return proc.wait(2)
    except subprocess.TimeoutExpired:
        return None
