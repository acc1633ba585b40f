"""The plugin's version and the rule that says which cloudce servers it works with.

The version is the release's: the npm package and the wheel are built from one checkout and carry
the same number (a unit test keeps package.json and this file equal). Plugin and server work
together when they share ``major.minor`` (docs/serve-protocol.md, "Versions").
"""

import re

__version__ = "0.1.0"

_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)")


def release_line(version):
    """``major.minor`` of a version string, or None when it is not one."""
    match = _VERSION.match(str(version or ""))
    return f"{match.group(1)}.{match.group(2)}" if match else None


def versions_match(plugin, server):
    line = release_line(plugin)
    return line is not None and line == release_line(server)


def _parts(version):
    match = _VERSION.match(str(version or ""))
    return tuple(int(x) for x in match.groups()) if match else (0, 0, 0)


def mismatch_message(plugin, server, server_path):
    """One line naming both versions and the side to upgrade (the older one)."""
    if _parts(plugin) < _parts(server):
        upgrade = (f"upgrade the DIRAC plugin to {server} (pip install cloudce_dirac-{server}-py3-none-any.whl "
                   "into DIRAC's Python) and restart the agent")
    else:
        upgrade = (f"upgrade cloudce to {plugin} (npm install -g cloudce-{plugin}.tgz, or point Bridge_Command "
                   f"at a cloudce {release_line(plugin) or plugin}.x)")
    return (f"cloudce version mismatch: the DIRAC plugin cloudce_dirac is {plugin} but {server_path} is "
            f"cloudce {server}; plugin and server must share major.minor: {upgrade}")
