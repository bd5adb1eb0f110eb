"""WS-Security UsernameToken: the one verifier the demo bus and the proxy use (turnout.soap)."""

from __future__ import annotations

import base64
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree
from zeep.wsse.username import UsernameToken

from turnout.config import ConfigError, load_officers, load_operation_roles
from turnout.soap import (
    IDENTITY_ERROR_KINDS,
    PASSWORD_DIGEST,
    SOAP11_NS,
    SOAP12_NS,
    WSSE_NS,
    WSU_NS,
    Identity,
    IdentityError,
    NonceCache,
    Officer,
    SoapError,
    read_envelope,
    username_token_header,
    verify_username_token,
)

NOW = datetime(2026, 3, 10, 9, 15, 2, tzinfo=timezone.utc)
OFFICERS = {
    "PC5518": Officer(password="larkspur-kettle-42", roles=frozenset({"pnc-check", "crime-report"})),
    "PC4127": Officer(password="marchbank-otter-7", roles=frozenset({"pnc-check"})),
}
DEMO_IDENTITY = Path(__file__).resolve().parents[1] / "turnout" / "demo" / "identity.yaml"
PAYLOAD = '<pnc:PersonEnquiry xmlns:pnc="urn:police:pnc:v1"><pnc:surname>X</pnc:surname></pnc:PersonEnquiry>'


# --- helpers --------------------------------------------------------------------------------


def bare_envelope(soap_ns: str = SOAP11_NS, header: str | None = "") -> etree._Element:
    head = "" if header is None else f"<s:Header>{header}</s:Header>"
    text = f'<s:Envelope xmlns:s="{soap_ns}">{head}<s:Body>{PAYLOAD}</s:Body></s:Envelope>'
    return etree.fromstring(text)


def zeep_signed(username: str, password: str, soap_ns: str = SOAP11_NS, **options: object) -> bytes:
    """An envelope signed by zeep's own wsse plugin, as a zeep client sends it."""
    envelope = bare_envelope(soap_ns, header=None)
    envelope, _ = UsernameToken(username, password, **options).apply(envelope, {})
    return etree.tostring(envelope)


def ours_signed(username: str, password: str, *, nonce: bytes = b"0123456789abcdef",
                created: datetime = NOW) -> bytes:
    envelope = bare_envelope()
    envelope[0].append(username_token_header(username, password, nonce=nonce, created=created))
    return etree.tostring(envelope)


def verify(data: bytes, *, now: datetime = NOW, nonces: NonceCache | None = None,
           window: float = 300) -> Identity:
    envelope = read_envelope(data, "/pnc")
    return verify_username_token(envelope, OFFICERS, now=now, window=window,
                                 nonces=nonces if nonces is not None else NonceCache())


def refusal(data: bytes, **kwargs: object) -> IdentityError:
    with pytest.raises(IdentityError) as caught:
        verify(data, **kwargs)  # type: ignore[arg-type]
    assert caught.value.kind in IDENTITY_ERROR_KINDS
    return caught.value


def token_text(data: bytes, name: str, namespace: str = WSSE_NS) -> str:
    node = etree.fromstring(data).find(f".//{{{namespace}}}{name}")
    assert node is not None and node.text
    return node.text


def replace_text(data: bytes, name: str, text: str, namespace: str = WSSE_NS) -> bytes:
    root = etree.fromstring(data)
    node = root.find(f".//{{{namespace}}}{name}")
    assert node is not None
    node.text = text
    return etree.tostring(root)


# --- what verifies --------------------------------------------------------------------------


@pytest.mark.parametrize("soap_ns", [SOAP11_NS, SOAP12_NS])
def test_zeeps_own_digest_token_verifies(soap_ns: str) -> None:
    data = zeep_signed("PC5518", "larkspur-kettle-42", soap_ns, use_digest=True)
    assert b"#PasswordDigest" in data and b"larkspur" not in data  # digest, not the password
    assert token_text(data, "Created", WSU_NS).endswith("+00:00")  # zeep's default spelling
    identity = verify(data, now=datetime.now(timezone.utc))
    assert identity == Identity("PC5518", frozenset({"pnc-check", "crime-report"}), "username-token")


