"""The compliance suites: the checks the audit runs (installed as ``driftvakt_checks``).

See README.md beside this file. Modules import each other relatively, so the same files work
as ``tests`` (plain ``pytest tests/`` in a checkout) and as the installed ``driftvakt_checks``.
"""
