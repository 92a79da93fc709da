#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""QMP client for the nested L2 QEMU of the life-cycle tests (l2-lib.sh).

    l2-qmp.py SOCKET OP...

Each OP runs in order on one QMP connection; the script fails (exit 1) on
the first error.  OPs:

    status               print the run state (running, paused, ...)
    stop, cont, quit     the QMP commands
    hmp:COMMAND LINE     an HMP command (savevm NAME, loadvm NAME, ...);
                         any output counts as an error
    migrate:URI          migrate (the VM stopped or not) and wait for the
                         migration to complete
    incoming:URI         migrate-incoming (QEMU started with -incoming
                         defer) and wait for it to complete
    wait-running         wait until the VM runs

Runs in the L1 VM (AF_UNIX only).
"""
import json
import socket
import sys
import time


class Qmp:
    def __init__(self, path, timeout=600):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.f = self.sock.makefile("rw")
        json.loads(self.f.readline())  # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg) + "\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                if name == "quit":
                    return None
                raise RuntimeError(f"{name}: QMP connection closed")
            r = json.loads(line)
            if "event" in r:
                continue
            if "error" in r:
                raise RuntimeError(f"{name}: {r['error'].get('desc')}")
            return r.get("return")

    def wait_migration(self, what):
        t0 = time.monotonic()
        while True:
            r = self.cmd("query-migrate")
            st = r.get("status")
            if st == "completed":
                print(f"qmp: {what} completed in {time.monotonic() - t0:.1f} s")
                return
            if st in ("failed", "cancelled"):
                raise RuntimeError(f"{what}: {st}: {r.get('error-desc', '')}")
            time.sleep(0.2)


def main():
    q = Qmp(sys.argv[1])
    for op in sys.argv[2:]:
        if op == "status":
            print(q.cmd("query-status")["status"])
        elif op in ("stop", "cont", "quit"):
            q.cmd(op)
        elif op.startswith("hmp:"):
            out = q.cmd("human-monitor-command", **{"command-line": op[4:]})
            if out and out.strip():
                raise RuntimeError(f"{op[4:]}: {out.strip()}")
        elif op.startswith("migrate:"):
            q.cmd("migrate", uri=op[8:])
            q.wait_migration("migration")
        elif op.startswith("incoming:"):
            q.cmd("migrate-incoming", uri=op[9:])
            q.wait_migration("incoming migration")
        elif op == "wait-running":
            while q.cmd("query-status")["status"] != "running":
                time.sleep(0.1)
        else:
            raise RuntimeError(f"unknown op {op}")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - any failure is reported
        print(f"l2-qmp: {e}", file=sys.stderr)
        sys.exit(1)
