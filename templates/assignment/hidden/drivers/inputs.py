"""The hidden inputs, made from the test's seed: the driver and the checker both call this,
so the checker never has to believe inputs read back from the student's outputs."""
import os
import random


def cases():
    rng = random.Random(int(os.environ["GRADER_SEED"]))
    return [[rng.randint(-50, 50) for _ in range(5 + i)] for i in range(4)]
