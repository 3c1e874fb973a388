from powersell.benchmarks.profile import OTHER, profile_body, summarize

RAW = "\n".join([
    "main (cli.py:1);RedactionStage.process (streams/redaction_stage.py:103);Redactor.redact (streams/redaction.py:317);"
    "redact_text (streams/detectors/__init__.py:114);ScanText._find_runs (streams/detectors/base.py:203) 30",
    "main (cli.py:1);RedactionStage.process (streams/redaction_stage.py:103);Redactor.redact (streams/redaction.py:317);"
    "_values (streams/redaction.py:259) 20",
    "main (cli.py:1);RedactionStage.process (streams/redaction_stage.py:103);"
    "SchemaRegistry.decode (pipeline_core/avro_codec.py:190) 25",
    "main (cli.py:1);BaseEventLoop._run_once (asyncio/base_events.py:1922) 25",
    "not a sample line",
])


def test_a_sample_counts_for_the_first_step_on_its_stack_and_the_rest_is_other():
    profile = summarize(RAW)
    assert profile.samples == 100
    assert profile.steps == {"free-text scan (PII detectors)": 30, "redaction walk (fields, pseudonyms, actions)": 20,
                             "Avro decode": 25, OTHER: 25}
    assert profile.own[0] == ("ScanText._find_runs (base.py:203)", 30)


def test_the_section_gives_shares_and_the_run():
    body = profile_body(summarize(RAW), 10_000, 740.4, 0.87)
    assert "| free-text scan (PII detectors) | 30.0% |" in body and "| `SchemaRegistry.decode (avro_codec.py:190)` | 25.0% |" in body
    assert "100 samples at 200 Hz while the worker drained 10,000 raw order events (740 events/s, 87% of one core)" in body
