"""Real DICOM servers for the network tests, on loopback with free ports: dcmtk's storescp,
Debian's Orthanc (with Debian's DICOMweb plugin when asked), a listener that accepts connections
and never answers (a hung PACS), and an HTTPS gateway that lets only a bearer token through to
Orthanc's DICOMweb (what a clinic's reverse proxy or a cloud DICOM store does).

A missing server binary fails the test loudly: `make test` installs them (scripts/system-deps.sh),
and a network feature must never pass untested because a tool was absent.

Also run as `python -m tests.net_servers send-due DATA_DIR` by the crash test: a real Prolo
Planner process sending the queue, to be killed mid-send.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from prolo_planner.net.nodes import AuthKind, DicomNode, DicomWebNode, RetrieveMethod

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


DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"


class Orthanc:
    """Debian's Orthanc with its own small configuration: DICOM and HTTP on loopback, storage
    in a temporary folder, and our AE title as a known modality (C-FIND and C-GET need one).

    It runs with TCP_NODELAY=1 in its environment: DCMTK, which Orthanc speaks DICOM with, keeps
    Nagle's algorithm on unless told, and each DIMSE message then waits for the peer's delayed
    ACK (measured: 45 ms per C-ECHO, against 3 ms with it set; `nagle=True` keeps the default).

    `dicomweb` loads Debian's DICOMweb plugin (package orthanc-dicomweb) under /dicom-web;
    `users` ({name: password}) turns on HTTP basic authentication; `modalities` ({AE title:
    port}) are the workstations it knows (C-MOVE sends to that port); `move_only` refuses them
    C-GET, as the many PACS that offer only C-MOVE do."""

    ae_title = "ORTHANC"

    def __init__(
        self,
        folder: Path,
        *,
        dicomweb: bool = False,
        users: dict[str, str] | None = None,
        modalities: dict[str, int] | None = None,
        move_only: bool = False,
        dicom_port: int | None = None,
        http_port: int | None = None,
        nagle: bool = False,
        extra: dict[str, object] | None = None,
    ) -> None:
        self.exe = require("Orthanc", "orthanc")
        if dicomweb and not Path(DICOMWEB_PLUGIN).is_file():
            pytest.fail(
                f"{DICOMWEB_PLUGIN} is missing (Debian package orthanc-dicomweb); `make test` "
                "installs it, or: sudo apt-get install -y orthanc-dicomweb",
                pytrace=False,
            )
        self.folder = folder
        self.dicomweb = dicomweb
        self.users = dict(users or {})
        self.modalities = dict(modalities or {OUR_AE: free_port()})
        self.move_only = move_only
        self.nagle = nagle
        #: More of Orthanc's configuration, e.g. {"StorageAccessOnFind": "Never"}.
        self.extra = dict(extra or {})
        self.dicom_port, self.http_port = dicom_port or free_port(), http_port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def node(self) -> DicomNode:
        retrieve = RetrieveMethod.MOVE if self.move_only else RetrieveMethod.GET
        return DicomNode("orthanc", self.ae_title, "127.0.0.1", self.dicom_port, retrieve)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/dicom-web"

    def web_node(self, **auth: object) -> DicomWebNode:
        return DicomWebNode("orthanc-web", self.url, **auth)  # type: ignore[arg-type]

    def start(self) -> Orthanc:
        storage = self.folder / "storage"
        config: dict[str, object] = {
            "Name": "prolo-planner-tests",
            "DicomAet": self.ae_title,
            "DicomPort": self.dicom_port,
            "HttpPort": self.http_port,
            "StorageDirectory": str(storage),
            "IndexDirectory": str(storage),
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": bool(self.users),
            "RegisteredUsers": self.users,
            "Plugins": [DICOMWEB_PLUGIN] if self.dicomweb else [],
            "DicomWeb": {"Enable": self.dicomweb, "Root": "/dicom-web/"},
            "DicomModalities": {
                aet.lower(): {
                    "AET": aet,
                    "Host": "127.0.0.1",
                    "Port": port,
                    "AllowGet": not self.move_only,
                }
                for aet, port in self.modalities.items()
            },
            **self.extra,
        }
        path = self.folder / "orthanc.json"
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        env = {**os.environ, "TCP_NODELAY": "0" if self.nagle else "1"}
        self.proc = subprocess.Popen(
            [self.exe, str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
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

    def rest(self, path: str, data: bytes | None = None, method: str | None = None) -> object:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}{path}", data=data, method=method
        )
        if self.users:
            name, password = next(iter(self.users.items()))
            token = base64.b64encode(f"{name}:{password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        with _NO_PROXY.open(request, timeout=30) as answer:
            return json.loads(answer.read() or b"null")

    def instance_uids(self) -> set[str]:
        """The SOP Instance UIDs Orthanc holds."""
        found = self.rest(
            "/tools/find", json.dumps({"Level": "Instance", "Query": {}, "Expand": True}).encode()
        )
        assert isinstance(found, list)
        return {str(i["MainDicomTags"]["SOPInstanceUID"]) for i in found}

    def delete_instance(self, sop_instance_uid: str) -> None:
        found = self.rest("/tools/lookup", sop_instance_uid.encode())
        assert isinstance(found, list) and found, sop_instance_uid
        self.rest(f"/instances/{found[0]['ID']}", method="DELETE")

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


class TokenGateway:
    """HTTPS in front of Orthanc's HTTP: a self-signed certificate (made with openssl), and only
    requests with `Authorization: Bearer <token>` are passed on (401 otherwise), as a clinic's
    reverse proxy or a cloud DICOM store does."""

    def __init__(self, folder: Path, orthanc: Orthanc, token: str) -> None:
        openssl = require("openssl", "openssl")
        self.orthanc, self.token = orthanc, token
        self.cert, key = folder / "gateway.pem", folder / "gateway.key"
        subprocess.run(
            [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(key), "-out", str(self.cert)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        gateway = self
        #: What went wrong in a handler, for the test to show.
        self.errors: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _forward(self) -> None:
                if self.headers.get("Authorization") != f"Bearer {gateway.token}":
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", "Bearer")
                    self.send_header("Content-Length", "0")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    return
                try:
                    self._pass_on()
                except Exception as exc:  # said to the client, not a silent hang-up
                    gateway.errors.append(repr(exc))
                    raise

            def _pass_on(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                upstream = http.client.HTTPConnection(
                    "127.0.0.1", gateway.orthanc.http_port, timeout=60
                )
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("authorization", "host", "connection")
                }
                if gateway.orthanc.users:  # the gateway's own account on Orthanc
                    name, password = next(iter(gateway.orthanc.users.items()))
                    basic = base64.b64encode(f"{name}:{password}".encode()).decode()
                    headers["Authorization"] = f"Basic {basic}"
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for k, v in answer.getheaders():
                    hop = ("transfer-encoding", "connection", "content-length", "keep-alive")
                    if k.lower() not in hop:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                # One request per connection, and said so: a client must not reuse it.
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/dicom-web"

    def node(self, token: str, *, trusted: bool = True) -> DicomWebNode:
        return DicomWebNode(
            "gateway",
            self.url,
            AuthKind.BEARER,
            token=token,
            ca_bundle=str(self.cert) if trusted else "",
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


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
