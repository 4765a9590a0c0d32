"""Analysis components: one file per component, each registered under a versioned name."""
