import sys
from pathlib import Path

# labkit and friends are plain helper modules beside the tests
sys.path.insert(0, str(Path(__file__).parent))
