// The one definition of a folder's hash, for a submission (intake's hash_tree, over what it
// staged) and for an assignment (assignment_hash): "sha256:" + the SHA-256 of the sorted
// lines "relative path NUL hex SHA-256 of the content NL". It depends on neither listing
// order nor timestamps. Each caller walks its folder its own way (intake by descriptors,
// refusing links; an assignment, the TA's own folder, with std::filesystem).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct evp_md_ctx_st;

namespace grader {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::string hex();  // ends the hash

 private:
  std::unique_ptr<evp_md_ctx_st, void (*)(evp_md_ctx_st*)> ctx_;
};

// (relative path, hex SHA-256 of its content) for every file, in any order.
std::string tree_hash(std::vector<std::pair<std::string, std::string>> files);

}  // namespace grader
