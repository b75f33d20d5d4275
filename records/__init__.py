"""The hub: market entities keyed by the unified social credit code, the persons behind them, and
(later) the catalogue and the credit records. Every fact about an entity that matters for credit is
written only through ``records.services``. Guideline parts (4), (5) and (18)."""
