"""bettercare.reporting layer."""
