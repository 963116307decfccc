"""The fuzzer: proves that any server of the release-policies API keeps the contract.

Three sources of findings report the same :class:`~validator.fuzz.violation.Violation`:
the contract probes (``probes``), the model-based oracle (``oracle``, predicting
every answer with ``validator.state``) and Schemathesis' phases (``phases``).
``run.fuzz`` runs them; ``reports`` writes reproductions; ``pytest_plugin``
offers the same checks as tests. ARCHITECTURE.md has the map.
"""
