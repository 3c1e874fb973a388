"""The top layer: the command line, the main job and the benchmarks, composed from connectors/ and streams/."""
