// CSV files course staff give the grader (rosters, extensions, Canvas exports): one reader for
// the gradebook and the batch.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace grader {

// A small RFC 4180 reader (quotes, doubled quotes, CRLF, a spreadsheet's BOM); throws
// InputError naming the file.
std::vector<std::vector<std::string>> read_csv(const std::filesystem::path& path);
// ASCII lower case, for matching a header's column names.
std::string lower(std::string text);

}  // namespace grader
