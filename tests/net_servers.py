"""Real DICOM servers for the network tests, on loopback with free ports: dcmtk's storescp,
Debian's Orthanc, and a listener that accepts connections and never answers (a hung PACS).

A missing server binary fails the test loudly: `make test` installs them (scripts/system-deps.sh),
and a network feature must never pass untested because a tool was absent.

Also run as `python -m tests.net_servers send-due DATA_DIR` by the crash test: a real Prolo
Planner process sending the queue, to be killed mid-send.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from prolo_planner.net.nodes import DicomNode

REPO_ROOT = Path(__file__).resolve().parents[1]
OUR_AE = "PROLO_TEST"
# Orthanc is on loopback: an http_proxy set for the machine must not be asked for it.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require(binary: str, package: str) -> str:
    found = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/bin")
    if found is None:
        pytest.fail(
            f"{binary} is not installed (Debian package {package}); `make test` installs it, "
            f"or: sudo apt-get install -y {package}",
            pytrace=False,
        )
    return found


def _listening(port: int) -> bool:
    """Whether something listens on the port, asked without connecting: storescp serves one
    association at a time, and a probe connection would hold it up for its ACSE timeout."""
    with socket.socket() as s:
        # With SO_REUSEADDR the bind fails only for a listener, not for old TIME_WAIT sockets.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return True
    return False


def wait_until_listening(port: int, proc: subprocess.Popen, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"{what} exited with {proc.returncode}: {out}", pytrace=False)
        if _listening(port):
            return
        time.sleep(0.02)
    pytest.fail(f"{what} did not listen on port {port} within {timeout} s", pytrace=False)


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.kill()  # its storage is a temporary folder: no clean shutdown needed
        proc.wait(10)


class Storescp:
    """dcmtk's storescp writing what it receives into `folder`. `accept_all` (+xa) takes
    compressed transfer syntaxes; `implicit_only` (+xi) takes Implicit VR Little Endian only;
    neither: dcmtk's default, uncompressed syntaxes only."""

    def __init__(
        self,
        folder: Path,
        *,
        accept_all: bool = False,
        implicit_only: bool = False,
        port: int | None = None,
        ae_title: str = "STORESCP",
        extra: tuple[str, ...] = (),
    ) -> None:
        self.exe = require("storescp", "dcmtk")
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.flags = ["+xa"] if accept_all else ["+xi"] if implicit_only else []
        self.flags += extra  # e.g. --abort-after, --refuse: a PACS misbehaving on purpose
        self.port = port or free_port()
        self.ae_title = ae_title
        self.proc: subprocess.Popen | None = None

    @property
    def node(self) -> DicomNode:
        return DicomNode("storescp", self.ae_title, "127.0.0.1", self.port)

    def start(self) -> Storescp:
        # storescp has no bind option: it listens on every interface, at a random free port.
        cmd = [self.exe, "-aet", self.ae_title, "-od", str(self.folder), *self.flags]
        self.proc = subprocess.Popen(
            [*cmd, str(self.port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        wait_until_listening(self.port, self.proc, "storescp")
        return self

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None

    def received(self, sop_instance_uid: str) -> Path:
        """The file storescp wrote for this instance (named <modality>.<SOP Instance UID>)."""
        found = [p for p in self.folder.iterdir() if p.name.endswith("." + sop_instance_uid)]
        assert len(found) == 1, f"{sop_instance_uid} not received: {list(self.folder.iterdir())}"
        return found[0]


class Orthanc:
    """Debian's Orthanc with its own small configuration: DICOM and HTTP on loopback, storage
    in a temporary folder, and our AE title as a known modality (C-FIND and C-GET need one)."""

    ae_title = "ORTHANC"

    def __init__(self, folder: Path) -> None:
        self.exe = require("Orthanc", "orthanc")
        self.folder = folder
        self.dicom_port, self.http_port = free_port(), free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def node(self) -> DicomNode:
        return DicomNode("orthanc", self.ae_title, "127.0.0.1", self.dicom_port)

    def start(self) -> Orthanc:
        storage = self.folder / "storage"
        config = {
            "Name": "prolo-planner-tests",
            "DicomAet": self.ae_title,
            "DicomPort": self.dicom_port,
            "HttpPort": self.http_port,
            "StorageDirectory": str(storage),
            "IndexDirectory": str(storage),
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "Plugins": [],
            "DicomModalities": {"prolo": [OUR_AE, "127.0.0.1", free_port()]},
        }
        path = self.folder / "orthanc.json"
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        self.proc = subprocess.Popen(
            [self.exe, str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"Orthanc exited: {self.proc.stdout.read()}", pytrace=False)
            try:
                self.rest("/system")
                return self
            except OSError:
                time.sleep(0.05)
        pytest.fail("Orthanc's REST API did not answer within 20 s", pytrace=False)

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None

    def rest(self, path: str, data: bytes | None = None) -> object:
        request = urllib.request.Request(f"http://127.0.0.1:{self.http_port}{path}", data=data)
        with _NO_PROXY.open(request, timeout=5) as answer:
            return json.loads(answer.read())

    def upload(self, path: Path) -> str:
        """Store a file through the REST API; its Orthanc ID."""
        answer = self.rest("/instances", path.read_bytes())
        assert isinstance(answer, dict) and answer["Status"] in ("Success", "AlreadyStored")
        return str(answer["ID"])


class SilentPacs:
    """Accepts TCP connections and never says a word: a PACS that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = int(self.sock.getsockname()[1])
        self.clients: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def node(self) -> DicomNode:
        return DicomNode("silent", "SILENT", "127.0.0.1", self.port)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.clients.append(client)

    def close(self) -> None:
        # shutdown wakes the thread blocked in accept(); close alone would leave it listening.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self._thread.join(5)
        for c in self.clients:
            c.close()


def _send_due(data_dir: str) -> None:
    """Open the store and send what is due, saying so first; never returns on a hung PACS."""
    from prolo_planner.net.queue import SendQueue
    from prolo_planner.store.repository import Repository

    repo = Repository.open(data_dir)
    queue = SendQueue.of(repo, calling_ae=OUR_AE, timeout=600)
    print("sending", flush=True)
    queue.run_due()


def worker_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tests.net_servers", *args]


if __name__ == "__main__":
    {"send-due": _send_due}[sys.argv[1]](*sys.argv[2:])
