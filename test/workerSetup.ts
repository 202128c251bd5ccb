// Worker-level setup: nothing global yet; per-test state comes from factories in test/.
