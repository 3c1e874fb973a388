"""The parts of `powersell-pipeline run` (powersell/main_job.py wires them): the shop owners who act
during the run (owners), the proofs read back from the topics (proofs, evidence), the summary and
its JSON (report), and the progress lines (progress)."""
