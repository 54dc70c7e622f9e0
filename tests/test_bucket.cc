// The course bucket (grader/course/bucket.h), one row per case.
#include <gtest/gtest.h>

#include "grader/course/bucket.h"

namespace {

struct Row {
  const char* what;
  std::vector<std::optional<double>> percents;
  double per_assignment;
  std::optional<double> total;
  double so_far;
};

TEST(Bucket, EveryCase) {
  const std::vector<Row> rows = {
      {"five full marks", {100.0, 100.0, 100.0, 100.0, 100.0}, 10, 50.0, 50.0},
      {"nothing graded yet", {}, 10, 0.0, 0.0},
      {"a missing submission counts 0", {100.0, 0.0, 100.0}, 10, 20.0, 20.0},
      {"partial percents", {83.0, 73.3333, 70.0, 82.0, 78.8889}, 10, 38.72, 38.72},
      {"rounded to hundredths", {33.3333, 33.3333, 33.3333}, 10, 10.0, 10.0},
      {"one ungradable: no total, the rest so far",
       {100.0, std::nullopt, 50.0},
       10,
       std::nullopt,
       15.0},
      {"another bucket size", {50.0, 50.0}, 12.5, 12.5, 12.5},
  };
  for (const Row& row : rows) {
    const grader::Bucket b = grader::bucket_of(row.percents, row.per_assignment);
    EXPECT_EQ(b.total.has_value(), row.total.has_value()) << row.what;
    if (b.total && row.total) {
      EXPECT_DOUBLE_EQ(*b.total, *row.total) << row.what;
    }
    EXPECT_DOUBLE_EQ(b.so_far, row.so_far) << row.what;
  }
}

}  // namespace
