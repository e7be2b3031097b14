import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # tests/stats.py
sys.path.insert(0, str(HERE.parent))  # bench.live: the live-app helpers shared with the benchmarks
