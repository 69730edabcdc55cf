"""Residents proposing a matter for their residential group to decide
(Luật Thực hiện dân chủ ở cơ sở, Điều 16; NĐ 61/2023/NĐ-CP Điều 7 khoản 2 điểm c)."""
