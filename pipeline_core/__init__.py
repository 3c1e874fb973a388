"""Code shared by connectors and stream processors.

settings (configuration), avro_codec (single-object Avro), topics (the topic
catalog), kafka_io (clients), kafka_broker (the local broker), metrics and the
command line (cli).
"""
