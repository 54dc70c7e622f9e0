#include "grader/course/csv.h"

#include <fmt/format.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "grader/engine/errors.h"

namespace fs = std::filesystem;

namespace grader {

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::vector<std::vector<std::string>> read_csv(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot read", path.string()));
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // spreadsheet BOM

  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false, any = false;
  int line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        if (c == '\n') ++line;
        cell += c;
      }
      continue;
    }
    if (c == '"' && cell.empty()) {
      quoted = any = true;
    } else if (c == ',') {
      row.push_back(cell);
      cell.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      row.push_back(cell);
      cell.clear();
      if (!(row.size() == 1 && row[0].empty() && !any)) rows.push_back(row);
      row.clear();
      any = false;
      ++line;
    } else {
      cell += c;
      any = true;
    }
  }
  if (quoted)
    throw InputError(fmt::format("{}:{}: unterminated quoted field", path.string(), line));
  if (any || !cell.empty()) {
    row.push_back(cell);
    rows.push_back(row);
  }
  for (auto& r : rows) {
    for (auto& c : r) {
      while (!c.empty() && (c.back() == ' ' || c.back() == '\t')) c.pop_back();
      while (!c.empty() && (c.front() == ' ' || c.front() == '\t')) c.erase(0, 1);
    }
  }
  return rows;
}

}  // namespace grader
