"""ai-gate's tooling, not its runtime: the benchmarks (`ai-gate bench`) and the
generators of the documents in docs/ (seed tables, the canary dry run). Nothing in
`ai_gate` imports this package, except the `bench` command, on demand."""
