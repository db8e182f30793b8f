"""bettercare.domain layer."""
