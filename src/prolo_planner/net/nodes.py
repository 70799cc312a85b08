"""The DICOM nodes this workstation talks to, and its own network settings, in a JSON file.

A node is the clinic's PACS (or another workstation), by a name the clinician picks: a DIMSE
node (the AE title it answers to, its host and port, and whether it retrieves with C-GET or
only C-MOVE) or a DICOMweb node (its base URL, basic or bearer authentication, TLS
verification with the system's or the clinic's own CA). The file lives in the settings folder,
is written atomically and readable by the user alone (it may hold a password), and keeps keys a
newer Prolo Planner added.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeAlias
from urllib.parse import urlsplit

from prolo_planner.files import write_bytes_atomic

FORMAT = "prolo-planner/dicom-network"
FORMAT_VERSION = "1.0"
SETTINGS_FILE = "dicom-network.json"
#: The AE title this workstation calls with, until the clinic's PACS administrator gives one.
DEFAULT_AE_TITLE = "PROLO_PLANNER"
DEFAULT_RECEIVER_PORT = 11112
#: Where this workstation listens while a PACS that offers only C-MOVE sends a retrieve.
DEFAULT_RETRIEVE_PORT = 11113
AE_TITLE_MAX = 16

_HOST = re.compile(r"^[A-Za-z0-9_.:%-]+$")
_KNOWN_KEYS = {
    "format",
    "format_version",
    "calling_ae_title",
    "nodes",
    "receiver",
    "retrieve_port",
    "retrieve_address",
}


class RetrieveMethod(StrEnum):
    """How a DIMSE node hands objects back: C-GET on our association, or C-MOVE to us."""

    GET = "c-get"
    MOVE = "c-move"


class AuthKind(StrEnum):
    NONE = "none"
    BASIC = "basic"  # user name and password
    BEARER = "bearer"  # a token (OAuth 2 access token, API key)


class NodeError(ValueError):
    """A DICOM node or network setting that cannot be used, said where and why."""


def check_ae_title(value: object, where: str = "AE title") -> str:
    """An AE title as DICOM allows it (PS3.5: up to 16 characters of the default repertoire,
    no backslash or control characters, not only spaces); surrounding spaces dropped."""
    if not isinstance(value, str):
        raise NodeError(f"{where}: expected text, got {value!r}")
    text = value.strip()
    if not text:
        raise NodeError(f"{where}: must not be empty")
    if len(text) > AE_TITLE_MAX:
        raise NodeError(f"{where}: at most {AE_TITLE_MAX} characters, got {text!r}")
    if "\\" in text or any(not (0x20 <= ord(c) < 0x7F) for c in text):
        raise NodeError(f"{where}: letters, digits and plain punctuation only, got {text!r}")
    return text


def check_host(value: object, where: str = "host") -> str:
    if not isinstance(value, str) or not value.strip():
        raise NodeError(f"{where}: a host name or IP address, got {value!r}")
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):  # IPv6 written as in a URL
        text = text[1:-1]
    if not _HOST.match(text):
        raise NodeError(f"{where}: a host name or IP address, got {value!r}")
    return text


def check_port(value: object, where: str = "port") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise NodeError(f"{where}: a number from 1 to 65535, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class DicomNode:
    """A peer on the DICOM network, e.g. the clinic's PACS."""

    name: str
    ae_title: str
    host: str
    port: int
    retrieve: RetrieveMethod = RetrieveMethod.GET

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise NodeError(f"node name: must not be empty, got {self.name!r}")
        object.__setattr__(self, "name", self.name.strip())
        object.__setattr__(
            self, "ae_title", check_ae_title(self.ae_title, f"{self.name}: AE title")
        )
        object.__setattr__(self, "host", check_host(self.host, f"{self.name}: host"))
        check_port(self.port, f"{self.name}: port")
        try:
            object.__setattr__(self, "retrieve", RetrieveMethod(self.retrieve))
        except ValueError:
            raise NodeError(
                f"{self.name}: retrieve: c-get or c-move, got {self.retrieve!r}"
            ) from None

    @property
    def address(self) -> str:
        """AET@HOST:PORT, how messages and the command line name the node."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.ae_title}@{host}:{self.port}"

    def __str__(self) -> str:
        return self.address if self.name == self.address else f"{self.name} ({self.address})"

    @classmethod
    def from_address(cls, text: str, name: str | None = None) -> DicomNode:
        """A node from 'AET@HOST:PORT' (IPv6 as AET@[::1]:PORT), named by the text itself."""
        aet, at, rest = text.strip().rpartition("@")
        host, colon, port = rest.rpartition(":")
        if not at or not colon or not aet or not host:
            raise NodeError(f"{text!r}: expected AET@HOST:PORT, e.g. PACS@192.168.1.20:104")
        try:
            number = int(port)
        except ValueError:
            raise NodeError(f"{text!r}: the port must be a number, got {port!r}") from None
        node = cls(name or "(unnamed)", aet, host, number)
        return node if name else dataclasses.replace(node, name=node.address)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ae_title": self.ae_title,
            "host": self.host,
            "port": self.port,
            "retrieve": self.retrieve.value,
        }


def check_url(value: object, where: str = "URL") -> str:
    """A DICOMweb service's base URL: http or https, with a host; no credentials in it."""
    if not isinstance(value, str) or not value.strip():
        raise NodeError(f"{where}: the DICOMweb service's address, e.g. https://pacs/dicom-web")
    text = value.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NodeError(f"{where}: expected http:// or https:// and a host, got {value!r}")
    if parts.username or parts.password:
        raise NodeError(f"{where}: put the user name and password in their own fields")
    if parts.query or parts.fragment:
        raise NodeError(f"{where}: the service's base address, without ? or #, got {value!r}")
    return text


