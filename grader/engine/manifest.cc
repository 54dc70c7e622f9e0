// Manifest parsing and validation (toml++). Every value is checked here, once, so that an
// instructor's typo is reported as "FILE:LINE: KEY: problem" before any student runs.
#include "grader/engine/manifest.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <regex>
#include <set>

#include "sandbox/policy.h"

namespace grader {
namespace fs = std::filesystem;

namespace {

const std::regex kIdPattern("[a-z0-9_-]+");
const std::regex kTestIdPattern("[A-Za-z0-9_.-]+");

// Reads one manifest file, remembering where it came from for the error messages.
class Reader {
 public:
  explicit Reader(fs::path file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const toml::node* node, const std::string& key,
                         const std::string& problem) const {
    int line = node ? static_cast<int>(node->source().begin.line) : 0;
    if (line > 0)
      throw ManifestError(fmt::format("{}:{}: {}: {}", file_.string(), line, key, problem));
    throw ManifestError(fmt::format("{}: {}: {}", file_.string(), key, problem));
  }

  // Rejects keys the spec does not know (typos would otherwise be silently ignored).
  void only_keys(const toml::table& table, const std::string& prefix,
                 const std::set<std::string>& known) const {
    for (auto&& [key, value] : table) {
      if (!known.count(std::string(key.str()))) {
        fail(&value, prefix + std::string(key.str()), "unknown key");
      }
    }
  }

  std::optional<std::string> opt_string(const toml::table& t, const std::string& key,
                                        const std::string& name) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) fail(n, name, "must be a string");
    return n->value<std::string>();
  }

  std::string string(const toml::table& t, const std::string& key, const std::string& name,
                     const toml::node* parent) const {
    auto v = opt_string(t, key, name);
    if (!v) fail(parent, name, "missing (required)");
    return *v;
  }

  // One of the words of reports/fields.h (kind, visibility, scoring, measure, trust).
  template <typename E>
  std::optional<E> opt_word(const toml::table& t, const std::string& key,
                            const std::string& name) const {
    const std::optional<std::string> text = opt_string(t, key, name);
    if (!text) return std::nullopt;
    const std::optional<E> value = reports::parse<E>(*text);
    if (!value) fail(t.get(key), name, "must be " + reports::names_listed<E>());
    return value;
  }

