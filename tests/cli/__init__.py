"""Tests of anfu.cli (package marker: keeps test module names unique across folders)."""
