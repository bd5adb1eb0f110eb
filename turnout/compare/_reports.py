"""Parity reports in three forms: JSON for machines, JUnit XML for CI, HTML for people.

Each is built from a `ParityReport` alone and holds nothing else: the values in differences are
the recordings' (already redacted) and the new answers' (redacted the same way), never more. No
clock is read, so the same recordings give the same files, which a git diff can then review.
The HTML is one self-contained file: inline CSS, no scripts, nothing fetched, everything escaped.
"""

from __future__ import annotations

import json
import os
import re
from html import escape
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from ._parity import NotCompared, OperationParity, ParityReport, Sample

FORMAT_VERSION = 1
JSON_NAME = "parity.json"
JUNIT_NAME = "parity.junit.xml"
HTML_NAME = "parity.html"

#: at most this many differing samples per operation in the HTML (all are in the JSON)
HTML_SAMPLES_PER_OPERATION = 100

# characters XML 1.0 cannot hold, even escaped
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def parity_text(parity: float | None) -> str:
    """`100%`, `96.5%`, or `-` without samples; never rounds a shortfall up to 100%."""
    if parity is None:
        return "-"
    if parity < 100 and round(parity, 1) >= 100:
        return "99.9%"
    return f"{parity:.1f}".rstrip("0").rstrip(".") + "%"


# -- JSON


def report_data(report: ParityReport, min_parity: float) -> dict[str, Any]:
    """The whole report as plain data (what `parity.json` holds)."""
    failing = report.failing(min_parity)
    return {
        "turnout_parity": FORMAT_VERSION,
        "directory": report.directory,
        "mode": report.mode,
        "target": report.target,
        "translators": report.translators,
        "rules": report.rules,
        "min_parity": min_parity,
        "passed": not failing,
        "totals": {
            "recordings": report.recordings,
            "not_answered_by_legacy": report.not_legacy,
            "samples": len(report.samples),
            "matching": sum(1 for sample in report.samples if sample.matches),
            "not_compared": len(report.not_compared),
            "failing_operations": [operation.operation for operation in failing],
        },
        "operations": [_operation_data(operation, min_parity) for operation in report.operations],
        "samples": [_sample_data(sample) for sample in report.samples],
        "not_compared": [_not_compared_data(item) for item in report.not_compared],
    }


def report_json(report: ParityReport, min_parity: float) -> str:
    return json.dumps(report_data(report, min_parity), indent=2, ensure_ascii=False) + "\n"


def _operation_data(operation: OperationParity, min_parity: float) -> dict[str, Any]:
    return {
        "operation": operation.operation,
        "samples": len(operation.samples),
        "identical": operation.identical,
        "equal_under_rules": operation.equal,
        "different": operation.different,
        "errors": operation.errors,
        "not_compared": len(operation.not_compared),
        "parity": operation.parity,
        "passed": operation.passes(min_parity),
        "differing_paths": [{"path": path, "samples": count}
                            for path, count in operation.differing_paths()],
    }


def _sample_data(sample: Sample) -> dict[str, Any]:
    return {
        "id": sample.id,
        "operation": sample.operation,
        "result": sample.result,
        "legacy_status": sample.legacy_status,
        "new_status": sample.new_status,
        "via": sample.via,
        "error": sample.error,
        "differences": [
            {"kind": d.kind, "path": d.path, "legacy": d.legacy, "new": d.new}
            for d in sample.differences
        ],
        "namespaces": dict(sample.namespaces),
    }


def _not_compared_data(item: NotCompared) -> dict[str, Any]:
    return {"id": item.id, "operation": item.operation, "reason": item.reason}


# -- JUnit XML


