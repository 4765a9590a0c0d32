"""Chinese text utilities shared by components: normalisation, cues, phrase matching."""
