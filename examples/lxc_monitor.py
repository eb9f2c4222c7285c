"""libvirt's LXC controller and driver talking over the monitor protocol, with the typed
classes xdrgen generated from protocols/lxc_monitor_protocol.x (VIR_LXC_MONITOR_Server and
VIR_LXC_MONITOR_Client, in generated/lxc_monitor_protocol_rpc.py).

The controller listens on a UNIX socket; when the driver connects it sends the INIT event
(the container's init pid) and, when the container stops, the EXIT event (the shutdown
reason). It exits only after the EXIT message is written: libvirt's "delayed close".
The driver records both events and tells a clean exit (EXIT seen, then the socket closes)
from a crash (the socket closes with no EXIT event).

    python3 examples/lxc_monitor.py controller /tmp/lxc.sock --status shutdown
    python3 examples/lxc_monitor.py driver /tmp/lxc.sock         # prints a JSON report
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generated import lxc_monitor_protocol as lxc  # noqa: E402

# the typed classes xdrgen wrote into generated/lxc_monitor_protocol_rpc.py
Monitor, Controller = lxc.VIR_LXC_MONITOR_Client, lxc.VIR_LXC_MONITOR_Server
STATUS = {
    "error": lxc.virLXCMonitorExitStatus.VIR_LXC_MONITOR_EXIT_STATUS_ERROR,
    "shutdown": lxc.virLXCMonitorExitStatus.VIR_LXC_MONITOR_EXIT_STATUS_SHUTDOWN,
    "reboot": lxc.virLXCMonitorExitStatus.VIR_LXC_MONITOR_EXIT_STATUS_REBOOT,
}


async def controller(socket_path: str, status: str, crash: bool) -> None:
    server = Controller()  # the monitor has events only: no procedure to override
    listener = await server.serve_unix(socket_path)
    task, loop = asyncio.current_task(), asyncio.get_running_loop()
    assert task is not None
    for number in (signal.SIGTERM, signal.SIGINT):  # stop waiting, and remove the socket file
        loop.add_signal_handler(number, task.cancel)
    try:
        print("listening", flush=True)
        connection = await server.accept()
        await connection.send_init_event(lxc.virLXCMonitorInitEventMsg(initpid=os.getpid()))
        if crash:
            os._exit(3)  # the container's controller dies: no EXIT event, the socket just closes
        # the container stopped: queue EXIT, then close only once it is flushed to the driver
        await connection.send_exit_event(lxc.virLXCMonitorExitEventMsg(STATUS[status]))
        await connection.close()
    finally:
        listener.close()
        await listener.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(socket_path)  # asyncio leaves a UNIX socket's file behind


async def driver(socket_path: str) -> dict[str, Any]:
    report: dict[str, Any] = {"init_pid": None, "exit_status": None}

    def on_init(message: lxc.virLXCMonitorInitEventMsg) -> None:
        report["init_pid"] = message.initpid

    def on_exit(message: lxc.virLXCMonitorExitEventMsg) -> None:
        report["exit_status"] = next(name for name, value in STATUS.items() if value == message.status)

    monitor = await Monitor.connect_unix(socket_path)
    monitor.on_init_event(on_init)
    monitor.on_exit_event(on_exit)
    failure = await monitor.closed
    await monitor.close()
    # libvirt's rule: a monitor that goes away without an EXIT event means the controller died
    report["clean_exit"] = report["exit_status"] is not None and failure is None
    report["failure"] = str(failure) if failure else None
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("role", choices=["controller", "driver"], help="controller: listen and send the events; driver: connect and report")
    parser.add_argument("socket", help="the UNIX socket's path (the controller makes it and removes it when it exits)")
    parser.add_argument("--status", choices=sorted(STATUS), default="shutdown", help="controller: the reason its EXIT event gives (default: shutdown)")
    parser.add_argument("--crash", action="store_true", help="controller: die after INIT, before EXIT (the socket file stays, as after a crash)")
    args = parser.parse_args()
    if args.role == "controller":
        with contextlib.suppress(asyncio.CancelledError):  # SIGTERM/SIGINT: a clean stop
            asyncio.run(controller(args.socket, args.status, args.crash))
    else:
        print(json.dumps(asyncio.run(driver(args.socket))))


if __name__ == "__main__":
    main()
