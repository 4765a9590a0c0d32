"""Tests of anfu.qa (package marker: keeps test module names unique across folders)."""