@dataclass(frozen=True, slots=True)
class DicomWebNode:
    """A DICOMweb service (QIDO-RS, WADO-RS, STOW-RS under one base URL)."""

    name: str
    url: str
    auth: AuthKind = AuthKind.NONE
    username: str = ""
    password: str = field(default="", repr=False)
    token: str = field(default="", repr=False)
    #: Check the server's TLS certificate (never off for a clinic's PACS outside this machine).
    verify_tls: bool = True
    #: A CA certificate file to trust beside the system's (the clinic's own CA).
    ca_bundle: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise NodeError(f"node name: must not be empty, got {self.name!r}")
        object.__setattr__(self, "name", self.name.strip())
        object.__setattr__(self, "url", check_url(self.url, f"{self.name}: URL"))
        try:
            object.__setattr__(self, "auth", AuthKind(self.auth))
        except ValueError:
            raise NodeError(
                f"{self.name}: authentication: none, basic or bearer, got {self.auth!r}"
            ) from None
        if self.auth is AuthKind.BASIC and not self.username:
            raise NodeError(f"{self.name}: basic authentication needs a user name")
        if self.auth is AuthKind.BEARER and not self.token:
            raise NodeError(f"{self.name}: bearer authentication needs a token")
        for key in ("username", "password", "token", "ca_bundle"):
            if not isinstance(getattr(self, key), str):
                raise NodeError(f"{self.name}: {key}: expected text")

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def address(self) -> str:
        return self.url

    def __str__(self) -> str:
        return self.url if self.name == self.url else f"{self.name} ({self.url})"

    @classmethod
    def from_url(cls, url: str) -> DicomWebNode:
        node = cls("(unnamed)", url)
        return dataclasses.replace(node, name=node.url)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "kind": "dicomweb",
            "url": self.url,
            "auth": self.auth.value,
            "verify_tls": self.verify_tls,
        }
        if self.auth is AuthKind.BASIC:
            out |= {"username": self.username, "password": self.password}
        if self.auth is AuthKind.BEARER:
            out["token"] = self.token
        if self.ca_bundle:
            out["ca_bundle"] = self.ca_bundle
        return out


#: Either kind of node: send, the queue, echo and pull take both.
Node: TypeAlias = DicomNode | DicomWebNode


