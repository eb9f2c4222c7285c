"""The typed client of protocols/kadm5.x against MIT's kadmind (program 2112, RPCSEC_GSS only,
MIT's own gssrpc rather than libtirpc) in a throwaway realm: it lists the principals and
policies and reads its privileges under krb5, krb5i and krb5p, and the answers match what
``kadmin.local`` (the database itself) and ``kadmin`` (MIT's client) say. AUTH_NONE is
refused, as is a principal the ACL does not allow to list."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import pytest
from conftest import program, requires, sibling_module
from krb5_realm import REALM, Realm, running_realm

from xdrgen.compiler import compile_file

KADM5_X = Path(__file__).resolve().parents[1] / "protocols" / "kadm5.x"
# the getprivs bits MIT's kadmin names (kadm5/admin.h KADM5_PRIV_GET, _ADD, _MODIFY, _DELETE)
PRIVILEGE_NAMES = {1: "INQUIRE", 2: "ADD", 4: "MODIFY", 8: "DELETE"}
KADM5_AUTH_LIST_DENIED = 43787520 + 44  # kadm_err.et: KADM5_AUTH_LIST, "Operation requires ``list'' privilege"

pytestmark = requires(program("kadmind"), "needs kadmind (apt-get install krb5-admin-server)")


@pytest.fixture(scope="module")
def realm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Realm]:
    with running_realm(tmp_path_factory.mktemp("realm"), kadmind=True) as realm, realm.activate():
        realm.add_principal("kadmin/localhost")  # kadmind accepts kadmin/<anything> from its database's keys
        realm.add_principal("bob", "bob.keytab")  # not in the ACL: no list privilege
        realm._run(["kadmin.local", "-r", REALM, "-q", "addpol -minlength 8 strict"])
        yield realm


@pytest.fixture(scope="module")
def kadm5(generated_package: Any) -> ModuleType:
    return generated_package.load(compile_file(KADM5_X), "kadm5")


def _names(reply: Any, kadm5: ModuleType) -> list[str]:
    assert reply.api_version == kadm5.KADM5_API_VERSION_4
    assert reply.result.code == kadm5.KADM5_OK, reply
    listed = reply.result.list_
    assert listed.count == len(listed.names)
    assert all(name.endswith(b"\0") for name in listed.names)  # xdr_nullstring sends the NUL
    return sorted(name[:-1].decode() for name in listed.names)


@pytest.mark.parametrize("service", ["krb5", "krb5i", "krb5p"])
def test_typed_client_lists_principals_and_policies_from_kadmind(realm: Realm, kadm5: ModuleType, service: str) -> None:
    rpc = sibling_module(kadm5, "xdr_rpc")
    expected = sorted(realm._run(["kadmin.local", "-r", REALM, "-q", "listprincs"]).split("\n")[1:-1])
    assert f"alice@{REALM}" in expected and f"kadmin/localhost@{REALM}" in expected
    credentials = rpc.Credentials.gss("kadmin@localhost", service)
    with kadm5.KADMVERS_Client("127.0.0.1", realm.kadmind_port, credentials=credentials, timeout=20) as client:
        assert client.init(kadm5.KADM5_API_VERSION_4).code == kadm5.KADM5_OK
        assert client.get_privs(kadm5.KADM5_API_VERSION_4).code == kadm5.KADM5_OK
        everyone = _names(client.get_princs(kadm5.kadm5_names_arg(kadm5.KADM5_API_VERSION_4, b"")), kadm5)  # NULL: all
        assert everyone == expected
        assert _names(client.get_princs(kadm5.kadm5_names_arg(kadm5.KADM5_API_VERSION_4, b"kadmin/*\0")), kadm5) == [p for p in expected if p.startswith("kadmin/")]
        assert _names(client.get_pols(kadm5.kadm5_names_arg(kadm5.KADM5_API_VERSION_4, b"")), kadm5) == ["strict"]


def _kadmin(realm: Realm, query: str) -> str:
    """MIT's kadmin client, as alice with her keytab, running ``query``."""
    done = subprocess.run(
        [str(program("kadmin")), "-r", REALM, "-p", f"alice@{REALM}", "-k", "-t", str(realm.workdir / "client.keytab"), "-s", f"127.0.0.1:{realm.kadmind_port}", "-q", query],
        capture_output=True, text=True, timeout=60, env={**os.environ, **realm.env},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_mit_kadmin_client_sees_the_same_principals_and_privileges(realm: Realm, kadm5: ModuleType) -> None:
    rpc = sibling_module(kadm5, "xdr_rpc")
    with kadm5.KADMVERS_Client("127.0.0.1", realm.kadmind_port, credentials=rpc.Credentials.gss("kadmin@localhost", "krb5p"), timeout=20) as client:
        ours = _names(client.get_princs(kadm5.kadm5_names_arg(kadm5.KADM5_API_VERSION_4, b"")), kadm5)
        privs = client.get_privs(kadm5.KADM5_API_VERSION_4).privs
    assert sorted(line for line in _kadmin(realm, "listprincs").splitlines() if "@" in line and " " not in line) == ours
    printed = _kadmin(realm, "getprivs").split("current privileges:")[1].split()
    assert printed == [name for bit, name in PRIVILEGE_NAMES.items() if privs & bit]


def test_kadmind_refuses_auth_none_and_a_principal_without_the_list_privilege(realm: Realm, kadm5: ModuleType) -> None:
    rpc = sibling_module(kadm5, "xdr_rpc")
    with kadm5.KADMVERS_Client("127.0.0.1", realm.kadmind_port, timeout=20) as client:
        with pytest.raises(rpc.Rejected) as raised:
            client.get_princs(kadm5.kadm5_names_arg(kadm5.KADM5_API_VERSION_4, b""))
        assert raised.value.auth_stat == rpc.AUTH_TOOWEAK
    credentials = rpc.Credentials.gss("kadmin@localhost", "krb5i", initiator=f"bob@{REALM}")
    with realm.activate(KRB5_CLIENT_KTNAME=f"FILE:{realm.workdir / 'bob.keytab'}", KRB5CCNAME=f"FILE:{realm.workdir / 'bob.ccache'}"):
        with kadm5.KADMVERS_Client("127.0.0.1", realm.kadmind_port, credentials=credentials, timeout=20) as client:
            reply = client.get_princs(kadm5.kadm5_names_arg(kadm5.KADM5_API_VERSION_4, b""))
    assert reply.result.code == KADM5_AUTH_LIST_DENIED
