"""The README's nginx example is the shipped file, and nginx accepts it."""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "deploy" / "nginx.conf"


def test_readme_shows_the_shipped_file() -> None:
    blocks = re.findall(r"```nginx\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    assert blocks == [EXAMPLE.read_text()]


def test_blocks_and_statements_are_well_formed() -> None:
    """What nginx -t checks first, for machines without nginx."""
    depth = 0
    for raw in EXAMPLE.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        assert line.endswith((";", "{", "}")), raw
        depth += line.count("{") - line.count("}")
        assert depth >= 0, raw
    assert depth == 0


def _self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "api.example.com")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fullchain.pem", directory / "privkey.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_accepts_it(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    config = (
        EXAMPLE.read_text()
        .replace("/etc/ssl/contactlists/fullchain.pem", str(cert))
        .replace("/etc/ssl/contactlists/privkey.pem", str(key))
    )
    (tmp_path / "logs").mkdir()
    (tmp_path / "nginx.conf").write_text(config)
    result = subprocess.run(
        [
            "nginx",
            "-t",
            "-p",
            str(tmp_path),
            "-c",
            str(tmp_path / "nginx.conf"),
            "-g",
            f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/logs/error.log;",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
