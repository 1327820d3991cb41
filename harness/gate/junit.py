"""The gate's JUnit XML report: one test case per check, a <failure> with the message for each failing one.

The common JUnit schema that CI systems read (GitLab, Jenkins, GitHub test-report actions): <testsuites> holding
one <testsuite name=POLICY> with tests/failures counts, and <testcase classname=MODEL name=CHECK>. Text comes from
the audit and the policy, so characters that XML 1.0 cannot carry are replaced before writing.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.dom import minidom

from harness.gate.evaluate import GateResult

_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: object) -> str:
    return _NOT_XML.sub("\ufffd", str(text))


def junit_xml(result: GateResult) -> str:
    doc = minidom.Document()
    suites = doc.createElement("testsuites")
    doc.appendChild(suites)
    suite = doc.createElement("testsuite")
    suites.appendChild(suite)
    failures = result.n_failed
    for el in (suites, suite):
        el.setAttribute("name", _clean(f"rm-harness gate {result.policy.name}"))
        el.setAttribute("tests", str(len(result.checks)))
        el.setAttribute("failures", str(failures))
        el.setAttribute("errors", "0")
    props = doc.createElement("properties")
    suite.appendChild(props)
    for name, value in (("model", result.audit.display_id), ("revision", result.audit.revision),
                        ("policy", result.policy.name), ("scorer", result.audit.kind)):
        p = doc.createElement("property")
        p.setAttribute("name", name)
        p.setAttribute("value", _clean(value))
        props.appendChild(p)
    for c in result.checks:
        case = doc.createElement("testcase")
        case.setAttribute("classname", _clean(f"{result.policy.name}.{result.audit.display_id}"))
        case.setAttribute("name", _clean(c.check.name))
        lines = [f"{r.metric} ({r.prompt}) = {r.value_text()}: {r.outcome()}, {r.reason}" for r in c.rows]
        if not c.passed:
            fail = doc.createElement("failure")
            fail.setAttribute("message", _clean(c.failure_message()[:2000]))
            fail.setAttribute("type", "GateFailure")
            fail.appendChild(doc.createTextNode(_clean("\n".join(lines))))
            case.appendChild(fail)
        else:
            out = doc.createElement("system-out")
            out.appendChild(doc.createTextNode(_clean("\n".join(lines))))
            case.appendChild(out)
        suite.appendChild(case)
    return doc.toprettyxml(indent="  ", encoding="utf-8").decode("utf-8")


def write_junit(result: GateResult, path: str | Path) -> Path:
    from harness.io.atomic import atomic_write_text

    return atomic_write_text(path, junit_xml(result))
