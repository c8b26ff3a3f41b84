"""Who may talk to the Dask cluster drapto uses: the TLS settings of its client, and the one-line errors when
a scheduler will not talk to it. Imported only when a cluster is asked for.

Dask workers run whatever pickled code a connected client sends, so a cluster's only gate is who can
connect. `local[:N]` gets throwaway certificates made for the run (`Security.temporary()`, kept in memory):
its scheduler and workers listen on 127.0.0.1 over TLS and require a certificate signed by that run's own
authority, which only this run's processes hold, so another local user who finds a port cannot join. A `tls://`
scheduler gets the certificates named by `cluster_security` (a small TOML file), or else those in Dask's own
configuration (`distributed.comm.tls.*`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from drapto.errors import DependencyError, InputError

# What a `cluster_security` file may hold; paths are relative to the file's folder
FILE_KEYS = ("ca_file", "cert", "key")


class SecurityFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A `cluster_security` file: the authority that signed the cluster's certificates, drapto's own
    certificate, and its private key (None: in the certificate's file)."""

    ca_file: str
    cert: str
    key: str | None = None


def load_security_file(path: str) -> SecurityFile:
    """The file's paths, made absolute against its folder; each must be a readable file."""
    where = Path(path).expanduser()
    try:
        found = msgspec.toml.decode(where.read_bytes(), type=SecurityFile)
    except OSError as exc:
        raise InputError(f"cluster_security file {path} cannot be read: {exc.strerror or exc}") from None
    except msgspec.DecodeError as exc:  # bad TOML, a missing or unknown key, a non-string
        raise InputError(
            f"cluster_security file {path}: {exc} (it holds ca_file, cert and optionally key, as paths)"
        ) from None
    paths = {}
    for name in FILE_KEYS:
        value = getattr(found, name)
        if value is None:
            continue
        full = (where.parent / Path(value).expanduser()).absolute()
        if not full.is_file():
            raise InputError(f"cluster_security file {path}: {name} {full} is not a file")
        paths[name] = str(full)
    return SecurityFile(**paths)


def local_security() -> Any:
    """Throwaway certificates for a LocalCluster: scheduler, workers and client share one self-signed
    certificate made now, kept in memory (Dask writes it for a moment into a private temporary folder to
    load it)."""
    from distributed.security import Security

    try:
        return Security.temporary()
    except ImportError:
        raise DependencyError(
            "The local cluster's TLS needs the cryptography package: pip install 'drapto[cluster]'"
        ) from None


def client_security(address: str, security_file: str | None) -> Any:
    """The client's `Security` for a scheduler address: the named file's certificates (TLS required), else
    Dask's configuration. A `tls://` address without a certificate is refused here, before connecting."""
    import ssl

    from distributed.security import Security

    if security_file:
        named = load_security_file(security_file)
        security = Security(
            require_encryption=True, tls_ca_file=named.ca_file, tls_client_cert=named.cert,
            tls_client_key=named.key,
        )  # fmt: skip
    else:
        security = Security()  # distributed.comm.tls.* from Dask's config files and DASK_* variables
    if not address.startswith("tls://"):
        return security
    try:
        context = security.get_connection_args("client")["ssl_context"]
    except (OSError, ssl.SSLError) as exc:  # a file that is not a certificate, or a key that does not fit it
        raise DependencyError(f"Cannot load drapto's TLS certificate for {address}: {exc}") from None
    if context is None:
        raise DependencyError(
            f"The Dask cluster at {address} wants TLS, and drapto has no certificate for it: name one with "
            "--cluster-security FILE (or Dask's distributed.comm.tls.ca-file and .client.cert)"
        )
    return security


def connection_error(address: str, exc: BaseException) -> DependencyError:
    """One line for a connection the cluster (or drapto) refused, or that never came up."""
    from distributed.comm.core import FatalCommClosedError

    if isinstance(exc, FatalCommClosedError):  # Dask's name for a failed TLS handshake
        return DependencyError(
            f"The Dask cluster at {address} refused drapto's TLS certificate, or drapto refused its: they are "
            "not signed by the same authority (see --cluster-security), or the scheduler does not listen on TLS"
        )  # a plain-TCP scheduler fails the handshake this way or as a ValueError, depending on timing
    hint = {
        "tcp://": " (if the scheduler listens on TLS, its address is tls://HOST:PORT)",
        "tls://": " (if the scheduler listens on plain TCP, its address is tcp://HOST:PORT)",
    }.get(address[:6], "")
    return DependencyError(f"Cannot reach the Dask cluster at {address}: {exc}{hint}")