def report_junit(report: ParityReport, min_parity: float) -> bytes:
    """One testsuite per operation, one testcase per recording the legacy bus answered.

    A differing sample is a `failure` whose text lists its differences (kind, path, legacy,
    new); one with no new answer is an `error`; one that could not be compared is `skipped`
    with the reason. Each suite carries its parity as a property.
    """
    samples = report.samples
    root = ET.Element("testsuites", {
        "name": "turnout parity",
        "tests": str(len(samples) + len(report.not_compared)),
        "failures": str(sum(1 for s in samples if not s.matches and s.error is None)),
        "errors": str(sum(1 for s in samples if s.error is not None)),
        "skipped": str(len(report.not_compared)),
    })
    for operation in report.operations:
        suite = ET.SubElement(root, "testsuite", {
            "name": _xml_text(operation.operation),
            "tests": str(len(operation.samples) + len(operation.not_compared)),
            "failures": str(operation.different - operation.errors),
            "errors": str(operation.errors),
            "skipped": str(len(operation.not_compared)),
        })
        properties = ET.SubElement(suite, "properties")
        for name, value in (
            ("parity", parity_text(operation.parity)),
            ("min_parity", parity_text(min_parity)),
            ("passed", str(operation.passes(min_parity)).lower()),
        ):
            ET.SubElement(properties, "property", {"name": name, "value": value})
        for sample in operation.samples:
            case = _case(suite, operation.operation, sample.id)
            if sample.error is not None:
                ET.SubElement(case, "error", {"message": _xml_text(sample.error), "type": "error"})
            elif not sample.matches:
                failure = ET.SubElement(case, "failure", {
                    "message": _xml_text(_failure_message(sample)), "type": "different",
                })
                failure.text = _xml_text(readable_differences(sample))
        for item in operation.not_compared:
            case = _case(suite, operation.operation, item.id)
            ET.SubElement(case, "skipped", {"message": _xml_text(item.reason)})
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body + b"\n"


def _case(suite: ET.Element, operation: str, exchange_id: str) -> ET.Element:
    return ET.SubElement(suite, "testcase", {
        "classname": _xml_text(operation), "name": _xml_text(exchange_id), "time": "0",
    })


def _failure_message(sample: Sample) -> str:
    count = len(sample.differences)
    first = sample.differences[0]
    more = f" (and {count - 1} more)" if count > 1 else ""
    return f"{count} difference{'s' if count != 1 else ''}: {first.kind} {first.path}{more}"


def readable_differences(sample: Sample) -> str:
    """`changed /soap:Envelope/.../pnc:surname: 'ASHGROVE' -> 'ASHGROVES'`, one per line."""
    lines = []
    for d in sample.differences:
        lines.append(f"{d.kind} {d.path}: {_shown(d.legacy)} -> {_shown(d.new)}")
    if sample.namespaces:
        lines.append("namespaces: " + ", ".join(f"{p}={uri}" for p, uri in sorted(sample.namespaces.items())))
    return "\n".join(lines)


def _shown(value: str | None) -> str:
    return "(none)" if value is None else repr(value)


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


# -- HTML


_CSS = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem;
       color: #1d2330; background: #fff; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #d5d9e0; }
