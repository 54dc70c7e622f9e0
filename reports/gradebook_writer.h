// Gradebook files from the gradebook JSON (grader/course/gradebook.h): a CSV for people and
// Canvas's gradebook import CSV (Student, ID, SIS User ID, SIS Login ID, Section, then one
// column per assignment).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace reports {

std::string gradebook_csv(const nlohmann::json& gradebook);
std::string canvas_csv(const nlohmann::json& gradebook);

// Writes FILE (the CSV), FILE's stem + ".canvas.csv" and + ".json", each atomically.
// Returns the Canvas file's path.
std::filesystem::path write_gradebook(const std::filesystem::path& file,
                                      const nlohmann::json& gradebook);

}  // namespace reports
