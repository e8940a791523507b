"""What a Python test suite does with the `modem` fixture (see conftest.py)."""

import socket
import threading


def command(port, line, until=b"OK\r\n"):
    """Sends one AT command line and returns what came back up to `until`."""
    port.write(line + b"\r")
    answer = port.read_until(until)
    assert answer.endswith(until), f"{line!r}: got {answer!r}"
    return answer


def echo_server():
    """A loopback TCP echo server on threads, one per connection, for as long as the
    tests run; its port."""
    listener = socket.create_server(("127.0.0.1", 0))

    def echo(conn):
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data)

    def serve():
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def test_the_modem_answers_and_reports_its_signal(modem):
    command(modem, b"ATE0")
    assert command(modem, b"AT+CSQ") == b"\r\n+CSQ: 25,99\r\n\r\nOK\r\n"


def test_bytes_go_through_a_tcp_link_and_come_back(modem):
    peer = echo_server()
    command(modem, b"ATE0")
    command(modem, b"AT+NETOPEN", until=b"+NETOPEN: 0\r\n")
    command(modem, b'AT+CIPOPEN=1,"TCP","127.0.0.1",%d' % peer, until=b"+CIPOPEN: 1,0\r\n")
    modem.write(b"AT+CIPSEND=1,5\r")
    assert modem.read_until(b">").endswith(b">")
    modem.write(b"HELLO")
    received = modem.read_until(b"+IPD5\r\nHELLO")
    assert received.endswith(b"+IPD5\r\nHELLO"), received
    command(modem, b"AT+CIPCLOSE=1", until=b"+CIPCLOSE: 1,0\r\n")
    command(modem, b"AT+NETCLOSE", until=b"+NETCLOSE: 0\r\n")


def test_every_test_gets_a_fresh_modem(modem):
    # The previous tests turned echo off on their own modems; this one echoes.
    assert command(modem, b"AT") == b"AT\r\r\nOK\r\n"
