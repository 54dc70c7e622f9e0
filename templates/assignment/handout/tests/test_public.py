"""Public tests: run them with `python3 -m pytest tests` or `grader check @ID@ .`."""
import squares


def test_square_positive():
    assert squares.square(3) == 9


def test_square_negative():
    assert squares.square(-4) == 16


def test_sum_of_squares():
    assert squares.sum_of_squares([1, 2, 3]) == 14
