"""Training-data compliance audit (训练数据合法, issue 17): TC260-003 §5/§9.2 and draft GB 45652
turned into figures a provider can show, with the requirement ids of
``../shared/research/regulations.md``.

A map of the package, in the order a corpus goes through it:

- ``manifest``  the YAML a person writes: sources (kind, language, modality, licence/contract/
  consent/collection log/generator, file globs, text field) and per-sample metadata fields.
- ``readers``   one streaming loader per format (JSONL, CSV, Parquet, plain text): a sample at a
  time with its source, file and line, so memory does not grow with the corpus.
- ``provenance`` pure rules: what each kind of source and each sample must carry
  (CN-TC-03..08, CN-TD-02..05, CN-TC-31); ``audit`` runs them over the files (`corpus check`).
- ``select``    which samples a seeded fraction takes: a hash of (seed, source, file, line), so
  the choice does not depend on the engine, the number of workers or the batch size.
- ``scan``      the content checks (``fenghuo.checks`` pipeline) over the selected samples,
  in-process with all local cores or on Ray (``engines``); per-sample Parquet, per-source
  figures with Wilson intervals, ``do-not-use`` above 5 % (CN-TC-01/02, CN-TC-27), PII joined
  against consent records (CN-TC-07/08).
- ``manual``    the manual sample (≥ 4,000, ≥ 96 %, CN-TC-26) and its reviews with annotator ≠
  reviewer (CN-TC-11).
- ``clauses`` / ``report``  a verdict per clause and the public corpus summary (CN-TC-09),
  as JSON, Markdown and DOCX; the evaluation self-assessment reads ``clauses`` for §5.
- ``runs``      every run on disk and in the ledger (manifest hash, data file hashes, settings,
  results hash), so an auditor can re-run it and get the same numbers.

Layer: above ``checks`` and ``ledger`` (it uses both), below everything else — nothing in the
control plane is needed, which keeps what a Ray worker imports small, and ``evaluation`` (above)
reads the results for its self-assessment.
"""
