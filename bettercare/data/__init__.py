"""bettercare.data layer."""
