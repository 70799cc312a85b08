"""Real DICOM servers for the network tests (tests/net_servers.py), one per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.net_servers import Orthanc, Storescp


@pytest.fixture(scope="module")
def storescp_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Storescp]:
    """storescp +xa: takes compressed transfer syntaxes as they are."""
    server = Storescp(tmp_path_factory.mktemp("storescp-xa"), accept_all=True).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def storescp_plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Storescp]:
    """storescp with dcmtk's default: uncompressed transfer syntaxes only."""
    server = Storescp(tmp_path_factory.mktemp("storescp-plain")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def storescp_implicit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Storescp]:
    """storescp +xi: Implicit VR Little Endian only (refuses big endian, too)."""
    server = Storescp(tmp_path_factory.mktemp("storescp-xi"), implicit_only=True).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Orthanc]:
    server = Orthanc(tmp_path_factory.mktemp("orthanc")).start()
    yield server
    server.stop()
