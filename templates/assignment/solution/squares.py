# starter: solution-only
"""Reference solution."""
# starter: instead
# """Starter code: implement both functions."""
# starter: end


def square(x):
    # starter: solution-only
    return x * x
    # starter: instead
    # raise NotImplementedError
    # starter: end


def sum_of_squares(xs):
    # starter: solution-only
    return sum(square(x) for x in xs)
    # starter: instead
    # raise NotImplementedError
    # starter: end