@dataclass(frozen=True, slots=True)
class ReceiverSettings:
    """The receiving node a scanner can push to: off until the clinician turns it on."""

    enabled: bool = False
    ae_title: str = DEFAULT_AE_TITLE
    #: Loopback by default: nothing outside this computer can reach it until chosen.
    address: str = "127.0.0.1"
    port: int = DEFAULT_RECEIVER_PORT
    #: Calling AE titles allowed to push (the scanners); nobody else is accepted.
    allowed_calling_ae_titles: tuple[str, ...] = ()
    #: The largest object taken in: a 600-frame 1080p uncompressed cine is 3.7 GB, an
    #: ultrasound cine as scanners send it (JPEG) tens of MB.
    max_dataset_mb: int = 2048
    #: What the inbox may hold before it refuses more, until the clinician files what is there.
    inbox_quota_mb: int = 20_480
    #: Associations one scanner may have open at once; the others keep theirs.
    associations_per_scanner: int = 4

    def __post_init__(self) -> None:
        object.__setattr__(self, "ae_title", check_ae_title(self.ae_title, "receiver AE title"))
        object.__setattr__(self, "address", check_host(self.address, "receiver address"))
        if not (isinstance(self.port, int) and not isinstance(self.port, bool)) or not (
            0 <= self.port <= 65535
        ):  # 0: any free port, for tests
            raise NodeError(f"receiver port: a number from 1 to 65535, got {self.port!r}")
        titles = tuple(
            check_ae_title(t, f"allowed calling AE titles[{i}]")
            for i, t in enumerate(self.allowed_calling_ae_titles)
        )
        object.__setattr__(self, "allowed_calling_ae_titles", titles)
        for name, low, high in _RECEIVER_RANGES:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise NodeError(f"receiver {name}: a whole number from {low} to {high}")

    def to_json(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "ae_title": self.ae_title,
            "address": self.address,
            "port": self.port,
            "allowed_calling_ae_titles": list(self.allowed_calling_ae_titles),
            **{name: getattr(self, name) for name, _low, _high in _RECEIVER_RANGES},
        }


#: The receiver's limits and their allowed ranges (a DICOM element holds at most 4 GB).
_RECEIVER_RANGES = (
    ("max_dataset_mb", 1, 4096),
    ("inbox_quota_mb", 1, 1 << 24),
    ("associations_per_scanner", 1, 64),
)


@dataclass(frozen=True, slots=True)
class NetworkSettings:
    calling_ae_title: str = DEFAULT_AE_TITLE
    nodes: tuple[Node, ...] = ()
    receiver: ReceiverSettings = field(default_factory=ReceiverSettings)
    #: Where this workstation listens while a C-MOVE delivers a retrieve (the PACS must know
    #: calling_ae_title at this port); only during a pull, only for the PACS's own AE title.
    retrieve_port: int = DEFAULT_RETRIEVE_PORT
    retrieve_address: str = "0.0.0.0"
    #: Keys this version does not know, kept so a re-save does not drop them.
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "calling_ae_title", check_ae_title(self.calling_ae_title, "calling AE title")
        )
        seen: set[str] = set()
        for node in self.nodes:
            if node.name.casefold() in seen:
                raise NodeError(f"two DICOM nodes are named {node.name!r}")
            seen.add(node.name.casefold())

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name.casefold() == name.strip().casefold():
                return node
        known = ", ".join(n.name for n in self.nodes) or "none yet"
        raise NodeError(f"no DICOM node named {name!r} (known: {known})")

    def node_with_url(self, url: str) -> DicomWebNode | None:
        """The DICOMweb node of that URL (with its credentials), if one is configured."""
        wanted = check_url(url)
        for node in self.nodes:
            if isinstance(node, DicomWebNode) and node.url == wanted:
                return node
        return None

    def with_node(self, node: Node) -> NetworkSettings:
        """These settings with `node` added, or replacing the node of the same name."""
        others = [n for n in self.nodes if n.name.casefold() != node.name.casefold()]
        return dataclasses.replace(self, nodes=(*others, node))

    def without_node(self, name: str) -> NetworkSettings:
        self.node(name)
        kept = tuple(n for n in self.nodes if n.name.casefold() != name.strip().casefold())
        return dataclasses.replace(self, nodes=kept)


def settings_path() -> Path:
    from prolo_planner.paths import config_dir

    return config_dir() / SETTINGS_FILE


