"""Administration pages: communes, residential groups, units, staff, audit."""
