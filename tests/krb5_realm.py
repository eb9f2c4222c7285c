"""A throwaway MIT Kerberos realm for the RPCSEC_GSS tests: made in a temp dir with its own
krb5.conf / kdc.conf / database, its KDC (and kadmind when asked) on free loopback ports,
started and stopped by PID.

``Realm.make(workdir)`` creates the database (``kdb5_util create -s``) and writes the config;
``realm.start_kdc()`` / ``realm.start_kadmind()`` run the daemons in the foreground
(``peers.Daemon``); ``realm.add_principal(name, keytab)`` adds a random-key principal and
exports its keys. ``realm.env`` is what a process (this one, or a C peer) needs to use the
realm: ``KRB5_CONFIG``, ``KRB5_KDC_PROFILE``, ``KRB5CCNAME``, ``KRB5_KTNAME`` (acceptor keys),
``KRB5_CLIENT_KTNAME`` (the initiator fetches its own ticket), ``KRB5RCACHEDIR``.
``realm.activate()`` puts it into ``os.environ`` for python-gssapi in this process, which reads
the variables when a context is made. ``realm`` is a module fixture doing all of it.

The whole realm comes up in about half a second (krb5 1.20 on Debian 12). Nothing here talks
to DNS: ``dns_canonicalize_hostname = false`` and ``rdns = false`` make ``svc@localhost``
``svc/localhost@REALM``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
from conftest import module_available, program, require
from peers import LOOPBACK, Daemon, free_port

REALM = "XDRGEN.TEST"
KRB5_PROGRAMS = ("krb5kdc", "kdb5_util", "kadmin.local")
KRB5_MISSING = "needs MIT Kerberos (apt-get install krb5-kdc krb5-admin-server krb5-user libkrb5-dev)"
GSSAPI_MISSING = "needs python-gssapi (pip install -e '.[gss]')"
krb5_present = all(program(name) for name in KRB5_PROGRAMS)
gssapi_present = module_available("gssapi")


def require_krb5(*, gssapi: bool = True) -> None:
    """Skip (or fail under CI) when the realm's programs, or python-gssapi, are missing."""
    require(krb5_present, KRB5_MISSING)
    if gssapi:
        require(gssapi_present, GSSAPI_MISSING)


def _wait_for_port(daemon: Daemon, port: int, what: str) -> None:
    def listening() -> bool:
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, port), 0.5):
            return True
        return False

    daemon.wait_until(listening, what, timeout=30)


@dataclass
class Realm:
    """A realm in ``workdir``: its config, database, ports and the daemons started for it."""

    workdir: Path
    kdc_port: int
    kadmind_port: int
    kpasswd_port: int
    daemons: list[Daemon] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        w = self.workdir
        return {
            "KRB5_CONFIG": str(w / "krb5.conf"),
            "KRB5_KDC_PROFILE": str(w / "kdc.conf"),
            "KRB5CCNAME": f"FILE:{w / 'ccache'}",
            "KRB5_KTNAME": f"FILE:{w / 'service.keytab'}",
            "KRB5_CLIENT_KTNAME": f"FILE:{w / 'client.keytab'}",
            "KRB5RCACHEDIR": str(w / "rcache"),
        }

    @classmethod
    def make(cls, workdir: Path) -> Realm:
        ports = [free_port() for _ in range(3)]
        realm = cls(workdir, *ports)
        (workdir / "rcache").mkdir()
        (workdir / "krb5.conf").write_text(
            f"""[libdefaults]
    default_realm = {REALM}
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
[realms]
    {REALM} = {{
        kdc = {LOOPBACK}:{realm.kdc_port}
        admin_server = {LOOPBACK}:{realm.kadmind_port}
        kpasswd_server = {LOOPBACK}:{realm.kpasswd_port}
    }}
[domain_realm]
    localhost = {REALM}
"""
        )
        (workdir / "kdc.conf").write_text(
            f"""[kdcdefaults]
    kdc_listen = {LOOPBACK}:{realm.kdc_port}
    kdc_tcp_listen = {LOOPBACK}:{realm.kdc_port}
[realms]
    {REALM} = {{
        database_name = {workdir / 'principal'}
        key_stash_file = {workdir / 'stash'}
        acl_file = {workdir / 'kadm5.acl'}
        kadmind_listen = {LOOPBACK}:{realm.kadmind_port}
        kpasswd_listen = {LOOPBACK}:{realm.kpasswd_port}
        iprop_enable = false
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }}
"""
        )
        (workdir / "kadm5.acl").write_text(f"*/admin@{REALM} *\nalice@{REALM} l\n")
        realm._run(["kdb5_util", "-r", REALM, "create", "-s", "-W", "-P", "throwaway-master"])
        return realm

    def _run(self, argv: list[str]) -> str:
        found = program(argv[0])
        assert found is not None, argv[0]
        done = subprocess.run([found, *argv[1:]], env={**os.environ, **self.env}, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{' '.join(argv)}: {done.stdout}{done.stderr}"
        return done.stdout

    def add_principal(self, name: str, keytab: str | Path | None = None) -> str:
        """Add ``name`` (``svc/localhost`` or ``alice``) with a random key; export its keys to
        ``keytab`` (a file name in the realm's dir, or a path). Returns ``name@REALM``."""
        self._run(["kadmin.local", "-r", REALM, "-q", f"addprinc -randkey {name}"])
        if keytab is not None:
            path = keytab if isinstance(keytab, Path) else self.workdir / keytab
            self._run(["kadmin.local", "-r", REALM, "-q", f"ktadd -k {path} {name}"])
        return f"{name}@{REALM}"

    def start_kdc(self) -> None:
        daemon = Daemon("krb5kdc", [str(program("krb5kdc")), "-n", "-r", REALM], self.workdir, env=self.env)
        self.daemons.append(daemon)
        _wait_for_port(daemon, self.kdc_port, "KDC listening")

    def start_kadmind(self) -> None:
        kadmind = program("kadmind")
        require(kadmind, "needs kadmind (apt-get install krb5-admin-server)")
        daemon = Daemon("kadmind", [str(kadmind), "-nofork", "-r", REALM], self.workdir, env=self.env)
        self.daemons.append(daemon)
        _wait_for_port(daemon, self.kadmind_port, "kadmind listening")

    @contextlib.contextmanager
    def activate(self, **overrides: str) -> Iterator[None]:
        """The realm's variables (with ``overrides``) in ``os.environ``, as they were after:
        python-gssapi reads them for each context it makes."""
        variables = {**self.env, **overrides}
        saved = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def stop(self) -> None:
        for daemon in reversed(self.daemons):
            daemon.stop()
        self.daemons.clear()


@pytest.fixture(scope="module")
def realm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Realm]:
    """Module fixture (import it into the test module): a running realm, active in os.environ."""
    with running_realm(tmp_path_factory.mktemp("realm")) as made, made.activate():
        yield made


@contextlib.contextmanager
def running_realm(workdir: Path, *, kadmind: bool = False) -> Iterator[Realm]:
    """A realm made in ``workdir`` with its KDC (and kadmind) running; stopped on exit. It holds
    ``svc/localhost`` (keys in ``service.keytab``) and ``alice`` (keys in ``client.keytab``)."""
    require_krb5()
    realm = Realm.make(workdir)
    realm.add_principal("svc/localhost", "service.keytab")
    realm.add_principal("alice", "client.keytab")
    try:
        realm.start_kdc()
        if kadmind:
            realm.start_kadmind()
        yield realm
    finally:
        realm.stop()
