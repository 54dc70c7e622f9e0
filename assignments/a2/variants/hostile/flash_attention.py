"""Hostile submission: looks for hidden data, forges outputs and scores, then exits 0 at
import time. It must get its honest score, see expected.toml."""
import hostile_tricks

hostile_tricks.attack()
