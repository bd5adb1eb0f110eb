"""Replaying recordings (`turnout replay`) and learning noise from the legacy bus itself.

One run of the demo scenario through the proxy is recorded once for the module; replays go to
the same demo bus over loopback.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from turnout.cli._noise import learn_noise_command
from turnout.cli._replay import replay as replay_command
from turnout.compare import NoiseLearner, Pattern, load_rules, write_proposals
from turnout.config import ConfigError
from turnout.demo import DemoStore, ServerThread, make_legacy_app
from turnout.demo.config import demo_proxy_config, write_demo_config
from turnout.demo.data import personal_values
from turnout.demo.scenario import run_scenario
from turnout.proxy import ProxyThread
from turnout.recording import (
    Exchange,
    RecordingStore,
    SendOptions,
    plan_replay,
    replay,
    resendable_headers,
)
from turnout.soap import HttpRequest

from .support.bus import Reply, ScriptedBus
from .support.demo_writes import demo_writes

WRITES = demo_writes()


@dataclass
class Recorded:
    bus: ServerThread
    store: DemoStore
    recordings: Path
    config: Path
    exchanges: list[Exchange]

    @property
    def reads(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.operation and e.operation.key not in WRITES]

    @property
    def writes(self) -> Counter[str]:
        """Per write, its exchanges whose request was recorded (one that could be resent)."""
        return Counter(e.operation.key for e in self.exchanges
                       if e.operation and e.operation.key in WRITES and not self._omitted(e))

    @property
    def unrecorded(self) -> list[Exchange]:
        """Exchanges whose request body redaction could not keep: the MTOM statement, a
        multipart body the rules cannot be applied to (omitted, hash and length kept)."""
        return [e for e in self.exchanges if self._omitted(e)]

    @staticmethod
    def _omitted(exchange: Exchange) -> bool:
        return "request" in exchange.omitted_bodies


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    tmp = tmp_path_factory.mktemp("replay")
    store = DemoStore()
    with ServerThread(make_legacy_app(store)) as bus:
        with ProxyThread(demo_proxy_config(bus.url, tmp / "recordings")) as proxy:
            calls = run_scenario(proxy.url)
        assert all(c.as_expected for c in calls)
        config = write_demo_config(tmp / "config", bus.url, "http://127.0.0.1:9", tmp / "unused")
        exchanges = list(RecordingStore(tmp / "recordings").iter_exchanges())
        assert len(exchanges) == len(calls)
        yield Recorded(bus, store, tmp / "recordings", config, exchanges)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(replay_command, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


# -- replay ---------------------------------------------------------------------------------


def test_replay_records_each_answer_as_a_new_exchange_beside_the_original(
    recorded: Recorded, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, output = run(str(recorded.recordings), "--target", recorded.bus.url, "--rate", "500",
                       "--concurrency", "8", "--config", str(recorded.config), "--out", str(out))
    assert code == 0, output
    replayed = list(RecordingStore(out).iter_exchanges())
    originals = {e.id: e for e in recorded.exchanges}
    assert recorded.unrecorded and all(e.operation and e.operation.key in WRITES
                                       for e in recorded.unrecorded)
    assert len(replayed) == len(recorded.reads) == (
        len(recorded.exchanges) - sum(recorded.writes.values()) - len(recorded.unrecorded))
    assert {e.extra["replay_of"] for e in replayed} == {e.id for e in recorded.reads}
    for exchange in replayed:
        original = originals[exchange.extra["replay_of"]]
        assert exchange.id not in originals
        assert exchange.route == "replay" and exchange.outcome == "forwarded"
        assert exchange.extra["target"] == recorded.bus.url
        assert exchange.operation == original.operation
        # the body went as recorded (see the headers test); the new recording is redacted
        # again by the config's rules, so its request need not read as the original's
        assert (exchange.request.method, exchange.request.path) == (
            original.request.method, original.request.path)
        # the bus saw the real values, the replay their pseudonyms: the answer may differ
        assert exchange.response is not None and exchange.response.status in (200, 500)
    # the same store layout, and the originals are untouched
    assert {p.parent.relative_to(out) for p in out.rglob("*.yaml")} <= {
        p.parent.relative_to(recorded.recordings) for p in recorded.recordings.rglob("*.yaml")}
    assert len(list(recorded.recordings.rglob("*.yaml"))) == len(recorded.exchanges)
    # redacted as the config says, like the originals
    raw = b"".join(p.read_bytes() for p in out.rglob("*.yaml")).upper()
    assert [v for v in personal_values(recorded.store) if v.upper().encode() in raw] == []
    assert re.search(rf"sent +│ {len(replayed)} ", output)
    writes = ", ".join(f"{key} ×{n}" for key, n in sorted(recorded.writes.items()))
    assert _one_line(f"skipped writes │ {sum(recorded.writes.values())}  {writes}") in _one_line(output)
    assert f"skipped other  │ {len(recorded.unrecorded)}  body-not-recorded ×{len(recorded.unrecorded)}" \
        in output


def _one_line(text: str) -> str:
    """A rich table's cells as one line: its wrapped lines joined, borders and padding gone."""
    return " ".join(re.sub(r"[│┃]", " ", text).split())