def test_zeeps_zulu_token_and_password_text_verify_too() -> None:
    now = datetime.now(timezone.utc)
    zulu = zeep_signed("PC4127", "marchbank-otter-7", use_digest=True, zulu_timestamp=True)
    assert token_text(zulu, "Created", WSU_NS).endswith("Z")
    assert verify(zulu, now=now).subject == "PC4127"
    text = zeep_signed("PC4127", "marchbank-otter-7")  # PasswordText: no Nonce, no Created
    assert b"#PasswordText" in text
    assert verify(text, now=now).roles == frozenset({"pnc-check"})
    assert refusal(zeep_signed("PC4127", "wrong")).kind == "bad-digest"


def test_our_header_and_zeeps_agree_digit_for_digit() -> None:
    """Two implementations, one digest: base64(sha1(nonce + created + password))."""
    ours = ours_signed("PC5518", "larkspur-kettle-42", nonce=b"fixed-nonce-1234")
    theirs = zeep_signed("PC5518", "larkspur-kettle-42", use_digest=True, zulu_timestamp=True,
                         nonce="fixed-nonce-1234", created=NOW)
    for name, namespace in (("Password", WSSE_NS), ("Nonce", WSSE_NS), ("Created", WSU_NS)):
        assert token_text(ours, name, namespace) == token_text(theirs, name, namespace)
    assert token_text(ours, "Created", WSU_NS) == "2026-03-10T09:15:02Z"
    password = etree.fromstring(ours).find(f".//{{{WSSE_NS}}}Password")
    assert password is not None and password.get("Type") == PASSWORD_DIGEST
    assert verify(ours).subject == "PC5518"


def test_created_inside_the_window_either_way_verifies() -> None:
    assert verify(ours_signed("PC5518", "larkspur-kettle-42", created=NOW - timedelta(seconds=299)))
    assert verify(ours_signed("PC5518", "larkspur-kettle-42", nonce=b"another-nonce---",
                              created=NOW + timedelta(seconds=299)))


# --- what is refused, and as what -----------------------------------------------------------


def test_a_wrong_password_is_a_bad_digest() -> None:
    error = refusal(ours_signed("PC5518", "larkspur-kettle-43"))
    assert error.kind == "bad-digest" and isinstance(error, SoapError)
    assert "larkspur" not in str(error)  # the log line never carries a password


def test_an_unknown_user_is_refused_as_such() -> None:
    assert refusal(ours_signed("PC0000", "larkspur-kettle-42")).kind == "unknown-user"


def test_an_expired_created_is_refused() -> None:
    old = ours_signed("PC5518", "larkspur-kettle-42", created=NOW - timedelta(seconds=301))
    assert refusal(old).kind == "expired"
    # the same token was fine while it was young: the clock, not the token, refuses it
    assert verify(old, now=NOW - timedelta(seconds=2)).subject == "PC5518"


def test_a_created_in_the_future_past_the_window_is_refused() -> None:
    early = ours_signed("PC5518", "larkspur-kettle-42", created=NOW + timedelta(seconds=301))
    error = refusal(early)
    assert error.kind == "expired" and "future" in str(error)
    assert verify(early, window=600).subject == "PC5518"  # a wider window lets it in


def test_a_replayed_nonce_is_refused_and_the_first_use_is_not() -> None:
    nonces = NonceCache()
    data = ours_signed("PC5518", "larkspur-kettle-42")
    assert verify(data, nonces=nonces).subject == "PC5518"
    assert refusal(data, nonces=nonces).kind == "replayed"
    # the same nonce with another Created (a new digest) is still the same nonce
    again = ours_signed("PC5518", "larkspur-kettle-42", created=NOW + timedelta(seconds=1))
    assert refusal(again, nonces=nonces).kind == "replayed"
    fresh = ours_signed("PC5518", "larkspur-kettle-42", nonce=b"a-different-one!")
    assert verify(fresh, nonces=nonces).subject == "PC5518"


def test_a_refused_token_does_not_use_up_its_nonce() -> None:
    """Only a token whose password checks out is remembered: a forger cannot burn nonces."""
    nonces = NonceCache()
    assert refusal(ours_signed("PC5518", "guess"), nonces=nonces).kind == "bad-digest"
    assert refusal(ours_signed("PC0000", "guess"), nonces=nonces).kind == "unknown-user"
    assert len(nonces) == 0
    assert verify(ours_signed("PC5518", "larkspur-kettle-42"), nonces=nonces).subject == "PC5518"


