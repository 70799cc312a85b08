"""The dock panels of the plan: annotation list, properties, warnings, image and checklist."""
