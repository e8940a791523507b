"""`at7600 probe --format junit` as a CI step: the module (here the daemon from the
`modem_daemon` fixture) is checked against the manual's chapter-6 examples, and the
JUnit XML file it writes is what CI systems read as test results."""

import subprocess
import xml.etree.ElementTree as ET

from conftest import at7600_program
from test_modem import echo_server


def test_probe_writes_junit_that_a_ci_system_reads(modem_daemon, tmp_path):
    report = tmp_path / "probe.xml"
    run = subprocess.run(
        [at7600_program(), "probe", "--tcp", modem_daemon,
         "--peer", f"127.0.0.1:{echo_server()}",
         "--format", "junit", "--output", str(report)],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.rstrip().endswith(" passed, 0 failed, 2 skipped"), run.stdout
    suites = ET.parse(report).getroot()
    assert suites.tag == "testsuites"
    assert suites.get("failures") == "0"
    names = [suite.get("name") for suite in suites]
    assert "6.1" in names and "6.2.1" in names
    cases = suites.findall("./testsuite/testcase")
    assert len(cases) == int(suites.get("tests"))
    assert cases[0].get("name") == "01 AT+CSQ\\r"
