// Atomic file writes for every report: a temp file in the same folder, fsync, rename, so a
// reader (or a crash) never sees half a file.
#pragma once

#include <filesystem>
#include <string_view>

namespace reports {

// Writes `content` to `path` atomically; creates the parent folder. Throws
// std::runtime_error naming the file on failure.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);

}  // namespace reports
