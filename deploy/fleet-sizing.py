#!/usr/bin/env python3
"""A fleet run for docs/deploy.md's sizing table: one `at7600 serve --tcp` daemon on
loopback, modems added in steps; each modem gets `AT+NETOPEN` and one TCP link to an
idle peer. After each step: the daemon's VmRSS and open descriptors, and so what one
more modem costs.

    python3 deploy/fleet-sizing.py target/release/at7600 1000 4000 9900
    python3 deploy/fleet-sizing.py target/release/at7600 1000 9900 -- --link lte-cat1

Arguments after `--` go to `at7600 serve`.
The peer runs in a child process so that this one holds only the host side of the
connections (each side needs one descriptor per modem, under the hard limit). Every
wait has a deadline; everything listens on 127.0.0.1 only.
"""

import asyncio
import multiprocessing
import os
import re
import socket
import subprocess
import sys
import time

STEP_DEADLINE = 300  # seconds for one step's modems to be up
AT_DEADLINE = 30  # seconds for one answer
PARALLEL = 128  # modems set up at once


def peer(ready):
    """Accepts links and holds them open, reading nothing."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    ready.send(listener.getsockname()[1])
    held = []
    while True:
        conn, _ = listener.accept()
        held.append(conn)


def status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


async def answer(reader, until):
    data = b""
    while until not in data:
        chunk = await asyncio.wait_for(reader.read(4096), AT_DEADLINE)
        if not chunk:
            raise RuntimeError(f"modem closed waiting for {until!r}: {data!r}")
        data += chunk
    return data


async def modem(addr, peer_port, hosts, gate):
    async with gate:
        reader, writer = await asyncio.open_connection(*addr)
        writer.write(b"ATE0\r")
        await answer(reader, b"OK\r\n")
        writer.write(b"AT+NETOPEN\r")
        await answer(reader, b"+NETOPEN: 0")
        writer.write(f'AT+CIPOPEN=0,"TCP","127.0.0.1",{peer_port}\r'.encode())
        await answer(reader, b"+CIPOPEN: 0,0")
        hosts.append((reader, writer))


async def run(binary, steps, extra):
    ready_r, ready_w = multiprocessing.Pipe(duplex=False)
    peer_proc = multiprocessing.Process(target=peer, args=(ready_w,), daemon=True)
    peer_proc.start()
    if not ready_r.poll(10):
        raise RuntimeError("peer did not start")
    peer_port = ready_r.recv()

    daemon = subprocess.Popen(
        [binary, "serve", "--tcp", "127.0.0.1:0", "--log-level", "warn", *extra],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    try:
        line = daemon.stdout.readline().decode()
        m = re.search(r"ready on tcp (\S+):(\d+)", line)
        if not m:
            raise RuntimeError(f"no ready line: {line!r}")
        addr = (m.group(1), int(m.group(2)))
        await asyncio.sleep(1)
        rss0, fd0 = status(daemon.pid, "VmRSS"), descriptors(daemon.pid)
        limit = open(f"/proc/{daemon.pid}/limits").read()
        nofile = re.search(r"Max open files\s+(\d+)", limit).group(1)
        print(f"daemon: empty RSS {rss0} KiB, {fd0} descriptors, open-file limit {nofile}")
        print(f"{'modems':>7} {'RSS KiB':>9} {'KiB/modem':>10} {'fds':>7} {'fds/modem':>10} {'setup s':>8}")
        hosts = []
        gate = asyncio.Semaphore(PARALLEL)
        for target in steps:
            started = time.monotonic()
            todo = target - len(hosts)
            await asyncio.wait_for(
                asyncio.gather(*(modem(addr, peer_port, hosts, gate) for _ in range(todo))),
                STEP_DEADLINE,
            )
            took = time.monotonic() - started
            await asyncio.sleep(2)  # let the daemon settle
            rss, fds = status(daemon.pid, "VmRSS"), descriptors(daemon.pid)
            n = len(hosts)
            print(
                f"{n:>7} {rss:>9} {(rss - rss0) / n:>10.2f} {fds:>7} {(fds - fd0) / n:>10.3f} {took:>8.1f}",
                flush=True,
            )
        for _, writer in hosts:
            writer.close()
    finally:
        daemon.terminate()
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
        peer_proc.terminate()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    args = sys.argv[1:]
    extra = []
    if "--" in args:
        at = args.index("--")
        args, extra = args[:at], args[at + 1 :]
    binary = args[0]
    steps = sorted(int(s) for s in args[1:])
    asyncio.run(run(binary, steps, extra))


if __name__ == "__main__":
    main()
