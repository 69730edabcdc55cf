"""The household register (sổ hộ gia đình) of each residential group."""
