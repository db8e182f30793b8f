"""bettercare.api layer."""
