"""bettercare.cli layer."""
