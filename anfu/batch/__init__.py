"""Batch analysis and inspection of archives (`anfu batch analyze|qa`): readers for JSONL, CSV,
Excel and transcript folders (`sources`), the per-chunk work shared by every back-end (`work`),
the local and Ray back-ends (`backends/`), the resumable runner (`runner`), the summary
(`summary`) and its Excel/PDF report (`report`)."""