  std::optional<double> opt_number(const toml::table& t, const std::string& key,
                                   const std::string& name, double min_value) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_number()) fail(n, name, "must be a number");
    double v = *n->value<double>();
    if (!std::isfinite(v) || v < min_value)
      fail(n, name, fmt::format("must be a number >= {}", min_value));
    return v;
  }

  std::optional<bool> opt_bool(const toml::table& t, const std::string& key,
                               const std::string& name) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) fail(n, name, "must be true or false");
    return n->value<bool>();
  }

  std::optional<int64_t> opt_integer(const toml::table& t, const std::string& key,
                                     const std::string& name, int64_t min_value) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) fail(n, name, "must be an integer");
    int64_t v = *n->value<int64_t>();
    if (v < min_value) fail(n, name, fmt::format("must be an integer >= {}", min_value));
    return v;
  }

  std::optional<uint64_t> opt_size(const toml::table& t, const std::string& key,
                                   const std::string& name) const {
    const toml::node* n = t.get(key);
    if (!n) return std::nullopt;
    if (n->is_integer()) {
      int64_t v = *n->value<int64_t>();
      if (v < 0) fail(n, name, "must not be negative");
      return static_cast<uint64_t>(v);
    }
    if (n->is_string()) {
      if (auto v = parse_size(*n->value<std::string>())) return v;
    }
    fail(n, name, "must be a size: a number of bytes or a string such as \"512K\", \"2M\", \"1G\"");
  }

  std::vector<std::string> strings(const toml::table& t, const std::string& key,
                                   const std::string& name) const {
    std::vector<std::string> out;
    const toml::node* n = t.get(key);
    if (!n) return out;
    const toml::array* a = n->as_array();
    if (!a) fail(n, name, "must be an array of strings");
    for (const toml::node& item : *a) {
      if (!item.is_string()) fail(&item, name, "must be an array of strings");
      out.push_back(*item.value<std::string>());
    }
    return out;
  }

  const toml::table* opt_table(const toml::table& t, const std::string& key,
                               const std::string& name) const {
    const toml::node* n = t.get(key);
    if (!n) return nullptr;
    if (!n->is_table()) fail(n, name, "must be a table");
    return n->as_table();
  }

  // A path relative to the assignment folder that stays inside it and exists.
  std::string relative_path(const fs::path& dir, const std::string& value, const toml::node* node,
                            const std::string& name, bool want_dir) const {
    fs::path p(value);
    if (value.empty() || p.is_absolute())
      fail(node, name, "must be a relative path inside the assignment folder");
    for (const auto& part : p) {
      if (part == "..") fail(node, name, fmt::format("'{}' leaves the assignment folder", value));
    }
    std::error_code ec;
    auto status = fs::symlink_status(dir / p, ec);
    if (ec || !fs::exists(status))
      fail(node, name, fmt::format("'{}' does not exist in {}", value, dir.string()));
    if (want_dir && !fs::is_directory(status))
      fail(node, name, fmt::format("'{}' is not a folder", value));
    if (!want_dir && !fs::is_regular_file(status))
      fail(node, name, fmt::format("'{}' is not a regular file", value));
    return p.lexically_normal().string();
  }

  std::vector<std::string> relative_files(const fs::path& dir, const toml::table& t,
                                          const std::string& key, const std::string& name) const {
    std::vector<std::string> out;
    const toml::node* n = t.get(key);
    for (const std::string& v : strings(t, key, name))
      out.push_back(relative_path(dir, v, n, name, false));
    return out;
  }

  // Files or folders (every regular file under a folder, no links) copied beside the test's
  // files but never handed to pytest: the data a ported test suite reads.
  std::vector<std::string> data_files(const fs::path& dir, const toml::table& t,
                                      const std::string& key, const std::string& name) const {
    std::vector<std::string> out;
    const toml::node* n = t.get(key);
    for (const std::string& v : strings(t, key, name)) {
      const fs::path p(v);
      std::error_code ec;
      if (!v.empty() && !p.is_absolute() && fs::is_directory(fs::symlink_status(dir / p, ec))) {
        relative_path(dir, v, n, name, true);
        for (auto it = fs::recursive_directory_iterator(dir / p, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
          const auto status = it->symlink_status();
          if (fs::is_symlink(status))
            fail(n, name,
                 fmt::format("'{}' is a link (data must be plain files)",
                             fs::relative(it->path(), dir).string()));
          if (fs::is_regular_file(status))
            out.push_back(fs::relative(it->path(), dir).lexically_normal().string());
        }
      } else {
        out.push_back(relative_path(dir, v, n, name, false));
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  Limits limits(const toml::table* t, const std::string& name) const {
    Limits l;
    if (!t) return l;
    only_keys(*t, name + ".",
              {"cpu_time", "wall_time", "memory", "pids", "output", "file_size", "open_files",
               "network", "disk", "inodes"});
    l.cpu_time = opt_number(*t, "cpu_time", name + ".cpu_time", 0.001);
    l.wall_time = opt_number(*t, "wall_time", name + ".wall_time", 0.001);
    l.memory = opt_size(*t, "memory", name + ".memory");
    l.output = opt_size(*t, "output", name + ".output");
    l.file_size = opt_size(*t, "file_size", name + ".file_size");
    l.pids = opt_integer(*t, "pids", name + ".pids", 1);
    l.open_files = opt_integer(*t, "open_files", name + ".open_files", 8);
    l.disk = opt_size(*t, "disk", name + ".disk");
    l.inodes = opt_integer(*t, "inodes", name + ".inodes", 1);
    l.network = opt_string(*t, "network", name + ".network");
    if (l.network && *l.network != "none" && *l.network != "loopback") {
      fail(t->get("network"), name + ".network", "must be \"none\" or \"loopback\"");
    }
    return l;
  }

 private:
  fs::path file_;
};

// Why a test of `kind` cannot claim `level`; "" when it can. Levels only go down from the
// kind's default: nothing in the manifest makes a run beside student code trusted.
std::string trust_refusal(TestKind kind, Trust level) {
  if (level == Trust::SelfReported) return "";
  if (kind == TestKind::Pytest)
    return "a pytest test runs in the student's box, where the student's code can rewrite its "
           "report (exit handlers, a shadowing pytest.py or conftest.py), so it can never be more "
           "than self_reported";
  if (kind == TestKind::ProduceCheck) return "";  // outputs (default) or measured (/measured)
  if (level == Trust::Outputs)
    return fmt::format(
        "a {} test scores what the sandbox measured, so it is measured or "
        "self_reported, never outputs",
        reports::name(kind));
  return "";
}

// `trust` and `student_can_forge`: a hidden or after_due_date test whose points the student
// can forge must say so, or nobody would see that its points are not earned.
void parse_trust(const Reader& r, const toml::table& t, const std::string& name, TestSpec& spec) {
  spec.trust = default_trust(spec.kind);
  if (auto level = r.opt_word<Trust>(t, "trust", name + ".trust")) {
    std::string why = trust_refusal(spec.kind, *level);
    if (!why.empty())
      r.fail(t.get("trust"), name + ".trust",
             fmt::format("cannot be {}: {}", reports::name(*level), why));
    spec.trust = *level;
  }
  spec.student_can_forge =
      r.opt_bool(t, "student_can_forge", name + ".student_can_forge").value_or(false);
  if (spec.student_can_forge && spec.trust != Trust::SelfReported)
    r.fail(t.get("student_can_forge"), name + ".student_can_forge",
           fmt::format("only a self_reported test needs it (this one is {}); remove it",
                       reports::name(*spec.trust)));
  if (spec.trust == Trust::SelfReported && spec.visibility != Visibility::Public &&
      !spec.student_can_forge) {
    const toml::node* at = t.get("trust") ? t.get("trust") : t.get("visibility");
    r.fail(at ? at : &t, name,
           fmt::format("{} test that is self_reported ({}) gives points the student's code can "
                       "forge unseen; make it a produce_check whose checker re-derives the "
                       "result, or set student_can_forge = true to accept that",
                       spec.visibility == Visibility::Hidden ? "a hidden" : "an after_due_date",
                       spec.kind == TestKind::Pytest ? "pytest runs beside the student's code"
                                                     : "trust = \"self_reported\""));
  }
}

// A key a test of this kind cannot do without.
void require(const Reader& r, const toml::table& t, const std::string& name, const TestSpec& spec,
             const char* key) {
  if (!t.get(key))
    r.fail(&t, name + "." + key,
           fmt::format("missing (required for kind \"{}\")", reports::name(spec.kind)));
}

// A produce_check test: what runs the student's code, and the trusted checker's files.
void parse_produce_check(const Reader& r, const Manifest& m, const toml::table& t,
                         const std::string& name, TestSpec& spec) {
  require(r, t, name, spec, "produce");
  require(r, t, name, spec, "check_files");
  spec.produce = r.relative_path(m.dir, *r.opt_string(t, "produce", name + ".produce"),
                                 t.get("produce"), name + ".produce", false);
  spec.check_files = r.relative_files(m.dir, t, "check_files", name + ".check_files");
  if (spec.check_files.empty())
    r.fail(t.get("check_files"), name + ".check_files", "must not be empty");
  if (auto e = r.opt_string(t, "expected", name + ".expected")) {
    spec.expected = r.relative_path(m.dir, *e, t.get("expected"), name + ".expected", true);
  }
  if (auto b = r.opt_string(t, "measure_baseline", name + ".measure_baseline")) {
    spec.measure_baseline =
        r.relative_path(m.dir, *b, t.get("measure_baseline"), name + ".measure_baseline", true);
  }
}

// [low, high] iteration counts of a perf test (`key`: iterations or warm_iterations).
std::optional<std::pair<int64_t, int64_t>> iteration_counts(const Reader& r, const toml::table& t,
                                                            const std::string& key,
                                                            const std::string& name) {
  const toml::node* n = t.get(key);
  if (!n) return std::nullopt;
  const toml::array* a = n->as_array();
  if (!a || a->size() != 2 || !(*a)[0].is_integer() || !(*a)[1].is_integer()) {
    r.fail(n, name + "." + key, "must be two integers [low, high]");
  }
  std::pair<int64_t, int64_t> counts{*(*a)[0].value<int64_t>(), *(*a)[1].value<int64_t>()};
  if (counts.first < 0 || counts.second <= counts.first) {
    r.fail(n, name + "." + key, "must satisfy 0 <= low < high");
  }
  return counts;
}

// A perf test's runs: the optional trusted check of the student's outputs, the baseline,
// the iterations, pairs and measure.
void parse_perf_runs(const Reader& r, const Manifest& m, const toml::table& t,
                     const std::string& name, TestSpec& spec) {
  // Optional trusted check of the student's outputs (each pair's high-iteration run):
  // without it, code that exits 0 at import would look fast.
  spec.check_files = r.relative_files(m.dir, t, "check_files", name + ".check_files");
  if (auto e = r.opt_string(t, "expected", name + ".expected")) {
    spec.expected = r.relative_path(m.dir, *e, t.get("expected"), name + ".expected", true);
  }
  spec.baseline = r.relative_path(m.dir, *r.opt_string(t, "baseline", name + ".baseline"),
                                  t.get("baseline"), name + ".baseline", true);
  if (auto counts = iteration_counts(r, t, "iterations", name)) spec.iterations = *counts;
  spec.warm_iterations = iteration_counts(r, t, "warm_iterations", name);
  if (spec.warm_iterations && m.preload.empty()) {
    r.fail(t.get("warm_iterations"), name + ".warm_iterations",
           "needs [runtime] preload: without a zygote every run starts cold");
  }
  spec.pairs = r.opt_integer(t, "pairs", name + ".pairs", 1).value_or(3);
  spec.measure = r.opt_word<Measure>(t, "measure", name + ".measure").value_or(Measure::Cpu);
}

// A perf test's scoring: [min_speedup, fraction] best first, and the plausible bound.
void parse_thresholds(const Reader& r, const toml::table& t, const std::string& name,
                      TestSpec& spec) {
  const toml::node* n = t.get("thresholds");
  const toml::array* a = n->as_array();
  if (!a || a->empty())
    r.fail(n, name + ".thresholds", "must be a non-empty array of [min_speedup, fraction]");
  for (const toml::node& item : *a) {
    const toml::array* pair = item.as_array();
    if (!pair || pair->size() != 2 || !(*pair)[0].is_number() || !(*pair)[1].is_number()) {
      r.fail(&item, name + ".thresholds", "each entry must be [min_speedup, fraction]");
    }
    double speedup = *(*pair)[0].value<double>(), fraction = *(*pair)[1].value<double>();
    if (!(speedup > 0) || !(fraction >= 0 && fraction <= 1)) {
      r.fail(&item, name + ".thresholds", "min_speedup must be > 0 and fraction in [0, 1]");
    }
    if (!spec.thresholds.empty() && speedup >= spec.thresholds.back().first) {
      r.fail(&item, name + ".thresholds", "must be sorted best first (decreasing min_speedup)");
    }
    spec.thresholds.emplace_back(speedup, fraction);
  }
  auto bound = r.opt_number(t, "max_plausible_speedup", name + ".max_plausible_speedup", 0);
  spec.max_plausible_speedup = bound.value_or(10 * spec.thresholds.front().first);
  if (spec.max_plausible_speedup <= spec.thresholds.front().first) {
    r.fail(t.get("max_plausible_speedup"), name + ".max_plausible_speedup",
           fmt::format("must be above the top threshold ({}), or full points could never be "
                       "measured",
                       spec.thresholds.front().first));
  }
}

void parse_test(const Reader& r, const Manifest& m, const toml::table& t, int index,
                TestSpec& spec) {
  const std::string at = fmt::format("tests[{}]", index);
  // clang-format off
  r.only_keys(t, at + ".",
              {"id", "name", "visibility", "points", "kind", "files", "args", "scoring", "cases",
               "limits", "seed", "produce", "check_files", "expected", "command", "baseline",
               "iterations", "warm_iterations", "pairs", "measure", "thresholds",
               "max_plausible_speedup", "trust", "student_can_forge", "measure_baseline",
               "case_timeout", "data"});
  // clang-format on
  spec.line = static_cast<int>(t.source().begin.line);
  spec.id = r.string(t, "id", at + ".id", &t);
  if (!std::regex_match(spec.id, kTestIdPattern))
    r.fail(t.get("id"), at + ".id", "must match [A-Za-z0-9_.-]+");
  const std::string name = fmt::format("tests.{}", spec.id);
  spec.name = r.opt_string(t, "name", name + ".name").value_or(spec.id);
  spec.visibility =
      r.opt_word<Visibility>(t, "visibility", name + ".visibility").value_or(Visibility::Hidden);
  auto points = r.opt_number(t, "points", name + ".points", 0);
  if (!points) r.fail(&t, name + ".points", "missing (required)");
  spec.points = *points;
  if (!t.get("kind")) r.fail(&t, name + ".kind", "missing (required)");
  spec.kind = *r.opt_word<TestKind>(t, "kind", name + ".kind");
  spec.files = r.relative_files(m.dir, t, "files", name + ".files");
  spec.data = r.data_files(m.dir, t, "data", name + ".data");
  spec.args = r.strings(t, "args", name + ".args");
  spec.case_timeout = r.opt_number(t, "case_timeout", name + ".case_timeout", 0.1);
  spec.scoring =
      r.opt_word<Scoring>(t, "scoring", name + ".scoring").value_or(Scoring::Proportional);
  spec.cases = r.opt_integer(t, "cases", name + ".cases", 1);
  spec.limits =
      r.limits(r.opt_table(t, "limits", name + ".limits"), name + ".limits").over(m.limits);
  spec.seed = r.opt_integer(t, "seed", name + ".seed", 0).value_or(0);

  if (spec.kind == TestKind::Pytest) {
    if (spec.files.empty()) r.fail(&t, name + ".files", "a pytest test needs at least one file");
  } else if (spec.kind == TestKind::ProduceCheck) {
    parse_produce_check(r, m, t, name, spec);
  } else {  // perf, command
    require(r, t, name, spec, "command");
    spec.command = r.strings(t, "command", name + ".command");
    if (spec.command.empty()) r.fail(t.get("command"), name + ".command", "must not be empty");
    if (spec.kind == TestKind::Perf) {
      require(r, t, name, spec, "baseline");
      require(r, t, name, spec, "thresholds");
      parse_perf_runs(r, m, t, name, spec);
      parse_thresholds(r, t, name, spec);
    }
  }
  if (t.get("measure_baseline") && spec.kind != TestKind::ProduceCheck)
    r.fail(t.get("measure_baseline"), name + ".measure_baseline",
           "only for kind \"produce_check\"");
  for (const char* key : {"max_plausible_speedup", "warm_iterations"}) {
    if (spec.kind != TestKind::Perf && t.get(key))
      r.fail(t.get(key), name + "." + key, "only a perf test has it");
  }
  parse_trust(r, t, name, spec);
}

}  // namespace

Trust default_trust(TestKind kind) {
  if (kind == TestKind::Pytest) return Trust::SelfReported;
  if (kind == TestKind::ProduceCheck) return Trust::Outputs;
  return Trust::Measured;  // perf, command
}

Trust trust_of(const TestSpec& t) { return t.trust.value_or(default_trust(t.kind)); }

void scale_time_limits(Manifest& m, double factor) {
  m.limits = m.limits.time_scaled(factor);
  if (m.build) m.build->limits = m.build->limits.time_scaled(factor);
  for (TestSpec& t : m.tests) t.limits = t.limits.time_scaled(factor);
}

std::optional<uint64_t> parse_size(const std::string& text) {
  try {
    return sandbox::parse_size(text);
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

namespace {

bool is_leap_year(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : kDays[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

constexpr const char* kMonthNames[] = {"January",   "February", "March",    "April",
                                       "May",       "June",     "July",     "August",
                                       "September", "October",  "November", "December"};

}  // namespace

std::optional<int64_t> parse_rfc3339(const std::string& text, std::string* problem) {
  auto fail = [&](std::string why) -> std::optional<int64_t> {
    if (problem) *problem = std::move(why);
    return std::nullopt;
  };
  const std::string shape =
      "not an RFC 3339 date-time with an offset, e.g. 2026-10-02T23:59:00-04:00 or "
      "2026-10-03T03:59:00Z";
  if (text.size() > 64) return fail(shape);
  size_t i = 0;
  auto number = [&](size_t digits, int* out) {
    if (i + digits > text.size()) return false;
    int value = 0;
    for (size_t k = 0; k < digits; ++k) {
      char c = text[i + k];
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
    }
    i += digits;
    *out = value;
    return true;
  };
  auto literal = [&](std::string_view options) {
    if (i >= text.size() || options.find(text[i]) == std::string_view::npos) return false;
    ++i;
    return true;
  };
  int year, month, day, hour, minute, second, offset_hours = 0, offset_minutes = 0;
  if (!number(4, &year) || !literal("-") || !number(2, &month) || !literal("-") ||
      !number(2, &day) || !literal("Tt ") || !number(2, &hour) || !literal(":") ||
      !number(2, &minute) || !literal(":") || !number(2, &second))
    return fail(shape);
  if (literal(".")) {
    size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++digits;
    if (digits == 0) return fail(shape);  // fractions of a second are allowed, and dropped
  }
  int sign = 0;
  if (literal("Zz")) {
  } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    sign = text[i++] == '+' ? 1 : -1;
    if (!number(2, &offset_hours) || !literal(":") || !number(2, &offset_minutes))
      return fail(shape);
  } else {
    return fail(shape);
  }
  if (i != text.size()) return fail(shape);
  if (month < 1 || month > 12) return fail(fmt::format("month {:02} does not exist", month));
  if (day < 1 || day > days_in_month(year, month))
    return fail(fmt::format("day {:02} does not exist in {} {}{}", day, kMonthNames[month - 1],
                            year, month == 2 && day == 29 ? " (not a leap year)" : ""));
  if (hour > 23) return fail(fmt::format("hour {:02} does not exist (00-23)", hour));
  if (minute > 59) return fail(fmt::format("minute {:02} does not exist (00-59)", minute));
  if (second == 60)
    return fail("second 60 (a leap second) is not accepted: give 59 or the next minute");
  if (second > 59) return fail(fmt::format("second {:02} does not exist (00-59)", second));
  if (offset_hours > 23 || offset_minutes > 59)
    return fail(fmt::format("offset {}{:02}:{:02} is outside -23:59..+23:59", sign > 0 ? '+' : '-',
                            offset_hours, offset_minutes));
  int64_t epoch = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  epoch -= sign * (offset_hours * 3600 + offset_minutes * 60);  // local = UTC + offset
  // 0000-01-01T00:00:00+23:19 is in the year -1 in UTC, which no RFC 3339 time can name
  // (found by fuzz/rfc3339.cc): the instant itself must lie in the years 0000-9999.
  const int64_t first = days_from_civil(0, 1, 1) * 86400,
                last = days_from_civil(10000, 1, 1) * 86400 - 1;
  if (epoch < first || epoch > last) return fail("outside the years 0000-9999 once in UTC");
  return epoch;
}

std::string format_rfc3339(int64_t epoch_seconds) {
  std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  // Four-digit years, as parse_rfc3339 reads them (strftime's %Y writes 985, not 0985).
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

LateRule late_rule(const Manifest& m) {
  LateRule rule{m.due_epoch, m.late_percent_per_day, std::nullopt};
  if (m.late_max_days) rule.max_days = static_cast<double>(*m.late_max_days);
  return rule;
}

int64_t late_days(const Manifest& m, std::optional<int64_t> submitted,
                  std::optional<double> extension_days) {
  return late_days(late_rule(m), submitted, extension_days);
}

double late_penalty(const Manifest& m, int64_t days, double raw) {
  const LateRule rule = late_rule(m);
  if (days <= 0) return 0;
  if (rule.max_days && static_cast<double>(days) > *rule.max_days) return raw;
  return std::round(raw * late_penalty_percent(rule, days) / 100.0 * 1e4) / 1e4;
}

namespace {

// id (the folder's name), title, version and points.
void read_identity(const Reader& r, const toml::table& root, Manifest& m) {
  m.id = r.string(root, "id", "id", nullptr);
  if (!std::regex_match(m.id, kIdPattern)) r.fail(root.get("id"), "id", "must match [a-z0-9_-]+");
  std::string folder = fs::absolute(m.dir).lexically_normal().filename().string();
  if (folder.empty())
    folder = fs::absolute(m.dir).lexically_normal().parent_path().filename().string();
  if (m.id != folder)
    r.fail(root.get("id"), "id",
           fmt::format("\"{}\" must equal the folder name \"{}\"", m.id, folder));
  m.title = r.string(root, "title", "title", nullptr);
  m.version = r.string(root, "version", "version", nullptr);
  auto points = r.opt_number(root, "points", "points", 0);
  if (!points) r.fail(nullptr, "points", "missing (required)");
  m.points = *points;
}

// [gradescope]: what Gradescope calls our hidden tests.
void read_gradescope(const Reader& r, const toml::table& root, Manifest& m) {
  if (const toml::table* gs = r.opt_table(root, "gradescope", "gradescope")) {
    r.only_keys(*gs, "gradescope.", {"hidden_visibility"});
    if (auto v = r.opt_string(*gs, "hidden_visibility", "gradescope.hidden_visibility")) {
      if (*v != "after_published" && *v != "after_due_date")
        r.fail(gs->get("hidden_visibility"), "gradescope.hidden_visibility",
               "must be \"after_published\" or \"after_due_date\" (Gradescope's \"hidden\" is "
               "for tests without points: with points it would show students a total that "
               "includes the hidden tests)");
      m.gradescope_hidden_visibility = *v;
    }
  }
}

// [due]: the date and the late rule.
void read_due(const Reader& r, const toml::table& root, Manifest& m) {
  if (const toml::table* due = r.opt_table(root, "due", "due")) {
    r.only_keys(*due, "due.", {"date", "late_percent_per_day", "late_max_days"});
    if (const toml::node* n = due->get("date")) {
      std::optional<int64_t> epoch;
      std::string problem;
      if (n->is_string()) {
        m.due_date = *n->value<std::string>();
        epoch = parse_rfc3339(*m.due_date, &problem);
      } else if (const auto* dt = n->as_date_time(); dt && dt->get().offset) {
        std::ostringstream text;
        text << dt->get();
        m.due_date = text.str();
        epoch = parse_rfc3339(*m.due_date, &problem);
      }
      if (!epoch)
        r.fail(n, "due.date",
               problem.empty() || problem.rfind("not an RFC 3339", 0) == 0
                   ? "must be an RFC 3339 date-time with an offset, e.g. "
                     "\"2026-10-02T23:59:00-04:00\""
                   : fmt::format("\"{}\": {}", *m.due_date, problem));
      m.due_epoch = epoch;
    }
    m.late_percent_per_day =
        r.opt_number(*due, "late_percent_per_day", "due.late_percent_per_day", 0).value_or(0);
    if (m.late_percent_per_day > 100)
      r.fail(due->get("late_percent_per_day"), "due.late_percent_per_day", "must be at most 100");
    m.late_max_days = r.opt_integer(*due, "late_max_days", "due.late_max_days", 0);
  }
}

// [submission]: the files a submission must, and may, hold.
void read_submission(const Reader& r, const toml::table& root, Manifest& m) {
  if (const toml::table* sub = r.opt_table(root, "submission", "submission")) {
    r.only_keys(*sub, "submission.", {"required", "allowed", "max_bytes", "max_files"});
    m.required = r.strings(*sub, "required", "submission.required");
    for (const auto& name : m.required) {
      fs::path p(name);
      bool bad = name.empty() || p.is_absolute();
      for (const auto& part : p) bad = bad || part == "..";
      if (bad)
        r.fail(sub->get("required"), "submission.required",
               fmt::format("'{}' must be a relative path", name));
    }
    m.allowed = r.strings(*sub, "allowed", "submission.allowed");
    m.max_bytes = r.opt_size(*sub, "max_bytes", "submission.max_bytes").value_or(m.max_bytes);
    if (auto n = r.opt_integer(*sub, "max_files", "submission.max_files", 1))
      m.max_files = static_cast<uint64_t>(*n);
  }
  if (m.allowed.empty()) m.allowed = {"*"};
}

// [runtime]: the interpreter, its environment, preloads and default limits.
void read_runtime(const Reader& r, const toml::table& root, Manifest& m) {
  if (const toml::table* rt = r.opt_table(root, "runtime", "runtime")) {
    r.only_keys(*rt, "runtime.", {"python", "env", "preload", "limits"});
    m.preload = r.strings(*rt, "preload", "runtime.preload");
    for (const auto& module : m.preload) {
      static const std::regex dotted("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*");
      if (!std::regex_match(module, dotted))
        r.fail(rt->get("preload"), "runtime.preload",
               fmt::format("'{}' is not a module name", module));
    }
    m.python = r.opt_string(*rt, "python", "runtime.python").value_or(m.python);
    if (!fs::path(m.python).is_absolute())
      r.fail(rt->get("python"), "runtime.python", "must be an absolute path");
    if (const toml::table* env = r.opt_table(*rt, "env", "runtime.env")) {
      for (auto&& [key, value] : *env) {
        std::string name = "runtime.env." + std::string(key.str());
        if (!value.is_string()) r.fail(&value, name, "must be a string");
        m.env[std::string(key.str())] = *value.value<std::string>();
      }
    }
    m.limits = r.limits(r.opt_table(*rt, "limits", "runtime.limits"), "runtime.limits");
  }
}

// [build]: the optional build step.
void read_build(const Reader& r, const toml::table& root, Manifest& m) {
  if (const toml::table* b = r.opt_table(root, "build", "build")) {
    r.only_keys(*b, "build.", {"command", "files", "limits"});
    BuildSpec build;
    build.command = r.strings(*b, "command", "build.command");
    if (build.command.empty()) r.fail(b, "build.command", "missing or empty");
    build.files = r.relative_files(m.dir, *b, "files", "build.files");
    build.limits =
        r.limits(r.opt_table(*b, "limits", "build.limits"), "build.limits").over(m.limits);
    m.build = build;
  }
}

// [[tests]]: at least one, ids unique, points adding up to the total.
void read_tests(const Reader& r, const toml::table& root, Manifest& m) {
  const toml::node* tests = root.get("tests");
  if (!tests) r.fail(nullptr, "tests", "missing: a manifest needs at least one [[tests]]");
  const toml::array* list = tests->as_array();
  if (!list || list->empty())
    r.fail(tests, "tests", "must be a non-empty array of tables ([[tests]])");
  std::set<std::string> ids;
  double sum = 0;
  int index = 0;
  for (const toml::node& item : *list) {
    const toml::table* t = item.as_table();
    if (!t) r.fail(&item, fmt::format("tests[{}]", index), "must be a table");
    TestSpec spec;
    parse_test(r, m, *t, index, spec);
    if (!ids.insert(spec.id).second)
      r.fail(t->get("id"), fmt::format("tests[{}].id", index),
             fmt::format("duplicate id \"{}\"", spec.id));
    sum += spec.points;
    m.tests.push_back(std::move(spec));
    ++index;
  }
  if (std::abs(sum - m.points) > 1e-6) {
    r.fail(root.get("points"), "points",
           fmt::format("is {} but the tests' points add up to {}", m.points, sum));
  }
}

}  // namespace

Manifest load_manifest(const fs::path& dir) {
  Manifest m;
  m.dir = dir;
  m.file = dir / "assignment.toml";
  Reader r(m.file);
  if (!fs::is_regular_file(m.file)) {
    throw ManifestError(fmt::format("{}: no such file (is {} an assignment folder?)",
                                    m.file.string(), dir.string()));
  }
  toml::table root;
  try {
    root = toml::parse_file(m.file.string());
  } catch (const toml::parse_error& e) {
    throw ManifestError(
        fmt::format("{}:{}: {}", m.file.string(), e.source().begin.line, e.description()));
  }
  r.only_keys(root, "",
              {"id", "title", "version", "points", "due", "submission", "runtime", "build", "tests",
               "gradescope"});

  for (auto read : {read_identity, read_gradescope, read_due, read_submission, read_runtime,
                    read_build, read_tests})
    read(r, root, m);
  return m;
}

}  // namespace grader
