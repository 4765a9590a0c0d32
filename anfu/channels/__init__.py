"""Channel adapters: parse(payload) -> list[Utterance]."""
