"""The synthesis-and-response report (báo cáo tổng hợp, tiếp thu, giải trình ý kiến)."""
