"""The commune's structure: communes, residential groups, households, units."""
