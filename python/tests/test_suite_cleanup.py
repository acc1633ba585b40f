"""The suite's own clean-up of LOCAL VMs, which every test's teardown and the end-of-run check rely on."""

import os
import signal
import subprocess
import threading
import time

import conftest
from conftest import local_vm_processes, stop_local_vms


def test_stopping_the_vms_returns_only_once_they_are_gone(monkeypatch, tmp_path):
    """A SIGKILLed process lives on until the kernel runs it again (over 200 ms on a loaded machine).

    The end-of-run check looks right after the last test's teardown stopped its VMs: had that
    teardown not waited, it would report a VM it had already killed.
    """
    vm_dir = tmp_path / "vms" / "slow-to-die"
    vm = subprocess.Popen(["/bin/sh", "-c", "sleep 300; exit 0", "cloudce-local-vm", "0", str(vm_dir)], start_new_session=True)
    real_killpg = os.killpg
    landings = []

    def land_later(pgid, sig):
        if os.getpgid(pgid) != pgid:  # the shell's child before its exec: no group of that id
            raise ProcessLookupError(pgid)
        # The kernel's delay, made certain: the signal lands a while after stop_local_vms sent it.
        landing = threading.Timer(0.5, real_killpg, (pgid, sig))
        landings.append(landing)
        landing.start()

    try:
        monkeypatch.setattr(conftest.os, "killpg", land_later)
        # Until its exec shows: the command line is empty for a moment after Popen returns.
        end = time.monotonic() + 30.0  # a hang guard only
        while vm.pid not in local_vm_processes(tmp_path):
            assert time.monotonic() < end, "the stand-in VM never showed its command line"
            time.sleep(0.01)

        stop_local_vms(tmp_path)

        assert local_vm_processes(tmp_path) == {}
    finally:
        monkeypatch.undo()
        for landing in landings:
            landing.join()
        try:
            os.killpg(vm.pid, signal.SIGKILL)
        except OSError:
            pass
        vm.wait()
