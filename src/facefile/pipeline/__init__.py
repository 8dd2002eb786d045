"""The scan pipeline: files -> pixels -> faces -> the store, by local worker processes or Ray."""
from facefile.pipeline.scan import AfterFiles, run_scan
from facefile.pipeline.scan_config import ScanConfig
from facefile.pipeline.watch import watch_folder
from facefile.pipeline.workers import FileTask, ScanProgress

__all__ = ["AfterFiles", "FileTask", "ScanConfig", "ScanProgress", "run_scan", "watch_folder"]
