"""The fuzzer (in progress): checks that any server keeps the contract.

So far: the contract probes Schemathesis does not make (``probes``), run over a
recording client (``target``). Schemathesis' phases, the model-based oracle,
reports, the ``fuzz`` command and the pytest plugin are still to come.
"""
