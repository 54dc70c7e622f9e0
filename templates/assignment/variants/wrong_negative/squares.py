"""Planted bug: squares of negative numbers come out negative."""


def square(x):
    return x * abs(x)


def sum_of_squares(xs):
    return sum(square(x) for x in xs)
