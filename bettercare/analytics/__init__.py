"""bettercare.analytics layer."""
