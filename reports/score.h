// score.json (the record of one grading) and the formats derived from it: Gradescope's
// results.json and JUnit XML. All writers are atomic (reports/atomic.h).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "reports/record.h"

namespace reports {

// Untrusted program output made safe for JSON and XML: invalid UTF-8 becomes U+FFFD,
// control characters other than newline and tab become U+FFFD, "\r\n" becomes "\n".
std::string printable_text(std::string_view bytes);

// score.json, pretty-printed.
void write_score_json(const std::filesystem::path& path, const nlohmann::json& score);

// Gradescope's results.json object for a score.json object. Visibility maps public ->
// visible, hidden -> hidden, after_due_date -> after_due_date. An ungradable score gives
// no score, no tests and an output that says why, plus extra_data.status = "ungradable",
// so the Gradescope entry point can fail the run instead of recording a zero.
// Gradescope's results.json (gradescope/autograder_samples docs/specs.md). Visibility per
// test: public -> "visible", after_due_date -> "after_due_date", hidden -> `hidden_as`
// ("after_published", the default, or "after_due_date"). Gradescope's own "hidden" is meant
// for tests without points: students would see a total that includes them right after
// submitting (and could probe hidden tests by resubmitting); so "hidden" is used only for a
// hidden test worth 0 points. While any test with points is not yet visible, Gradescope shows
// students no total.
nlohmann::json gradescope_results(const Score& score,
                                  const std::string& hidden_as = "after_published");
void write_gradescope_results(const std::filesystem::path& path, const Score& score,
                              const std::string& hidden_as = "after_published");

// JUnit XML: one <testsuite> per submission, one <testcase> per test; <failure> for failed
// or partial tests, <error> for errors, <skipped> for tests not run.
std::string junit_xml(const Score& score);
void write_junit(const std::filesystem::path& path, const Score& score);

// The same from a score.json object, read by the strict reader (score_from_json): a score
// that is not one throws std::invalid_argument naming the key.
nlohmann::json gradescope_results(const nlohmann::json& score,
                                  const std::string& hidden_as = "after_published");
void write_gradescope_results(const std::filesystem::path& path, const nlohmann::json& score,
                              const std::string& hidden_as = "after_published");
std::string junit_xml(const nlohmann::json& score);
void write_junit(const std::filesystem::path& path, const nlohmann::json& score);

}  // namespace reports
