"""Model back-ends: the char n-gram emotion model and optional encoders."""