@pytest.mark.parametrize("header", [None, "", '<x:Other xmlns:x="urn:x"/>',
                                    f'<w:Security xmlns:w="{WSSE_NS}"/>'],
                         ids=["no header", "empty header", "no security", "no token"])
def test_a_missing_token_is_missing(header: str | None) -> None:
    data = etree.tostring(bare_envelope(header=header))
    assert refusal(data).kind == "missing"


def _without(data: bytes, name: str, namespace: str = WSSE_NS) -> bytes:
    root = etree.fromstring(data)
    node = root.find(f".//{{{namespace}}}{name}")
    assert node is not None
    node.getparent().remove(node)
    return etree.tostring(root)


def _twice(data: bytes, path: str) -> bytes:
    root = etree.fromstring(data)
    node = root.find(path, namespaces={"wsse": WSSE_NS})
    assert node is not None
    node.addnext(etree.fromstring(etree.tostring(node)))
    return etree.tostring(root)


def _typed(data: bytes, kind: str) -> bytes:
    root = etree.fromstring(data)
    node = root.find(f".//{{{WSSE_NS}}}Password")
    assert node is not None
    node.set("Type", kind)
    return etree.tostring(root)


GOOD = ours_signed("PC5518", "larkspur-kettle-42")
MALFORMED = {
    "nonce not base64": replace_text(GOOD, "Nonce", "not*base64!"),
    "created without a zone": replace_text(GOOD, "Created", "2026-03-10T09:15:02", WSU_NS),
    "created not a time": replace_text(GOOD, "Created", "2026-02-30T09:15:02Z", WSU_NS),
    "created not a date": replace_text(GOOD, "Created", "yesterday", WSU_NS),
    "digest not base64": replace_text(GOOD, "Password", "%%%"),
    "digest not sha-1 long": replace_text(GOOD, "Password", base64.b64encode(b"short").decode()),
    "empty username": replace_text(GOOD, "Username", "  "),
    "no username": _without(GOOD, "Username"),
    "no password": _without(GOOD, "Password"),
    "digest without nonce": _without(GOOD, "Nonce"),
    "digest without created": _without(GOOD, "Created", WSU_NS),
    "unknown password type": _typed(GOOD, "urn:example#PasswordHash"),
    "two tokens": _twice(GOOD, ".//wsse:UsernameToken"),
    "two security headers": _twice(GOOD, ".//wsse:Security"),
    "two usernames": _twice(GOOD, ".//wsse:Username"),
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_token_is_malformed(data: bytes) -> None:
    assert verify(GOOD).subject == "PC5518"  # the token each case breaks is a good one
    assert refusal(data).kind == "malformed"


def test_identity_errors_have_one_of_the_contract_kinds() -> None:
    assert IDENTITY_ERROR_KINDS == {"missing", "malformed", "unknown-user", "bad-digest",
                                    "expired", "replayed"}
    with pytest.raises(ValueError):
        IdentityError("nope", "not a kind")


def test_now_must_carry_a_zone() -> None:
    with pytest.raises(ValueError):
        verify(GOOD, now=NOW.replace(tzinfo=None))


def test_an_officers_password_never_shows_in_its_repr() -> None:
    assert "larkspur" not in repr(OFFICERS["PC5518"]) and "crime-report" in repr(OFFICERS["PC5518"])


# --- the nonce cache ------------------------------------------------------------------------


def test_nonces_are_forgotten_when_their_window_ends() -> None:
    cache = NonceCache()
    until = NOW + timedelta(seconds=300)
    assert cache.add(b"n1", now=NOW, expires=until) is True
    assert cache.add(b"n1", now=NOW + timedelta(seconds=299), expires=until) is False
    assert cache.add(b"n2", now=NOW + timedelta(seconds=301), expires=until + timedelta(seconds=10))
    assert len(cache) == 1  # n1 is gone
    assert cache.add(b"n1", now=NOW + timedelta(seconds=301), expires=until + timedelta(seconds=10))


def test_a_full_cache_refuses_rather_than_forgets_a_live_nonce() -> None:
    cache = NonceCache(max_entries=2)
    until = NOW + timedelta(seconds=300)
    assert cache.add(b"a", now=NOW, expires=until) and cache.add(b"b", now=NOW, expires=until)
    assert cache.full and cache.add(b"c", now=NOW, expires=until) is False
    assert cache.add(b"a", now=NOW, expires=until) is False  # `a` is still remembered
    later = until + timedelta(seconds=1)
    assert cache.add(b"c", now=later, expires=later + timedelta(seconds=300)) is True
    assert len(cache) == 1


def test_a_full_cache_refuses_a_token_as_replayed() -> None:
    cache = NonceCache(max_entries=1)
    assert verify(GOOD, nonces=cache).subject == "PC5518"
    other = ours_signed("PC5518", "larkspur-kettle-42", nonce=b"second-nonce----")
    error = refusal(other, nonces=cache)
    assert error.kind == "replayed" and "full" in str(error)


def test_one_nonce_raced_from_many_threads_is_accepted_once() -> None:
    cache = NonceCache()
    barrier = threading.Barrier(16)
    results: list[bool] = []
    lock = threading.Lock()

    def race(index: int) -> None:
        barrier.wait()
        for round_ in range(200):
            accepted = cache.add(f"nonce-{round_}".encode(), now=NOW,
                                 expires=NOW + timedelta(seconds=300))
            with lock:
                results.append(accepted)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results) == 200 and len(results) == 16 * 200 and len(cache) == 200


