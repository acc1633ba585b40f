"""Shared set-up for the plugin's tests against DIRAC's real code (v8 or v9, by PYTHONPATH).

scripts/dirac-tests.sh runs this suite once per DIRAC version. Each test gets real `cloudce serve`
children (the built dist/cli/main.js) on the LOCAL driver, in a private state directory.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("DIRAC_NO_CFG", "1")

REPO = Path(__file__).resolve().parents[2]
CLI = REPO / "dist" / "cli" / "main.js"
PLUGIN_ROOT = REPO / "python" / "cloudce_dirac"
# scripts/dirac-tests.sh also runs tests against the release as a site installs it: the wheel in this
# folder (on PYTHONPATH, found by its entry point) and $CLOUDCE_SERVE_COMMAND the installed cloudce.
INSTALLED_PLUGIN = os.environ.get("CLOUDCE_TEST_INSTALLED_PLUGIN")
if not INSTALLED_PLUGIN:
    if not CLI.exists():
        raise SystemExit(f"{CLI} is missing: run 'npm run build' first (scripts/test.sh does)")
    os.environ.setdefault("CLOUDCE_SERVE_COMMAND", f"{shutil.which('node') or 'node'} {CLI}")
    if str(PLUGIN_ROOT) not in sys.path:
        sys.path.insert(0, str(PLUGIN_ROOT))
SERVE_COMMAND = os.environ["CLOUDCE_SERVE_COMMAND"]

import pytest  # noqa: E402
from diraccfg import CFG  # noqa: E402

from DIRAC import gConfig  # noqa: E402
from DIRAC.Core.Security.X509Chain import X509Chain  # noqa: E402
from DIRAC.Resources.Computing.ComputingElement import ComputingElement  # noqa: E402

DIRAC_MAJOR = 8 if hasattr(ComputingElement, "isProxyValid") else 9


def load_cs(text):
    """Merges a CFG text into DIRAC's configuration (the tests' CS)."""
    result = gConfig.loadCFG(CFG().loadFromBuffer(text))
    assert result["OK"], result


def local_ce_options(state_dir, **extra):
    """The options of a CE on cloudce's LOCAL driver, as CS lines."""
    options = {
        "CEType": "Cloudce",
        "CloudType": "LOCAL",
        "Instance_Image": "local-el9",
        "Instance_Flavor": "local.small",
        "Driver_state_dir": str(state_dir),
        "CloudAuth": "/nonexistent/cloud.auth",
    }
    options.update({k: str(v) for k, v in extra.items()})
    return "\n".join(f"{k} = {v}" for k, v in options.items())


@pytest.fixture(scope="session")
def proxy_chain(tmp_path_factory):
    """A real X509 proxy chain (self-signed CA-less user cert + proxy), as SiteDirector holds one."""
    folder = tmp_path_factory.mktemp("proxy")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "3", "-subj", "/O=cloudce-test/CN=pilot"],
        check=True, capture_output=True,
    )
    user = X509Chain()
    assert user.loadChainFromFile(str(cert))["OK"]
    assert user.loadKeyFromFile(str(key))["OK"]
    pem = user.generateProxyToString(2 * 86400)
    assert pem["OK"], pem
    chain = X509Chain()
    assert chain.loadProxyFromString(pem["Value"])["OK"]
    return chain


@pytest.fixture
def state_dir(tmp_path):
    """A LOCAL cloud of its own; any VM process still running at the end is stopped."""
    folder = tmp_path / "local-cloud"
    folder.mkdir()
    yield folder
    stop_local_vms(folder)


@pytest.fixture(scope="session", autouse=True)
def no_vm_outlives_the_suite(tmp_path_factory):
    """Fails the run if a LOCAL VM process of any test is still running once the tests are over.

    The `cloudce serve` children are stopped first, so no call still in flight can start a VM after
    the look; each test's state_dir stops its own VMs, so any found here escaped that.
    """
    yield
    base = tmp_path_factory.getbasetemp()
    children = serve_children()
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    for pid in children:
        _wait_dead(pid)
    left = local_vm_processes(base)
    stop_local_vms(base)
    assert not left, f"LOCAL VM processes outlived the tests (stopped now): {left}"


def _wait_dead(pid, what="cloudce serve"):
    """Until ``pid`` is gone or a zombie (its parent reaps it).

    SIGKILL returns before the process dies: it lives on, its command line readable, until the kernel
    runs it again, which took over 200 ms on a loaded machine.
    """
    stat = Path(f"/proc/{pid}/stat")
    # A hang guard only (as the tests' wait_for): a busy machine may take long to reap.
    end = time.monotonic() + 90.0
    while time.monotonic() < end:
        try:
            if stat.read_text().split(") ")[1][0] == "Z":
                return
        except (OSError, IndexError):
            return
        time.sleep(0.01)
    raise AssertionError(f"{what} {pid} did not die 90 s after SIGKILL (hang guard)")


def local_vm_processes(folder):
    """Pid → command line of every LOCAL VM wrapper whose VM lives under ``folder``."""
    found = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"cloudce-local-vm" in args and any(str(folder).encode() in a for a in args):
            found[int(cmdline.parent.name)] = b" ".join(args[-3:]).decode(errors="replace")
    return found


def stop_local_vms(folder):
    """Stops the process group of every LOCAL VM still running in ``folder``.

    Found by command line (a VM's wrapper names its folder), not by node.json: a child killed
    between starting a VM and recording its pid leaves a record without one.
    Returns once they are dead, so that a look right after (the end-of-run check, after the last
    test's teardown) does not find a VM already killed.
    """
    found = local_vm_processes(folder)
    for pid in found:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            # Not a group's leader (a wrapper's child before its exec): stopped on its own.
            _kill_quietly(pid)
        except OSError:
            pass
    for pid in found:
        _wait_dead(pid, "LOCAL VM")


def _kill_quietly(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def serve_children():
    """Pids of `cloudce serve` processes whose parent is this test process."""
    out = subprocess.run(["ps", "-o", "pid=,ppid=,args=", "-e"], capture_output=True, text=True, check=True).stdout
    return [int(line.split()[0]) for line in out.splitlines()
            if "serve --stdio" in line and int(line.split()[1]) == os.getpid()]