def settings_from_json(data: object, where: str = SETTINGS_FILE) -> NetworkSettings:
    if not isinstance(data, dict):
        raise NodeError(f"{where}: expected a JSON object")
    version = str(data.get("format_version", FORMAT_VERSION))
    if data.get("format", FORMAT) != FORMAT or version.split(".")[0] != "1":
        raise NodeError(
            f"{where}: not Prolo Planner DICOM settings of format 1.x "
            f"(format {data.get('format')!r}, version {version})"
        )
    try:
        raw_nodes = data.get("nodes", [])
        if not isinstance(raw_nodes, list):
            raise NodeError("nodes: expected a list")
        nodes: list[Node] = []
        for i, raw in enumerate(raw_nodes):
            if not isinstance(raw, dict):
                raise NodeError(f"nodes[{i}]: expected an object")
            try:
                nodes.append(_node(raw))
            except KeyError as exc:
                raise NodeError(f"nodes[{i}]: {exc.args[0]} is missing") from None
            except NodeError as exc:
                raise NodeError(f"nodes[{i}]: {exc}") from None
        raw_rx = data.get("receiver", {})
        if not isinstance(raw_rx, dict):
            raise NodeError("receiver: expected an object")
        rx = ReceiverSettings()
        receiver = ReceiverSettings(
            enabled=bool(raw_rx.get("enabled", rx.enabled)),
            ae_title=raw_rx.get("ae_title", rx.ae_title),
            address=raw_rx.get("address", rx.address),
            port=raw_rx.get("port", rx.port),
            allowed_calling_ae_titles=tuple(raw_rx.get("allowed_calling_ae_titles", ())),
            **{name: raw_rx.get(name, getattr(rx, name)) for name, _low, _high in _RECEIVER_RANGES},
        )
        extra = {k: v for k, v in data.items() if k not in _KNOWN_KEYS}
        port = data.get("retrieve_port", DEFAULT_RETRIEVE_PORT)
        return NetworkSettings(
            calling_ae_title=data.get("calling_ae_title", DEFAULT_AE_TITLE),
            nodes=tuple(nodes),
            receiver=receiver,
            retrieve_port=check_port(port, "retrieve_port") if port != 0 else 0,
            retrieve_address=check_host(data.get("retrieve_address", "0.0.0.0"), "retrieve"),
            extra=MappingProxyType(extra),
        )
    except NodeError as exc:
        raise NodeError(f"{where}: {exc}") from None


def _node(raw: dict[str, Any]) -> Node:
    if raw.get("kind", "dimse") == "dicomweb":
        return DicomWebNode(
            raw["name"],
            raw["url"],
            raw.get("auth", AuthKind.NONE.value),
            raw.get("username", ""),
            raw.get("password", ""),
            raw.get("token", ""),
            bool(raw.get("verify_tls", True)),
            raw.get("ca_bundle", ""),
        )
    if raw.get("kind", "dimse") != "dimse":
        raise NodeError(f"kind: dimse or dicomweb, got {raw.get('kind')!r}")
    return DicomNode(
        raw["name"],
        raw["ae_title"],
        raw["host"],
        raw["port"],
        raw.get("retrieve", RetrieveMethod.GET.value),
    )


def settings_to_json(settings: NetworkSettings) -> dict[str, Any]:
    return {
        **settings.extra,
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "calling_ae_title": settings.calling_ae_title,
        "nodes": [n.to_json() for n in settings.nodes],
        "receiver": settings.receiver.to_json(),
        "retrieve_port": settings.retrieve_port,
        "retrieve_address": settings.retrieve_address,
    }


def load_settings(path: Path | None = None) -> NetworkSettings:
    """The saved settings, or the defaults (no nodes, receiver off) when none were saved."""
    path = path or settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return NetworkSettings()
    except OSError as exc:
        raise NodeError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NodeError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return settings_from_json(data, str(path))


def save_settings(settings: NetworkSettings, path: Path | None = None) -> Path:
    path = path or settings_path()
    text = json.dumps(settings_to_json(settings), indent=2, ensure_ascii=False) + "\n"
    return write_bytes_atomic(path, text.encode("utf-8"))
