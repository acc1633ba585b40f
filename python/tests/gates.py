"""Gates for the create calls of the slow LOCAL driver (fixtures/slow-local.mjs, Driver_gate_dir).

A test stops a submission at an exact point (before a create, after it but before its answer)
by opening gates and waiting for the marker files, never by a clock.
"""

import json
import os
import signal

from test_site_director import wait_for


class Gates:
    def __init__(self, folder):
        self.path = folder
        self.dir = str(folder)  # as a CE option value
        folder.mkdir(parents=True, exist_ok=True)

    def _touch(self, name):
        (self.path / name).write_text("")

    def let_through(self, count):
        """Create calls 1..count make their VM and answer."""
        for k in range(1, count + 1):
            self._touch(f"go-{k}")
            self._touch(f"boot-{k}")
            self._touch(f"back-{k}")

    def mark_sent(self, k):
        """Create call k (not begun yet) stands for a request already on its way: once let through, it
        makes its VM whatever the caller decided meanwhile."""
        self._touch(f"sent-{k}")

    def let_create(self, k):
        """Create call k makes its VM, and holds its answer."""
        self._touch(f"go-{k}")
        self._touch(f"boot-{k}")

    def let_reserve(self, k):
        """Create call k saves its VM's record, and holds before the VM's boot."""
        self._touch(f"go-{k}")

    def wait_reserved(self, k):
        """Until create call k has saved its VM's record; returns that VM's reference and stamp."""
        wait_for(lambda: (self.path / f"reserved-{k}").exists(), f"create call {k} to reserve its VM", timeout=120)
        reserved = json.loads((self.path / f"reserved-{k}").read_text())
        return reserved["ref"], reserved["stamp"]

    def wait_waiting(self, k):
        """Until create call k waits before making its VM (so calls before it have answered)."""
        wait_for(lambda: (self.path / f"waiting-{k}").exists(), f"create call {k} to wait at its gate", timeout=120)

    def wait_made(self, k):
        wait_for(lambda: (self.path / f"made-{k}").exists(), f"create call {k} to make its VM", timeout=120)

    def started(self):
        """How many create calls have begun (reached their first gate)."""
        return len(list(self.path.glob("waiting-*")))

    def wait_settled(self):
        """Until every create call that began has ended, so no VM of theirs can appear later."""
        def settled():
            return all((self.path / f"settled-{k}").exists() for k in range(1, self.started() + 1))
        wait_for(settled, "every create call to end", timeout=120)

    def close(self):
        """Every call still waiting fails without a VM (a child that lives on creates nothing later)."""
        self._touch("closed")


def local_vms(state_dir):
    """VM id → node.json of the LOCAL cloud in ``state_dir``."""
    vms = state_dir / "vms"
    if not vms.exists():
        return {}
    return {d.name: json.loads((d / "node.json").read_text()) for d in vms.iterdir() if (d / "node.json").exists()}


def stamps_on_cloud(state_dir):
    """Reference → the stamp its VM carries."""
    return {f"cloud://{vm_id}": node["metadata"]["cloudce-stamp"] for vm_id, node in local_vms(state_dir).items()}


def sigkill(pid):
    os.kill(pid, signal.SIGKILL)
