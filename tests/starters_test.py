#!/usr/bin/python3
"""scripts/make-starter: every bundled handout is up to date, and the marker grammar (table tests).
Run: /usr/bin/python3 tests/starters_test.py"""
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "scripts" / "make-starter"
BUNDLED = ["assignments/a1", "assignments/a2", "assignments/a3", "assignments/a4",
           "assignments/a5", "templates/assignment"]


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, str(TOOL), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60)


class Bundled(unittest.TestCase):
    def test_tool_runs_by_its_shebang(self):
        r = subprocess.run([str(TOOL), "--help"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("--check", r.stdout)

    def test_every_handout_is_up_to_date(self):
        r = run("--check", *BUNDLED)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_every_bundled_solution_has_markers(self):
        # A solution without markers would be copied whole: the check above could not tell.
        for assignment in BUNDLED:
            for f in (ROOT / assignment / "solution").iterdir():
                self.assertIn("starter: solution-only", f.read_text(), f)


class Grammar(unittest.TestCase):
    """Each case: solution files in, generated handout files (or an error) out."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name) / "a9"
        (self.dir / "solution").mkdir(parents=True)
        (self.dir / "handout").mkdir()

    def tearDown(self):
        self.tmp.cleanup()

    def generate(self, name, text):
        (self.dir / "solution" / name).write_text(text)
        r = run(str(self.dir))
        out = self.dir / "handout" / name
        return r, (out.read_text() if out.is_file() else None)

    def test_solution_only_block_is_dropped(self):
        sol = "a = 1\n# starter: solution-only\nb = 2\n# starter: end\nc = 3\n"
        r, out = self.generate("m.py", sol)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(out, "a = 1\nc = 3\n")

    def test_instead_lines_are_uncommented_keeping_indentation(self):
        sol = ("def f(x):\n"
               "    # starter: solution-only\n"
               "    return x\n"
               "    # starter: instead\n"
               "    # if x:\n"
               "    #     raise NotImplementedError(\"TODO\")\n"
               "    #\n"
               "    # # TODO\n"
               "    # starter: end\n")
        r, out = self.generate("m.py", sol)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(out, "def f(x):\n    if x:\n        raise NotImplementedError(\"TODO\")\n"
                              "\n    # TODO\n")

    def test_cpp_uses_slashes_and_keeps_preprocessor_lines(self):
        sol = ("#include <vector>\n"
               "int f() {\n"
               "  // starter: solution-only\n"
               "#pragma omp simd\n"
               "  return 1;\n"
               "  // starter: instead\n"
               "  // return -1;  // TODO\n"
               "  // starter: end\n"
               "}\n")
        r, out = self.generate("k.cpp", sol)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(out, "#include <vector>\nint f() {\n  return -1;  // TODO\n}\n")

    def test_hash_marker_in_cpp_is_plain_text(self):
        # `#` is not C++'s comment prefix: such a line is code (here: kept), not a marker.
        r, out = self.generate("k.h", "# starter: solution-only\nint x;\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(out, "# starter: solution-only\nint x;\n")

    def test_file_without_markers_and_other_types_are_copied(self):
        r, out = self.generate("data.txt", "starter code: not a marker\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(out, "starter code: not a marker\n")

    def assert_error(self, name, text, where, words):
        r, out = self.generate(name, text)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(f"solution/{name}:{where}:", r.stderr)
        self.assertIn(words, r.stderr)
        self.assertIsNone(out, "nothing is written on an error")

    def test_errors_name_file_and_line(self):
        cases = [
            ("nested", "# starter: solution-only\n# starter: solution-only\n# starter: end\n",
             2, "inside the block opened at line 1"),
            ("unclosed", "x = 1\n# starter: solution-only\ny = 2\n", 2, "has no 'starter: end'"),
            ("end outside", "x = 1\n# starter: end\n", 2, "outside a block"),
            ("instead outside", "# starter: instead\n", 1, "outside a block"),
            ("two insteads", "# starter: solution-only\n# starter: instead\n# starter: instead\n"
             "# starter: end\n", 3, "a second 'starter: instead'"),
            ("unknown word", "x = 1\n\n#  starter: solution_only\n", 3,
             "unknown marker 'starter: solution_only'"),
            ("uncommented instead line", "# starter: solution-only\n# starter: instead\nx = 1\n"
             "# starter: end\n", 3, "must start with '# '"),
            ("marker into the starter", "# starter: solution-only\n# starter: instead\n"
             "# # starter: end\n# starter: end\n", 3, "would put a marker into the starter"),
        ]
        for label, text, line, words in cases:
            with self.subTest(label):
                self.assert_error("m.py", text, line, words)

    def test_marker_in_unsupported_type_is_an_error(self):
        self.assert_error("notes.md", "text\n<!-- starter: solution-only -->\n", 2,
                          "file type without markers")


class Check(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name) / "a9"
        for sub in ("solution", "handout"):
            (self.dir / sub).mkdir(parents=True)
        (self.dir / "solution" / "m.py").write_text(
            "# starter: solution-only\nx = 1\n# starter: instead\n# x = None\n# starter: end\n")
        (self.dir / "solution" / "n.py").write_text("y = 2\n")
        (self.dir / "handout" / "README.md").write_text("not generated: never checked\n")

    def tearDown(self):
        self.tmp.cleanup()

    def test_check_names_stale_and_missing_files_and_writes_nothing(self):
        (self.dir / "handout" / "m.py").write_text("x = 0\n")
        r = run("--check", str(self.dir))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("handout/m.py: out of date", r.stdout)
        self.assertIn("-x = 0", r.stdout)
        self.assertIn("+x = None", r.stdout)
        self.assertIn("handout/n.py: missing", r.stdout)
        self.assertNotIn("README.md", r.stdout)
        self.assertEqual((self.dir / "handout" / "m.py").read_text(), "x = 0\n")
        self.assertFalse((self.dir / "handout" / "n.py").exists())

    def test_generate_then_check_is_clean(self):
        self.assertEqual(run(str(self.dir)).returncode, 0)
        self.assertEqual((self.dir / "handout" / "m.py").read_text(), "x = None\n")
        r = run("--check", str(self.dir))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "")


if __name__ == "__main__":
    unittest.main()
