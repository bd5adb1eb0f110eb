"""What a semantic diff costs: `turnout.compare.diff` against lxml's C14N 2.0 of the same pair.

    python bench/compare.py [--number 2000] [--repeat 7]

The envelopes are real demo-bus answers (a SearchCrimeReports with six crime reports, ~3.9 KB,
and a PersonEnquiry with two people, ~1.2 KB). "new" is a second answer to the same request
(its own message id and timestamp), re-serialised with other prefixes, namespace declarations
moved and indentation added, as a translator might write it. Pairs:

- identical:  the same answer re-serialised: `exact`, decided before any rule runs
- equal:      equal under the demo rules (message id and timestamp ignored)
- one value:  one text changed deep in the Body
- reordered:  the repeated records in reverse order; under the demo rules they are a keyed set
              (equal), and without rules the diff reports them `reordered`

The baseline canonicalises both documents, `etree.tostring(doc, method="c14n2",
strip_text=True)`, and compares the bytes. Both sides are timed twice: parse included (from
bytes, with the hardened parser) and parse excluded (from parsed trees). Figures are per pair,
best of `--repeat` runs of `--number` pairs; read the ratio, measured in the same run.
"""

from __future__ import annotations

import argparse
import timeit
from typing import Callable

from lxml import etree

from turnout.compare import Rules, diff, parse_rules
from turnout.demo.bus import SERVICES, answer
from turnout.demo.data import DemoStore
from turnout.soap import parse_xml

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
RULES = """
namespaces:
  pnc: urn:police:pnc:v1
  cris: urn:police:cris:v1
default:
  ignore:
    - //pnc:MessageHeader/pnc:messageId
    - //pnc:MessageHeader/pnc:timestamp
    - //cris:MessageHeader/cris:messageId
    - //cris:MessageHeader/cris:timestamp
"/cris SearchCrimeReports":
  unordered: [{path: //cris:crimeReport, key: cris:crimeReference}]
"/pnc PersonEnquiry":
  unordered: [{path: //pnc:person, key: pnc:pncId}]
"""
CREATE = (
    '<soap:Envelope xmlns:soap="{soap}" xmlns:c="urn:police:cris:v1"><soap:Body>'
    "<c:CreateCrimeReport><c:offenceCode>BURG</c:offenceCode><c:beatCode>TC01</c:beatCode>"
    "<c:reportingOfficer>PC1234</c:reportingOfficer><c:committedDate>20260101</c:committedDate>"
    "<c:committedTime>1200</c:committedTime><c:addressLine>1 High Street, Turnbridge"
    "</c:addressLine><c:postcode>TB1 1AA</c:postcode><c:summary>Shed broken into; bicycle and "
    "tools taken.</c:summary></c:CreateCrimeReport></soap:Body></soap:Envelope>"
)
SEARCH = (
    '<soap:Envelope xmlns:soap="{soap}" xmlns:c="urn:police:cris:v1"><soap:Body>'
    "<c:SearchCrimeReports><c:beatCode>TC01</c:beatCode></c:SearchCrimeReports>"
    "</soap:Body></soap:Envelope>"
)
PERSON = (
    '<soap:Envelope xmlns:soap="{soap}" xmlns:p="urn:police:pnc:v1"><soap:Body>'
    "<p:PersonEnquiry><p:surname>Ashgrove</p:surname></p:PersonEnquiry></soap:Body>"
    "</soap:Envelope>"
)


def bus_answer(store: DemoStore, service: int, request: str) -> bytes:
    reply = answer(SERVICES[service], store, request.format(soap=SOAP).encode(), {})
    assert reply.status == 200, reply.body
    return reply.body


def translated(envelope: bytes, namespace: str, edit: Callable[[etree._Element], None]) -> bytes:
    """`envelope` as another writer might put it: other prefixes, declarations on the
    elements that use them, indentation, no XML declaration; then `edit` applied."""
    root = parse_xml(envelope)
    edit(root)
    rename = {SOAP: "S", namespace: "ns2"}

    def copy(element: etree._Element, parent: etree._Element | None) -> etree._Element:
        qname = etree.QName(element)
        nsmap = {rename[qname.namespace]: qname.namespace} if qname.namespace else {}
        if parent is None:
            clone = etree.Element(element.tag, nsmap=nsmap)
        else:
            clone = etree.SubElement(parent, element.tag, nsmap=nsmap)
        clone.text = element.text
        for child in element:
            copy(child, clone)
        return clone

    clone = copy(root, None)
    etree.indent(clone, space="  ")
    return etree.tostring(clone, encoding="utf-8")


