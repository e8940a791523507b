"""A pytest fixture that gives each test its own AT7600 modem.

`modem` starts `at7600 serve --tcp 127.0.0.1:0` (a free port), waits for its ready
line, and yields a pyserial object connected to a fresh modem (pyserial's socket://
URL: the same read/write/timeout interface as a serial port). Afterwards it closes the
line and stops the daemon with SIGTERM (Ctrl-C's twin), as a user would.

The program is $AT7600_BIN if set, else `at7600` on PATH (cargo install --locked
--path crates/at7600), else this repository's target/debug/at7600. Extra flags for
`serve` come from $AT7600_SERVE_ARGS (e.g. "--network sim").
"""

import os
import shlex
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import serial

READY = "at7600: modems ready on tcp "
STARTUP_TIMEOUT_S = 20


def at7600_program():
    """Where the at7600 program is."""
    if os.environ.get("AT7600_BIN"):
        return os.environ["AT7600_BIN"]
    found = shutil.which("at7600")
    if found:
        return found
    built = Path(__file__).resolve().parents[2] / "target" / "debug" / "at7600"
    if built.exists():
        return str(built)
    pytest.skip("no at7600 program: set AT7600_BIN or install it with cargo install")


@pytest.fixture(scope="session")
def modem_daemon():
    """One `serve --tcp` daemon for the session; yields its ADDR:PORT."""
    extra = shlex.split(os.environ.get("AT7600_SERVE_ARGS", ""))
    daemon = subprocess.Popen(
        [at7600_program(), "serve", "--tcp", "127.0.0.1:0", *extra],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = _ready_line(daemon)
        assert line.startswith(READY), f"unexpected first line {line!r}"
        yield line[len(READY):].strip()
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
    # A clean stop: open links closed, exit code 0.
    assert daemon.returncode == 0, f"at7600 serve ended with {daemon.returncode}"


def _ready_line(daemon):
    """The daemon's first line, or a clear failure if it does not come in time."""
    import selectors

    with selectors.DefaultSelector() as sel:
        sel.register(daemon.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=STARTUP_TIMEOUT_S):
            raise TimeoutError("at7600 serve printed no ready line")
    return daemon.stdout.readline()


@pytest.fixture
def modem(modem_daemon):
    """A fresh modem (every connection is its own modem), as a pyserial object."""
    port = serial.serial_for_url(f"socket://{modem_daemon}", timeout=5)
    try:
        yield port
    finally:
        port.close()