def test_writes_are_resent_only_with_include_writes(recorded: Recorded, tmp_path: Path) -> None:
    with ServerThread(make_legacy_app(DemoStore())) as fresh:  # its store may change
        code, output = run(str(recorded.recordings), "--target", fresh.url, "--rate", "500",
                           "--config", str(recorded.config), "--include-writes",
                           "--out", str(tmp_path / "out"))
    assert code == 0, output
    keys = [e.operation.key for e in RecordingStore(tmp_path / "out").iter_exchanges()
            if e.operation]
    # every exchange but those whose request was not recorded (it cannot be resent)
    assert len(keys) == len(recorded.exchanges) - len(recorded.unrecorded)
    assert {k for k in keys if k in WRITES} == WRITES
    assert "skipped writes │ 0" in output
    assert f"body-not-recorded ×{len(recorded.unrecorded)}" in output


def test_without_a_config_nothing_is_declared_and_it_says_so(
    recorded: Recorded, tmp_path: Path
) -> None:
    """Without a config no operation is declared a read: nothing is sent but what a person
    names with --operation and confirms a read. (The library's `plan_replay` without a policy
    trusts its caller, but still holds back names that look like writes.)"""
    plan = plan_replay(recorded.exchanges)
    assert len(plan.send) == len(recorded.reads)
    assert Counter((s.operation, s.reason) for s in plan.skipped) == Counter(
        {**{(op, "write-name"): n for op, n in recorded.writes.items()},
         **Counter((e.operation.key, "body-not-recorded") for e in recorded.unrecorded if e.operation)})
    first_read = recorded.reads[:3]
    directory = tmp_path / "recs"
    for exchange in first_read:
        RecordingStore(directory).write(exchange)
    code, output = run(str(directory), "--target", recorded.bus.url, "--rate", "500",
                       "--out", str(tmp_path / "none"))
    assert code == 0, output
    assert "no operation is declared a read" in output and "nothing was replayed" in output
    named = sorted({e.operation.key for e in first_read if e.operation})
    code, output = run(str(directory), "--target", recorded.bus.url, "--rate", "500",
                       *[arg for op in named for arg in ("--operation", op)], "--yes")
    assert code == 0, output
    # the default --out: beside DIR, named after it
    [out] = [p for p in tmp_path.iterdir() if p.name.startswith("recs-replay-")]
    assert len(list(RecordingStore(out).iter_exchanges())) == 3


def test_the_rate_bounds_how_fast_requests_go(recorded: Recorded, tmp_path: Path) -> None:
    n, rate = 10, 20.0
    plan = plan_replay(recorded.reads[:n])
    started = time.monotonic()
    summary = replay(plan, RecordingStore(tmp_path / "out"), recorded.bus.url,
                     SendOptions(rate=rate, concurrency=8))
    elapsed = time.monotonic() - started
    assert summary.sent == n and sum(summary.statuses.values()) == n
    assert elapsed >= (n - 1) / rate
    times = sorted(e.started_at for e in RecordingStore(tmp_path / "out").iter_exchanges())
    assert (times[-1] - times[0]).total_seconds() >= (n - 1) / rate - 0.005


def test_concurrency_bounds_how_many_are_in_flight(recorded: Recorded, tmp_path: Path) -> None:
    with ScriptedBus() as slow:
        slow.reply = Reply(delay=0.2)
        plan = plan_replay(recorded.reads[:6])
        started = time.monotonic()
        summary = replay(plan, RecordingStore(tmp_path / "out"), slow.url,
                         SendOptions(rate=None, concurrency=2))
        elapsed = time.monotonic() - started
    assert summary.sent == 6
    assert elapsed >= 3 * 0.2  # six answers of 0.2 s, two at a time


