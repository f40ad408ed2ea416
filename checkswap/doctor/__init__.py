"""checkswap doctor: is the swap set up sanely, and is it hurting? Findings with evidence and fixes.

roles.py   the machine roles (``--role``), light enough for argument parsing
facts.py   the gathering: every file the doctor reads, read once, into a Facts
rules.py   the checks, pure functions from Facts to findings
report.py  ``diagnose(root)``: facts, verdict (model/verdict.py), findings, the JSON object

This package file imports nothing, so ``checkswap.doctor.roles`` stays cheap to import.
"""
