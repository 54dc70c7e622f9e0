"""Reference solution."""


def square(x):
    return x * x


def sum_of_squares(xs):
    return sum(square(x) for x in xs)
