"""Export to the driftpartner: a signed bundle of one stored run, delivered over SFTP.

``contents`` says what goes in, ``bundle`` builds and verifies the single-file bundle,
``signing`` makes minisign-compatible Ed25519 signatures, ``sftp`` delivers, ``receipts`` keeps
a record of every delivery in the run store. docs/export.md describes the format.
"""