h3 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: .15rem 1rem; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #d5d9e0; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f1f3f6; }
td.op { white-space: nowrap; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.fail td.parity, .verdict.fail { color: #a11; font-weight: 700; }
tr.pass td.parity, .verdict.pass { color: #176b2c; font-weight: 700; }
code, td.path, td.value { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace;
                          font-size: 12.5px; word-break: break-all; }
td.value { white-space: pre-wrap; }
ul.paths { margin: 0; padding-left: 1.1rem; }
.muted { color: #667; }
"""


def report_html(report: ParityReport, min_parity: float) -> str:
    """A page a person can open: the parity table, then each differing sample's differences."""
    failing = report.failing(min_parity)
    verdict = (
        '<span class="verdict pass">pass</span>' if not failing else
        f'<span class="verdict fail">fail</span>: {len(failing)} operation'
        f'{"s" if len(failing) != 1 else ""} below {escape(parity_text(min_parity))}'
    )
    source = (f"live, target {_e(report.target)}" if report.mode == "live"
              else f"offline, translators {_e(report.translators or '-')}")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # belt and braces: even a mistake in this file cannot make the page fetch or run anything
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Turnout parity report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Turnout parity report</h1>",
        '<dl class="meta">',
        f"<dt>recordings</dt><dd><code>{_e(report.directory)}</code></dd>",
        f"<dt>new answers</dt><dd>{source}</dd>",
        f"<dt>compare rules</dt><dd>{_e(report.rules or 'none')}</dd>",
        f"<dt>samples</dt><dd>{len(report.samples)} compared, {len(report.not_compared)} not "
        f"compared, of {report.recordings} recordings</dd>",
        f"<dt>minimum parity</dt><dd>{escape(parity_text(min_parity))}</dd>",
        f"<dt>verdict</dt><dd>{verdict}</dd>",
        "</dl>",
        "<h2>Parity per operation</h2>",
        _parity_table(report, min_parity),
        '<p class="muted">Parity = (identical + equal under rules) / samples. Equal under rules: '
        "the answers differ only where the compare rules say it does not count.</p>",
    ]
    parts.extend(_differing_samples(report))
    parts.extend(_not_compared_section(report))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _parity_table(report: ParityReport, min_parity: float) -> str:
    head = ("operation", "samples", "identical", "equal under rules", "different",
            "not compared", "parity", "top differing paths")
    rows = ['<table class="parity" id="parity">',
            "<thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"]
    for operation in report.operations:
        state = "pass" if operation.passes(min_parity) else "fail"
        paths = operation.differing_paths()[:5]
        listed = ('<ul class="paths">' + "".join(
            f"<li><code>{_e(path)}</code> ×{count}</li>" for path, count in paths) + "</ul>"
            if paths else "")
        rows.append(
            f'<tr class="{state}"><td class="op"><code>{_e(operation.operation)}</code></td>'
            f'<td class="n">{len(operation.samples)}</td><td class="n">{operation.identical}</td>'
            f'<td class="n">{operation.equal}</td><td class="n">{operation.different}</td>'
            f'<td class="n">{len(operation.not_compared)}</td>'
            f'<td class="n parity">{escape(parity_text(operation.parity))}</td><td>{listed}</td></tr>'
        )
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _differing_samples(report: ParityReport) -> list[str]:
    differing = [s for s in report.samples if not s.matches]
    parts = [f"<h2>Differing samples ({len(differing)})</h2>"]
    if not differing:
        parts.append('<p class="muted">None.</p>')
        return parts
    for operation in report.operations:
        shown = [s for s in operation.samples if not s.matches]
        for sample in shown[:HTML_SAMPLES_PER_OPERATION]:
            parts.append(_sample_html(sample))
        if len(shown) > HTML_SAMPLES_PER_OPERATION:
            parts.append(f'<p class="muted">{len(shown) - HTML_SAMPLES_PER_OPERATION} more '
                         f"differing samples of <code>{_e(operation.operation)}</code> are in "
                         f"{JSON_NAME}.</p>")
    return parts


_VIA = {
    "to_reply": "the translator's response half on the recorded reply",
    "recorded": "the translator, without a call, as recorded",
    "to_call": "the translator's request half",
    "target": "the target",
}


def _sample_html(sample: Sample) -> str:
    new_status = sample.new_status if sample.new_status is not None else "-"
    status = f"HTTP {sample.legacy_status} legacy, {new_status} new"
    if sample.via:
        status += f"; new answer by {_VIA.get(sample.via, sample.via)}"
    rows = [
        f'<section class="sample" id="sample-{_e(sample.id)}">',
        f"<h3><code>{_e(sample.operation)}</code> <code>{_e(sample.id)}</code></h3>",
        f'<p class="muted">{escape(status)}</p>',
        '<table class="differences"><thead><tr><th>kind</th><th>path</th><th>legacy</th>'
        "<th>new</th></tr></thead><tbody>",
    ]
    for d in sample.differences:
        rows.append(
            f"<tr><td>{_e(d.kind)}</td><td class=\"path\">{_e(d.path)}</td>"
            f'<td class="value">{_value(d.legacy)}</td><td class="value">{_value(d.new)}</td></tr>'
        )
    rows.append("</tbody></table>")
    if sample.namespaces:
        rows.append('<p class="muted">namespaces: ' + ", ".join(
            f"<code>{_e(p)}</code> = <code>{_e(uri)}</code>"
            for p, uri in sorted(sample.namespaces.items())) + "</p>")
    rows.append("</section>")
    return "\n".join(rows)


def _not_compared_section(report: ParityReport) -> list[str]:
    items = report.not_compared
    if not items:
        return []
    parts = [f"<h2>Not compared ({len(items)})</h2>",
             '<table class="not-compared"><thead><tr><th>operation</th><th>exchange</th>'
             "<th>why</th></tr></thead><tbody>"]
    parts.extend(
        f"<tr><td><code>{_e(i.operation)}</code></td><td><code>{_e(i.id)}</code></td>"
        f"<td>{_e(i.reason)}</td></tr>" for i in items
    )
    parts.append("</tbody></table>")
    return parts


def _e(text: str | None) -> str:
    return escape(_xml_text(text or ""), quote=True)


def _value(text: str | None) -> str:
    return '<span class="muted">(none)</span>' if text is None else _e(text)


# -- files


def write_reports(report: ParityReport, directory: Path, min_parity: float) -> list[Path]:
    """Write `parity.json`, `parity.junit.xml` and `parity.html` into `directory`.

    The files are readable by their owner only, like recordings: values in differences may be
    personal data. Raises OSError when the directory cannot be made or a file written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in (
        (JSON_NAME, report_json(report, min_parity).encode("utf-8")),
        (JUNIT_NAME, report_junit(report, min_parity)),
        (HTML_NAME, report_html(report, min_parity).encode("utf-8")),
    ):
        path = directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        written.append(path)
    return written
