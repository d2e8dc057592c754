"""`python -m bench`: the hotline's benchmark on the real local stack, with its baselines.

One run starts one Kafka broker, measures every number next to a baseline measured in the same
run (the machine is shared and noisy, so only ratios travel), writes the raw results to
`bench/results/<label>-<mode>.json` and regenerates `docs/benchmarks.md` from them.
"""