def test_end_to_end_headers_are_resent_but_not_host_length_or_hop_by_hop(tmp_path: Path) -> None:
    headers = [("Host", "bus.example"), ("SOAPAction", '"urn:x#Op"'), ("Connection", "keep-alive, X-Hop"),
               ("X-Hop", "1"), ("Content-Length", "7"), ("Content-Type", "text/xml"),
               ("Transfer-Encoding", "chunked"), ("X-Officer-Id", "PC1")]
    assert resendable_headers(headers) == [
        ("SOAPAction", '"urn:x#Op"'), ("Content-Type", "text/xml"), ("X-Officer-Id", "PC1")]
    exchange = Exchange(request=HttpRequest("POST", "/pnc?x=1", headers, b"<a/>"), client="c")
    with ScriptedBus() as bus:
        summary = replay(plan_replay([exchange], include_unreadable=True),
                         RecordingStore(tmp_path), bus.url, SendOptions(rate=None))
        [received] = bus.received
    assert summary.sent == 1 and summary.statuses == {200: 1}
    assert received.path == "/pnc?x=1" and received.body == b"<a/>"
    got = {k.lower(): v for k, v in received.headers}
    assert got["soapaction"] == '"urn:x#Op"' and got["x-officer-id"] == "PC1"
    assert got["host"] != "bus.example" and "x-hop" not in got


def test_bad_input_is_refused_with_a_message(recorded: Recorded, tmp_path: Path) -> None:
    code, output = run(str(tmp_path / "nope"), "--target", recorded.bus.url)
    assert code == 2 and "does not exist" in output
    code, output = run(str(recorded.recordings), "--target", "ftp://bus")
    assert code == 2 and "--target must be an http://" in output
    code, output = run(str(recorded.recordings), "--target", recorded.bus.url, "--rate", "0")
    assert code == 2 and "--rate" in output
    bad = tmp_path / "turnout.yaml"
    bad.write_text("upstream: http://127.0.0.1:1\nlisten:\n  port: banana\n")
    code, output = run(str(recorded.recordings), "--target", recorded.bus.url, "--config", str(bad))
    assert code == 2 and f"{bad}:3: listen.port" in output


def test_an_unreachable_target_is_counted_and_recorded_as_errors(
    recorded: Recorded, tmp_path: Path
) -> None:
    directory = tmp_path / "recs"
    for exchange in recorded.reads[:2]:
        RecordingStore(directory).write(exchange)
    code, output = run(str(directory), "--target", "http://127.0.0.1:9", "--rate", "500",
                       "--config", str(recorded.config), "--out", str(tmp_path / "out"))
    assert code == 1
    assert "target.unreachable" in output
    replayed = list(RecordingStore(tmp_path / "out").iter_exchanges())
    assert [e.outcome for e in replayed] == ["upstream-error"] * 2
    assert all(e.response is None and e.notes == ["target.unreachable"] for e in replayed)


# -- learning noise -------------------------------------------------------------------------

VOLATILE_FIELDS = ("messageId", "timestamp")  # every demo answer's MessageHeader: a uuid, a clock
HEADER_FIELD = re.compile(r"/\*/\*/(\w+):MessageHeader/\1:(\w+)")


def learned_paths(rules: Path) -> dict[str, set[str]]:
    doc = YAML(typ="rt").load(rules.read_text())
    return {section: {str(p) for p in body.get("ignore", [])}
            for section, body in doc.items() if section != "namespaces"}


def header_fields(rules: Path, paths: set[str]) -> set[tuple[str, str]]:
    """`paths` that name a MessageHeader field, as (service, field): the service read from the
    namespace its prefix is declared with (`urn:police:pnc:v1` -> pnc), whatever the prefix."""
    namespaces = YAML(typ="rt").load(rules.read_text())["namespaces"]
    found = set()
    for path in paths:
        match = HEADER_FIELD.fullmatch(path)
        assert match, path
        found.add((namespaces[match.group(1)].split(":")[2], match.group(2)))
    return found


