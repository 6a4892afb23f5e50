//! Ledger and summary integration tests (filled in by the foundation work).