# --- identity files -------------------------------------------------------------------------


def test_the_demo_identity_file_loads() -> None:
    officers = load_officers(DEMO_IDENTITY)
    assert set(officers) == {"PC5518", "PC4127", "PCSO9001", "DC0912", "DS7043"}
    assert officers["PC4127"].roles == {"pnc-check", "geo"}
    assert officers["PCSO9001"].roles == {"geo"}
    roles = load_operation_roles(DEMO_IDENTITY)
    assert roles["/cris CreateCrimeReport"] == "crime-report"
    assert officers["DC0912"].roles == {"safeguarding"}  # the MERLIN desk
    # the MetSearch desk: the search, and the role of each source its modern services check
    assert officers["DS7043"].roles == {"metsearch", "pnc-check", "crime-report", "safeguarding"}
    assert len(roles) == 11
    assert set(roles.values()) == {"pnc-check", "crime-report", "statements", "geo", "safeguarding",
                                   "metsearch"}


BAD_FILES = {
    "roles not a list": ("officers:\n  PC1:\n    password: x\n    roles: geo\n",
                         "identity.yaml:4: officers.PC1.roles: must be a list"),
    "unknown field": ("officers:\n  PC1: {password: x, roles: [geo], rank: sergeant}\n",
                      "identity.yaml:2: officers.PC1.rank: unknown field"),
    "no password": ("officers:\n  PC1: {roles: [geo]}\n",
                    "identity.yaml:2: officers.PC1: password: is required"),
    "empty password": ('officers:\n  PC1: {password: "", roles: [geo]}\n',
                       "identity.yaml:2: officers.PC1.password: must be a non-empty string"),
    "no officers": ("operations: {/geo ResolveLocation: geo}\n", "officers: is required"),
    "bad operation key": ("officers:\n  PC1: {password: x, roles: [geo]}\noperations:\n"
                          "  ResolveLocation: geo\n",
                          "identity.yaml:4: operations.ResolveLocation: an operation key"),
    "not yaml": ("officers: [\n", "identity.yaml:2: not valid YAML"),
}


@pytest.mark.parametrize("text, message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_identity_file_names_file_line_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "identity.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_operation_roles(path) if "operation" in message else load_officers(path)
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(path))


def test_operations_are_optional_for_officers_but_not_for_roles(tmp_path: Path) -> None:
    path = tmp_path / "identity.yaml"
    path.write_text("officers:\n  PC1: {password: x, roles: [geo]}\n")
    assert load_officers(path)["PC1"].roles == {"geo"}
    with pytest.raises(ConfigError, match="operations: is required"):
        load_operation_roles(path)