def test_noise_learned_from_the_demo_bus_is_exactly_its_volatile_fields(
    recorded: Recorded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "compare.yaml"
    rules.write_text("# our own notes: keep them\nnamespaces:\n  pnc: urn:police:pnc:v1\n")
    crimes, statements = len(recorded.store.crimes()), len(recorded.store.statements())
    code = learn_noise_command(recorded.recordings, recorded.bus.url, rules, recorded.config,
                               rate=1000, concurrency=8)
    output = capsys.readouterr().out
    assert code == 0, output
    # writes were never sent
    assert (len(recorded.store.crimes()), len(recorded.store.statements())) == (crimes, statements)
    assert f"writes are never replayed: skipped {sum(recorded.writes.values())}" in output
    assert "/cris CreateCrimeReport ×4" in output
    text = rules.read_text()
    assert text.startswith("# our own notes: keep them\n")
    learned = learned_paths(rules)
    reads = Counter({e.operation.key for e in recorded.reads if e.operation})  # operations
    services = Counter(key.split()[0].strip("/") for key in reads)  # read operations each
    assert header_fields(rules, set().union(*learned.values())) == {
        (service, field) for service in services for field in VOLATILE_FIELDS}
    # a service with two read operations, both noisy: default (pnc, cris, merlin); a service
    # with one: that operation's section (geo, metsearch)
    assert header_fields(rules, learned["default"]) == {
        (service, field) for service, n in services.items() if n > 1 for field in VOLATILE_FIELDS}
    for key in reads:
        service = key.split()[0].strip("/")
        if services[service] == 1:
            assert header_fields(rules, learned[key]) == {(service, f) for f in VOLATILE_FIELDS}
    # every pair of PNC's and geo's answers differed (each carries a header)
    assert re.search(r"- /\*/\*/pnc:MessageHeader/pnc:messageId +# learned: differed in (\d+)/\1 "
                     r"replays\n", text)
    assert re.search(r"- /\*/\*/geo:MessageHeader/geo:messageId +# learned: differed in (\d+)/\1 "
                     r"replays\n", text)
    table = load_rules(rules)  # the file is valid, with the new prefixes declared
    assert {p.path for p in table["/geo ResolveLocation"].ignore} == (
        learned["default"] | learned["/geo ResolveLocation"])

    # idempotent: a second run finds the same noise, already covered, and adds nothing
    code = learn_noise_command(recorded.recordings, recorded.bus.url, rules, recorded.config,
                               rate=1000, concurrency=8)
    assert code == 0
    assert "nothing new to propose" in capsys.readouterr().out
    assert rules.read_text() == text


def test_noise_already_ignored_by_other_spellings_is_not_proposed(
    recorded: Recorded, tmp_path: Path
) -> None:
    rules = tmp_path / "compare.yaml"
    shipped = Path(__file__).parents[1] / "turnout" / "demo" / "compare.yaml"
    rules.write_bytes(shipped.read_bytes())  # `//pnc:MessageHeader/pnc:messageId` and so on
    code = learn_noise_command(recorded.recordings, None, rules, recorded.config,  # config's upstream
                               rate=1000, concurrency=8, per_operation=2)
    assert code == 0
    assert rules.read_bytes() == shipped.read_bytes()


def test_learning_noise_refuses_without_a_config_or_a_rules_file(
    recorded: Recorded, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "compare.yaml"
    assert learn_noise_command(recorded.recordings, recorded.bus.url, rules, None) == 2
    assert "cannot tell writes" in capsys.readouterr().err
    assert learn_noise_command(tmp_path / "nope", recorded.bus.url, rules, recorded.config) == 2
    assert "no such recording directory" in capsys.readouterr().err
    bad_rules = tmp_path / "bad.yaml"
    bad_rules.write_text("default:\n  ignore: ['//pcn:x']\n")
    assert learn_noise_command(recorded.recordings, recorded.bus.url, bad_rules, recorded.config) == 2
    assert f"{bad_rules}:2" in capsys.readouterr().err
    assert learn_noise_command(recorded.recordings, "http://127.0.0.1:9", rules, recorded.config,
                               rate=1000, gap=0) == 1
    assert not rules.exists()


# -- the pure parts -------------------------------------------------------------------------

ENVELOPE = ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:p="urn:p">'
            '<s:Body><p:R>{}</p:R></s:Body></s:Envelope>')


def test_positions_collapse_and_reordered_siblings_propose_an_unordered_set() -> None:
    learner = NoiseLearner()
    one = ENVELOPE.format("<p:i><p:k>1</p:k><p:t>a</p:t></p:i><p:i><p:k>2</p:k><p:t>b</p:t></p:i>")
    two = ENVELOPE.format("<p:i><p:k>1</p:k><p:t>c</p:t></p:i><p:i><p:k>2</p:k><p:t>d</p:t></p:i>")
    assert learner.add_pair("/p Op", one.encode(), two.encode())
    moved = ENVELOPE.format("<p:i><p:k>2</p:k><p:t>b</p:t></p:i><p:i><p:k>1</p:k><p:t>a</p:t></p:i>")
    assert learner.add_pair("/p Op", one.encode(), moved.encode())
    assert not learner.add_pair("/p Op", b"not xml", b"<a/>")
    found = {(p.kind, p.pattern.render(lambda uri: "p"), p.comment) for p in learner.proposals()}
    assert found == {
        ("ignore", "/*/*/p:R/p:i/p:t", "learned: differed in 1/2 replays"),
        ("unordered", "/*/*/p:R/p:i", "learned: reordered in 1/2 replays"),
    }
    assert learner.operations["/p Op"].unreadable == 1
    # differently named children in another order: no rule can say so, so none is proposed
    swapped = NoiseLearner()
    swapped.add_pair("/p Op", ENVELOPE.format("<p:a/><p:b/>").encode(),
                     ENVELOPE.format("<p:b/><p:a/>").encode())
    assert swapped.proposals() == []
    assert dict(swapped.operations["/p Op"].unexplained) == {"/s:Envelope/s:Body/p:R": 1}


def test_proposals_keep_comments_and_never_duplicate(tmp_path: Path) -> None:
    rules = tmp_path / "compare.yaml"
    rules.write_text(
        "# top\nnamespaces:\n    x: urn:x   # ours\n\ndefault:\n    ignore:\n        - /*/*/x:a  # kept\n"
        "    # introduces the next section\n\"/x Op\": {fault_detail: true}\n# the end\n"
    )
    learner = NoiseLearner(load_rules(rules))
    a = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:x="urn:x"><s:Header>' \
        '<x:a>{}</x:a><x:b>{}</x:b></s:Header><s:Body><y:c xmlns:y="urn:y" y:at="{}"/></s:Body></s:Envelope>'
    learner.add_pair("/x Op", a.format(1, 1, 1).encode(), a.format(2, 2, 2).encode())
    added = write_proposals(rules, learner.proposals(), learner.prefixes)
    assert [(e.section, e.path) for e in added] == [
        ("/x Op", "/*/*/x:b"), ("/x Op", "/*/*/y:c/@y:at")]
    text = rules.read_text()
    for kept in ("# top\n", "x: urn:x   # ours", "- /*/*/x:a  # kept",
                 "    # introduces the next section\n\"/x Op\":", "# the end\n"):
        assert kept in text
    assert text.endswith("# the end\n")
    assert "y: urn:y" in text
    assert write_proposals(rules, learner.proposals(), learner.prefixes) == []
    rules.write_text("default: [oops\n")
    with pytest.raises(ConfigError):
        write_proposals(rules, learner.proposals())


def test_a_pattern_names_elements_not_positions() -> None:
    pattern = Pattern(("*", "*", "{urn:p}R", "{urn:p}i"), "{urn:p}id")
    assert pattern.render(lambda uri: "p") == "/*/*/p:R/p:i/@p:id"
    assert pattern.element == Pattern(("*", "*", "{urn:p}R", "{urn:p}i"))


def test_noise_is_learned_from_answers_the_bus_compressed_and_keyed_by_the_normalised_path(
    tmp_path: Path,
) -> None:
    """A bus that gzips whatever it is asked (no Accept-Encoding is sent): each pair is still
    compared as XML; and a read recorded under `/./p` is learned as `/p`'s."""
    import gzip

    from turnout.compare import learn_noise
    from turnout.soap import OperationName

    exchange = Exchange(request=HttpRequest("POST", "/./p", [("Accept-Encoding", "gzip")],
                                            ENVELOPE.format("").encode()),
                        client="c", operation=OperationName("/./p", "R", "urn:p"))
    with ScriptedBus() as bus:
        bus.reply = Reply(headers=[("Content-Type", "text/xml"), ("Content-Encoding", "gzip")],
                          body=gzip.compress(ENVELOPE.format("<p:t>1</p:t>").encode()))
        report = learn_noise([exchange], bus.url, options=SendOptions(rate=None), gap=0)
        assert [r.path for r in bus.received] == ["/p", "/p"]
        assert all("accept-encoding" not in {k.lower() for k, _ in r.headers} for r in bus.received)
    assert set(report.operations) == {"/p R"}
    noise = report.operations["/p R"]
    assert (noise.samples, noise.unreadable) == (1, 0)
