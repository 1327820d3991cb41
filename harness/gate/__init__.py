"""The release gate: a declarative policy (policy_spec) judged against one audit's stored numbers (evaluate), with
a JUnit report for CI systems (junit). It reads audits only through harness.results.audit and never loads a model."""
