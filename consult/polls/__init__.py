"""Residents deciding: household votes by meeting, paper ballot or online
(Luật Thực hiện dân chủ ở cơ sở, Điều 15 to 23; Nghị định 59/2023/NĐ-CP, Điều 3 to 5)."""
