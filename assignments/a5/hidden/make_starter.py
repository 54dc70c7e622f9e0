"""Regenerates the starter files handout/*.py from solution/*.py: the bodies of the functions in
TODO become `raise NotImplementedError` (docstrings stay). Run from assignments/a5:
    /usr/bin/python3 hidden/make_starter.py solution handout"""
import ast, sys
TODO = {
  "gpt.py": ["KVCache.attend", "generate"],
  "allocator.py": ["BlockAllocator.__init__", "BlockAllocator.num_free", "BlockAllocator.allocate", "BlockAllocator.free",
                   "BlockManager.num_tokens", "BlockManager.block_table", "BlockManager.blocks_needed",
                   "BlockManager.can_append", "BlockManager.append", "BlockManager.free"],
  "paged.py": ["PagedKVCache.write", "paged_attention"],
  "scheduler.py": ["Scheduler._preempt", "Scheduler.schedule", "Scheduler.update"],
  "engine.py": ["Engine.step"],
  "quant.py": ["quantize_per_channel", "Int8Linear.__init__", "Int8Linear.forward", "quantize_model"],
}
src_dir, dst_dir = sys.argv[1], sys.argv[2]
for fname, names in TODO.items():
    src = open(f"{src_dir}/{fname}").read()
    lines = src.split("\n")
    tree = ast.parse(src)
    edits = []
    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.ClassDef)):
                q = prefix + child.name
                if isinstance(child, ast.FunctionDef) and q in names:
                    body = child.body
                    first = body[0]
                    has_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)
                    start = (first.end_lineno if has_doc else first.lineno - 1)  # 0-based index of first removed line
                    end = child.end_lineno
                    indent = " " * first.col_offset
                    edits.append((start, end, indent + 'raise NotImplementedError("TODO: ' + q + '")'))
                visit(child, q + ".")
    visit(tree, "")
    for start, end, repl in sorted(edits, reverse=True):
        lines[start:end] = [repl]
    open(f"{dst_dir}/{fname}", "w").write("\n".join(lines))
    print(fname, len(edits), "of", len(names))