def change_last_summary(root: etree._Element) -> None:
    last = root.xpath("//*[local-name()='summary' or local-name()='postcode']")[-1]
    last.text = last.text + " (amended)"


def reverse_records(root: etree._Element) -> None:
    parent = root.xpath("//*[local-name()='SearchCrimeReportsResponse' or "
                        "local-name()='PersonEnquiryResponse']")[0]
    records = [c for c in parent if etree.QName(c).localname in ("crimeReport", "person")]
    for record in records:
        parent.remove(record)
    parent.extend(reversed(records))


def per_pair_us(function: Callable[[], object], number: int, repeat: int) -> float:
    return min(timeit.repeat(function, number=number, repeat=repeat)) / number * 1e6


def c14n_equal(a: etree._Element, b: etree._Element) -> bool:
    return etree.tostring(a, method="c14n2", strip_text=True) == etree.tostring(
        b, method="c14n2", strip_text=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--number", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    store = DemoStore()
    for _ in range(4):
        bus_answer(store, 1, CREATE)
    table = parse_rules(RULES, "bench rules")
    envelopes = [
        ("SearchCrimeReports", "/cris SearchCrimeReports", 1, SEARCH, "urn:police:cris:v1"),
        ("PersonEnquiry", "/pnc PersonEnquiry", 0, PERSON, "urn:police:pnc:v1"),
    ]
    print(f"per pair, best of {args.repeat} x {args.number}; baseline: lxml c14n2 of both + compare")
    header = (
        f"{'envelope / pair':54} {'bytes':>11} {'diff µs':>8} {'c14n2 µs':>9} {'ratio':>6}"
        f" {'diff µs':>8} {'c14n2 µs':>9} {'ratio':>6}  result"
    )
    print(f"{'':76}{'--- parse included ---':^25} {'--- parse excluded ---':^25}".rstrip())
    print(header)
    for title, key, service, request, namespace in envelopes:
        legacy = bus_answer(store, service, request)
        rules = table[key]
        pairs = [
            ("identical (exact)", translated(legacy, namespace, lambda r: None), rules),
            ("equal", translated(bus_answer(store, service, request), namespace, lambda r: None),
             rules),
            ("one value", translated(bus_answer(store, service, request), namespace,
                                     change_last_summary), rules),
            ("reordered, keyed set rule",
             translated(bus_answer(store, service, request), namespace, reverse_records), rules),
            ("reordered, no rules (ids count)",
             translated(bus_answer(store, service, request), namespace, reverse_records), Rules()),
        ]
        for name, new, pair_rules in pairs:
            legacy_tree, new_tree = parse_xml(legacy), parse_xml(new)
            result = diff(legacy, new, pair_rules)
            with_parse = per_pair_us(lambda: diff(legacy, new, pair_rules), args.number, args.repeat)
            base_parse = per_pair_us(
                lambda: c14n_equal(parse_xml(legacy), parse_xml(new)), args.number, args.repeat
            )
            no_parse = per_pair_us(
                lambda: diff(legacy_tree, new_tree, pair_rules), args.number, args.repeat
            )
            base_no_parse = per_pair_us(
                lambda: c14n_equal(legacy_tree, new_tree), args.number, args.repeat
            )
            kinds = sorted({d.kind for d in result.differences})
            outcome = "equal" if result.equal else f"{len(result.differences)} x {'/'.join(kinds)}"
            print(
                f"{title + ' / ' + name:54} {len(legacy):>5}/{len(new):<5} {with_parse:8.1f} "
                f"{base_parse:9.1f} {with_parse / base_parse:6.2f} {no_parse:8.1f} "
                f"{base_no_parse:9.1f} {no_parse / base_no_parse:6.2f}  {outcome}"
            )


if __name__ == "__main__":
    main()
