"""Results as people and tools read them: text, JSON, JUnit, SARIF, ITF. Formatting only: nothing here decides."""
